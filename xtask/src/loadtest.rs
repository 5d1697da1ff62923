//! `cargo xtask loadtest`: the API in release mode on 127.0.0.1 under `wrk`.

use std::process::Command;

use crate::service::{Server, build_bare_warp, build_release};
use crate::{Options, Result, root};

/// One passenger, as the dataset has them.
const PASSENGER: &str = r#"{"pclass": 1, "name": "Allen, Miss. Elisabeth Walton", "sex": "female", "age": 29, "sibsp": 0, "parch": 0, "ticket": "24160", "fare": 211.3375, "cabin": "B5", "embarked": "S", "boat": "2", "body": null, "home.dest": "St Louis, MO"}"#;

pub fn run(args: &[String]) -> Result<()> {
    let o = Options::parse(args, &["--duration", "--connections", "--threads"], &[])?;
    let number = |name: &str, default: u64| -> Result<u64> {
        o.get(name).map_or(Ok(default), |v| {
            v.parse()
                .map_err(|_| format!("{name}: {v:?} is not a whole number"))
        })
    };
    let duration = number("--duration", 10)?;
    let connections = number("--connections", 32)?;
    let threads = number("--threads", 2)?;
    if Command::new("wrk").arg("--version").output().is_err() {
        return Err(
            "wrk is not installed: `apt-get install wrk` (Debian/Ubuntu) or `brew install wrk`"
                .into(),
        );
    }
    build_release()?;
    let bare = build_bare_warp()?;
    let dir = root().join("target/loadtest");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let wrk = Wrk {
        dir: dir.clone(),
        threads,
        connections,
        duration,
    };

    // the floor (a bare warp handler) before and after the service, so that
    // the machine's drift shows and the ratios use their mean
    let mut floor = Vec::new();
    let mut report = String::from(
        "| scenario | requests/s | ratio to the bare handler | p50 | p99 | errors |\n|---|---|---|---|---|---|\n",
    );
    let mut rows = Vec::new();
    floor.push(wrk.measure_bare(&bare)?);
    let server = Server::start(&dir)?;
    let cold_start = server.cold_start;
    let url = format!("http://{}", server.addr);
    for (name, path, records) in [
        ("GET /health", "/health", None),
        ("POST /predict, 1 record", "/predict", Some(1)),
        ("POST /predict, 100 records", "/predict", Some(100)),
    ] {
        rows.push((name, wrk.run(&url, path, records)?));
    }
    let (_, peak_rss_kib) = server.rss_kib()?;
    let exit = server.stop()?;
    floor.push(wrk.measure_bare(&bare)?);
    let base = (floor[0].requests_per_sec + floor[1].requests_per_sec) / 2.0;
    for (i, r) in floor.iter().enumerate() {
        let name = ["bare warp, before", "bare warp, after"][i];
        report.push_str(&r.row(name, base));
    }
    for (name, r) in &rows {
        report.push_str(&r.row(name, base));
    }
    report.push_str(&format!(
        "\nthe bare handler's mean: {base:.0} requests/s; `/health` at {:.2}x, one-record `/predict` at {:.2}x\n\
         cold start (exec to first 200 from /health): {:.1} ms; peak RSS of the server: {:.1} MB\n\
         server exit on SIGTERM: {exit}\n",
        rows[0].1.requests_per_sec / base,
        rows[1].1.requests_per_sec / base,
        cold_start.as_secs_f64() * 1000.0,
        peak_rss_kib as f64 / 1024.0
    ));
    if !exit.success() {
        return Err(format!("the server did not exit cleanly: {exit}\n{report}"));
    }
    println!("{report}");
    let path = dir.join("report.md");
    std::fs::write(&path, &report).map_err(|e| format!("{}: {e}", path.display()))?;
    println!("(written to {})", path.display());
    Ok(())
}

/// How `wrk` is run.
struct Wrk {
    dir: std::path::PathBuf,
    threads: u64,
    connections: u64,
    duration: u64,
}

impl Wrk {
    /// `GET /` on the bare warp handler, started and stopped around the run.
    fn measure_bare(&self, binary: &std::path::Path) -> Result<WrkResult> {
        let bare = Server::start_binary(binary, &self.dir, "bare_warp")?;
        let result = self.run(&format!("http://{}", bare.addr), "/", None);
        bare.stop()?;
        result
    }

    /// One scenario: `path` under load, POSTing `records` passengers if set.
    fn run(&self, url: &str, path: &str, records: Option<usize>) -> Result<WrkResult> {
        let mut cmd = Command::new("wrk");
        cmd.args([
            "--latency",
            "-t",
            &self.threads.to_string(),
            "-c",
            &self.connections.to_string(),
        ])
        .args(["-d", &format!("{}s", self.duration), "--timeout", "5s"]);
        if let Some(n) = records {
            let script = self.dir.join(format!("predict_{n}.lua"));
            let body = format!(r#"{{"inputs": [{}]}}"#, vec![PASSENGER; n].join(", "));
            let lua = format!(
                "wrk.method = \"POST\"\nwrk.headers[\"Content-Type\"] = \"application/json\"\nwrk.body = [==[{body}]==]\n"
            );
            std::fs::write(&script, lua).map_err(|e| format!("{}: {e}", script.display()))?;
            cmd.arg("-s").arg(&script);
        }
        let out = cmd
            .arg(format!("{url}{path}"))
            .output()
            .map_err(|e| format!("wrk: {e}"))?;
        let text = String::from_utf8_lossy(&out.stdout);
        if !out.status.success() {
            return Err(format!(
                "wrk failed: {text}{}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        println!("{url}{path}:\n{text}");
        WrkResult::parse(&text)
    }
}

/// What `wrk --latency` reports.
#[derive(Debug, PartialEq)]
struct WrkResult {
    requests_per_sec: f64,
    p50: String,
    p99: String,
    errors: u64,
}

impl WrkResult {
    /// A report row, with the ratio to `base` requests/s.
    fn row(&self, name: &str, base: f64) -> String {
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
            .ok_or_else(|| format!("no Requests/sec in wrk's output:\n{text}"))?;
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
        Ok(WrkResult {
            requests_per_sec,
            p50: field("50%").unwrap_or_default(),
            p99: field("99%").unwrap_or_default(),
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
                errors: 6
            }
        );
        assert!(WrkResult::parse("garbage").is_err());
    }
}
