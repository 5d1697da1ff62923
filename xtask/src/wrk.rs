//! Driving `wrk` (the load generator) and reading what it reports, for
//! every load test.

use anyhow::{Context as _, anyhow};
use std::process::Command;

use crate::Result;
use crate::service::Server;

/// One passenger, as the dataset has them.
pub const PASSENGER: &str = r#"{"pclass": 1, "name": "Allen, Miss. Elisabeth Walton", "sex": "female", "age": 29, "sibsp": 0, "parch": 0, "ticket": "24160", "fare": 211.3375, "cabin": "B5", "embarked": "S", "boat": "2", "body": null, "home.dest": "St Louis, MO"}"#;

/// How hard and how long wrk drives a scenario.
#[derive(Debug, Clone, clap::Args)]
pub struct WrkArgs {
    /// Seconds per scenario.
    #[arg(long, default_value_t = 10)]
    pub duration: u64,
    /// Open connections.
    #[arg(long, default_value_t = 32)]
    pub connections: u64,
    /// wrk threads.
    #[arg(long, default_value_t = 2)]
    pub threads: u64,
}

/// How `wrk` is run.
pub(crate) struct Wrk {
    pub(crate) dir: std::path::PathBuf,
    pub(crate) threads: u64,
    pub(crate) connections: u64,
    pub(crate) duration: u64,
}

impl Wrk {
    /// wrk as `args` say, writing its scripts to `dir`.
    pub(crate) fn new(args: &WrkArgs, dir: std::path::PathBuf) -> Result<Self> {
        Ok(Wrk {
            dir,
            threads: args.threads,
            connections: args.connections,
            duration: args.duration,
        })
    }

    /// `GET /` on the bare warp handler, started and stopped around the run.
    pub(crate) fn measure_bare(&self, binary: &std::path::Path) -> Result<WrkResult> {
        let bare = Server::start_binary(binary, &self.dir, "bare_warp")?;
        let result = self.run(&format!("http://{}", bare.addr), "/", None);
        bare.stop()?;
        result
    }

    /// One scenario: `path` under load, POSTing `records` passengers if set.
    pub(crate) fn run(&self, url: &str, path: &str, records: Option<usize>) -> Result<WrkResult> {
        let body = records.map(|n| Body {
            name: format!("predict_{n}"),
            content_type: "application/json",
            bytes: format!(r#"{{"inputs": [{}]}}"#, vec![PASSENGER; n].join(", ")).into_bytes(),
            header_length: None,
        });
        self.run_body(url, path, body.as_ref())
    }

    /// One scenario: `path` under load, POSTing `body` if set (read from a
    /// file by the wrk script, so that binary bodies arrive intact).
    pub(crate) fn run_body(&self, url: &str, path: &str, body: Option<&Body>) -> Result<WrkResult> {
        let mut cmd = Command::new("wrk");
        cmd.args([
            "--latency",
            "-t",
            &self.threads.to_string(),
            "-c",
            &self.connections.to_string(),
        ])
        .args(["-d", &format!("{}s", self.duration), "--timeout", "5s"]);
        if let Some(body) = body {
            let data = self.dir.join(format!("{}.body", body.name));
            std::fs::write(&data, &body.bytes).with_context(|| data.display().to_string())?;
            let script = self.dir.join(format!("{}.lua", body.name));
            let mut lua = format!(
                "wrk.method = \"POST\"\nwrk.headers[\"Content-Type\"] = \"{}\"\n",
                body.content_type
            );
            if let Some(n) = body.header_length {
                lua.push_str(&format!(
                    "wrk.headers[\"Inference-Header-Content-Length\"] = \"{n}\"\n"
                ));
            }
            lua.push_str(&format!(
                "local f = assert(io.open({:?}, \"rb\"))\nwrk.body = f:read(\"*a\")\nf:close()\n",
                data.display().to_string()
            ));
            std::fs::write(&script, lua).with_context(|| script.display().to_string())?;
            cmd.arg("-s").arg(&script);
        }
        let out = cmd
            .arg(format!("{url}{path}"))
            .output()
            .map_err(|e| anyhow!("wrk: {e}"))?;
        let text = String::from_utf8_lossy(&out.stdout);
        if !out.status.success() {
            return Err(anyhow!(
                "wrk failed: {text}{}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        println!("{url}{path}:\n{text}");
        WrkResult::parse(&text)
    }
}

/// A request body for a scenario.
pub struct Body {
    /// Names the files written for it.
    pub name: String,
    /// Its `Content-Type`.
    pub content_type: &'static str,
    /// The bytes.
    pub bytes: Vec<u8>,
    /// `Inference-Header-Content-Length`, for a body with binary tensors.
    pub header_length: Option<usize>,
}

/// What `wrk --latency` reports.
#[derive(Debug, PartialEq)]
pub(crate) struct WrkResult {
    pub(crate) requests_per_sec: f64,
    pub(crate) p50: String,
    pub(crate) p99: String,
    /// The slowest request.
    pub(crate) max: String,
    pub(crate) errors: u64,
}

impl WrkResult {
    /// A report row, with the ratio to `base` requests/s.
    pub(crate) fn row(&self, name: &str, base: f64) -> String {
        format!(
            "| {name} | {:.0} | {:.2} | {} | {} | {} |\n",
            self.requests_per_sec,
            self.requests_per_sec / base,
            self.p50,
            self.p99,
            self.errors
        )
    }

    fn parse(text: &str) -> Result<Self> {
        let field = |prefix: &str| {
            text.lines()
                .map(str::trim)
                .find_map(|l| l.strip_prefix(prefix))
                .map(|v| v.split_whitespace().next().unwrap_or_default().to_owned())
        };
        let requests_per_sec = field("Requests/sec:")
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| anyhow!("no Requests/sec in wrk's output:\n{text}"))?;
        let non_2xx: u64 = field("Non-2xx or 3xx responses:")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let socket: u64 = text
            .lines()
            .map(str::trim)
            .find_map(|l| l.strip_prefix("Socket errors:"))
            .map(|v| {
                v.split(',')
                    .filter_map(|p| p.split_whitespace().last()?.parse::<u64>().ok())
                    .sum()
            })
            .unwrap_or(0);
        let max = text
            .lines()
            .map(str::trim)
            .find_map(|l| l.strip_prefix("Latency"))
            .and_then(|v| v.split_whitespace().nth(2))
            .unwrap_or_default()
            .to_owned();
        Ok(WrkResult {
            requests_per_sec,
            p50: field("50%").unwrap_or_default(),
            p99: field("99%").unwrap_or_default(),
            max,
            errors: non_2xx + socket,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_wrk_output() {
        let text = "Running 1s test @ http://127.0.0.1:1/health
  2 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   251.00us  100.00us   2.00ms   90.00%
  Latency Distribution
     50%  230.00us
     75%  280.00us
     90%  350.00us
     99%  600.00us
  120000 requests in 1.00s, 20.00MB read
  Socket errors: connect 0, read 2, write 1, timeout 0
  Non-2xx or 3xx responses: 3
Requests/sec: 120000.50
Transfer/sec:     20.00MB
";
        let r = WrkResult::parse(text).unwrap();
        assert_eq!(
            r,
            WrkResult {
                requests_per_sec: 120000.5,
                p50: "230.00us".into(),
                p99: "600.00us".into(),
                max: "2.00ms".into(),
                errors: 6
            }
        );
        assert!(WrkResult::parse("garbage").is_err());
    }
}
