//! Starts the real server binary on a random loopback port and talks raw
//! HTTP/1.1 to it (raw, so that tests can send anything a hostile client would).

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A running server; killed when dropped.
pub struct Server {
    pub child: Child,
    pub addr: SocketAddr,
    pub log: std::sync::Arc<std::sync::Mutex<String>>,
    /// The history directory made for it, removed when it is dropped.
    pub temp: Option<std::path::PathBuf>,
}

/// Polls `f` until it holds, at most `limit`; whether it held. The one
/// place tests wait: on a condition, with a bound, never a bare sleep.
pub fn within(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let start = std::time::Instant::now();
    let mut pause = Duration::from_millis(1);
    loop {
        if f() {
            return true;
        }
        if start.elapsed() >= limit {
            return false;
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}

/// [`within`] 30 s (so that a slow machine does not fail the test; how
/// soon things happen is measured by `cargo xtask loadtest`), failing the
/// test when `f` never holds; how long it took.
pub fn eventually(what: &str, f: impl FnMut() -> bool) -> Duration {
    let start = std::time::Instant::now();
    assert!(within(Duration::from_secs(30), f), "never: {what}");
    start.elapsed()
}

/// A fresh directory under the system's temporary directory.
pub fn temp_dir(tag: &str) -> std::path::PathBuf {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "classification_api-{tag}-{}-{}",
        std::process::id(),
        N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

impl Server {
    /// Starts the server with extra environment variables; unless they
    /// choose the history store, it keeps one in a fresh temporary directory.
    pub fn start(env: &[(&str, &str)]) -> Server {
        Self::try_start(env).unwrap_or_else(|e| panic!("{e}"))
    }

    /// [`start`](Self::start), or the exit status and output of a server
    /// that exited before listening.
    pub fn try_start(env: &[(&str, &str)]) -> Result<Server, String> {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_classification_api"));
        cmd.env("PORT", "0")
            .env("HOST", "127.0.0.1")
            .env("RUST_LOG", "info")
            .env_remove("DATABASE_URL")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let chosen = env
            .iter()
            .any(|(k, _)| ["HISTORY", "HISTORY_PATH", "DATABASE_URL"].contains(k));
        let temp = (!chosen).then(|| temp_dir("history"));
        if let Some(dir) = &temp {
            cmd.env("HISTORY_PATH", dir.join("history.sqlite3"));
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("start the server");
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let addr = loop {
            let Some(line) = lines.next() else {
                let status = child.wait().unwrap();
                let mut stderr = String::new();
                let _ = child.stderr.take().unwrap().read_to_string(&mut stderr);
                return Err(format!(
                    "the server exited before listening ({status}):\n{}{stderr}",
                    log.lock().unwrap()
                ));
            };
            let line = line.unwrap();
            log.lock().unwrap().push_str(&line);
            log.lock().unwrap().push('\n');
            if let Some(rest) = line.split("listening on http://").nth(1) {
                let addr = rest.split_whitespace().next().unwrap();
                break addr.parse().unwrap();
            }
        };
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                let mut log = sink.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        Ok(Server {
            child,
            addr,
            log,
            temp,
        })
    }

    /// Sends SIGTERM.
    pub fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits for the process to exit, at most `limit`.
    pub fn wait(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let mut status = None;
        within(limit, || {
            status = self.child.try_wait().unwrap();
            status.is_some()
        });
        status
    }

    pub fn get(&self, path: &str) -> Response {
        send(
            self.addr,
            format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
        )
    }

    pub fn post(&self, path: &str, content_type: &str, body: &str) -> Response {
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        send(self.addr, &[head.as_bytes(), body.as_bytes()].concat())
    }

    pub fn predict(&self, body: &str) -> Response {
        self.post("/predict", "application/json", body)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(dir) = &self.temp {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// A parsed response.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The numbers of a JSON array field, e.g. `probabilities`.
    pub fn floats(&self, key: &str) -> Vec<f64> {
        self.json()[key]
            .as_array()
            .unwrap_or_else(|| panic!("no array {key}: {}", self.body))
            .iter()
            .map(|p| p.as_f64().unwrap())
            .collect()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

/// Writes raw bytes, reads the whole answer (the request must close the connection).
pub fn send(addr: SocketAddr, raw: &[u8]) -> Response {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    // the server may answer and close before reading everything (413): ignore write errors
    let _ = stream.write_all(raw);
    read_response(&mut stream)
}

/// Reads one response from a stream until the server closes it.
pub fn read_response(stream: &mut TcpStream) -> Response {
    let mut data = Vec::new();
    let _ = stream.read_to_end(&mut data);
    parse(&data)
}

pub fn parse(data: &[u8]) -> Response {
    let text = String::from_utf8_lossy(data);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no complete response: {text:?}"));
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let chunked = headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    let body = if chunked {
        dechunk(body)
    } else {
        body.to_owned()
    };
    Response {
        status,
        headers,
        body,
    }
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        out.push_str(&rest[..n]);
        body = &rest[n + 2..];
    }
    out
}

/// The dataset rows as JSON objects (values as the CSV has them).
pub fn dataset_json_rows() -> Vec<serde_json::Map<String, serde_json::Value>> {
    let mut reader = csv::Reader::from_path(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../classification_model/datasets/titanic.csv"
    ))
    .unwrap();
    let headers = reader.headers().unwrap().clone();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            headers
                .iter()
                .zip(r.iter())
                .map(|(k, v)| (k.to_owned(), serde_json::Value::String(v.to_owned())))
                .collect()
        })
        .collect()
}

/// An artifact of model `version`, trained on the committed dataset with
/// split seed `seed` (other seeds give other probabilities), as JSON.
pub fn artifact(version: &str, seed: u32) -> String {
    let config = classification_model::artifact::TrainingConfig {
        seed,
        ..Default::default()
    };
    let data = include_bytes!("../../../classification_model/datasets/titanic.csv");
    classification_model::train::train(data, &config, &semver::Version::parse(version).unwrap())
        .unwrap()
        .to_json()
        .unwrap()
}

/// Writes `json` as `dir`'s artifact of `version`, atomically (written
/// beside, then renamed), as `cargo xtask train --out` does.
pub fn install_artifact(dir: &std::path::Path, version: &str, json: &str) -> std::path::PathBuf {
    let path = dir.join(classification_model::artifact::artifact_file_name(version));
    let partial = dir.join(format!(".{version}.partial"));
    std::fs::write(&partial, json).unwrap();
    std::fs::rename(&partial, &path).unwrap();
    path
}
