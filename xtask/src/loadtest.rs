//! `cargo xtask loadtest`: the API in release mode on 127.0.0.1 under `wrk`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

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
    build()?;
    let dir = root().join("target/loadtest");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;

    let server = Server::start(&dir)?;
    let mut report = format!(
        "cold start (exec to first 200 from /health): {:.1} ms\n\n\
         | scenario | requests/s | p50 | p99 | errors |\n|---|---|---|---|---|\n",
        server.cold_start.as_secs_f64() * 1000.0
    );
    let url = format!("http://{}", server.addr);
    let scenarios = [
        ("GET /health", "/health", None),
        ("POST /predict, 1 record", "/predict", Some(1)),
        ("POST /predict, 100 records", "/predict", Some(100)),
    ];
    for (name, path, records) in scenarios {
        let mut cmd = Command::new("wrk");
        cmd.args([
            "--latency",
            "-t",
            &threads.to_string(),
            "-c",
            &connections.to_string(),
        ])
        .args(["-d", &format!("{duration}s"), "--timeout", "5s"]);
        if let Some(n) = records {
            let script = dir.join(format!("predict_{n}.lua"));
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
        let r = WrkResult::parse(&text)?;
        println!("{name}:\n{text}");
        report.push_str(&format!(
            "| {name} | {:.0} | {} | {} | {} |\n",
            r.requests_per_sec, r.p50, r.p99, r.errors
        ));
    }
    let peak_rss_kib = server.peak_rss_kib()?;
    report.push_str(&format!(
        "\npeak RSS of the server: {:.1} MB\n",
        peak_rss_kib as f64 / 1024.0
    ));
    let exit = server.stop()?;
    report.push_str(&format!("server exit on SIGTERM: {exit}\n"));
    println!("{report}");
    let path = dir.join("report.md");
    std::fs::write(&path, &report).map_err(|e| format!("{}: {e}", path.display()))?;
    println!("(written to {})", path.display());
    Ok(())
}

fn build() -> Result<()> {
    let status = Command::new(env!("CARGO"))
        .args(["build", "--release", "--locked", "-p", "classification_api"])
        .current_dir(root())
        .status()
        .map_err(|e| format!("cargo build: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err("building classification_api failed".into())
    }
}

struct Server {
    child: Child,
    addr: SocketAddr,
    cold_start: Duration,
}

impl Server {
    /// Starts the release binary on a free loopback port and waits for /health.
    fn start(dir: &Path) -> Result<Server> {
        let binary = root().join("target/release/classification_api");
        let log = std::fs::File::create(dir.join("server.log")).map_err(|e| e.to_string())?;
        let started = Instant::now();
        let mut child = Command::new(&binary)
            .env("HOST", "127.0.0.1")
            .env("PORT", "0")
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .map_err(|e| format!("{}: {e}", binary.display()))?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let addr: SocketAddr = loop {
            let line = lines
                .next()
                .ok_or("the server exited before listening")?
                .map_err(|e| e.to_string())?;
            if let Some(rest) = line.split("listening on http://").nth(1) {
                let addr = rest.split_whitespace().next().unwrap_or_default();
                break addr
                    .parse()
                    .map_err(|_| format!("cannot parse the address in {line:?}"))?;
            }
        };
        // keep draining the server's output so that it never blocks on a full pipe
        std::thread::spawn(move || for _ in lines.map_while(|l| l.ok()) {});
        let deadline = Instant::now() + Duration::from_secs(10);
        while !health_ok(addr) {
            if Instant::now() > deadline {
                return Err("the server did not answer /health within 10 s".into());
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        Ok(Server {
            child,
            addr,
            cold_start: started.elapsed(),
        })
    }

    fn peak_rss_kib(&self) -> Result<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .map_err(|e| format!("cannot read the server's memory use: {e}"))?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .ok_or_else(|| "no VmHWM in /proc/PID/status".into())
    }

    /// SIGTERM by PID, then wait for the exit.
    fn stop(mut self) -> Result<String> {
        let pid = self.child.id().to_string();
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .map_err(|e| format!("kill: {e}"))?;
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(status) = self.child.try_wait().map_err(|e| e.to_string())? {
                return Ok(status.to_string());
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                return Err("the server did not exit within 15 s of SIGTERM".into());
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

/// Whether `GET /health` answers 200.
pub fn health_ok(addr: SocketAddr) -> bool {
    let Ok(mut s) = TcpStream::connect(addr) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    if s.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut head = [0u8; 12];
    s.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.1 200")
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
