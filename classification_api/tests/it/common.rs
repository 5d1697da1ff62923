//! Runs the server on a random loopback port, in this process
//! ([`Server`]) or, where signals, exit codes or the process's memory are
//! what is tested, as the real binary ([`Process`]), and talks raw HTTP/1.1
//! to it (raw, so that tests can send anything a hostile client would).

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use classification_api::config::Config;
use classification_api::server::Ready;

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
pub fn temp_dir(tag: &str) -> PathBuf {
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

/// `env` with a fresh history directory, unless it chooses the store.
fn with_history(env: &[(&str, &str)]) -> (Vec<(String, String)>, Option<PathBuf>) {
    let mut vars: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let chosen = env
        .iter()
        .any(|(k, _)| ["HISTORY", "HISTORY_PATH", "DATABASE_URL"].contains(k));
    let temp = (!chosen).then(|| temp_dir("history"));
    if let Some(dir) = &temp {
        let path = dir.join("history.sqlite3").to_string_lossy().into_owned();
        vars.push(("HISTORY_PATH".into(), path));
    }
    (vars, temp)
}

/// Lines logged, shared with the test.
#[derive(Clone, Default)]
struct Sink(Arc<Mutex<String>>);

impl Write for Sink {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().push_str(&String::from_utf8_lossy(b));
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A server running in this process, on its own runtime, with what it logs
/// kept in `log`; stopped when dropped.
pub struct Server {
    pub addr: SocketAddr,
    /// Where its gRPC services listen.
    pub grpc: SocketAddr,
    pub log: Arc<Mutex<String>>,
    /// The history directory made for it, removed when it is dropped.
    pub temp: Option<PathBuf>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    /// Its trace export, if on: flushed once the server has stopped.
    traces: Option<classification_api::telemetry::traces::Tracing>,
}

impl Server {
    /// Starts the server with these settings (as environment variables
    /// would give them; `RUST_LOG` filters its log, `info` by default);
    /// unless they choose the history store, it keeps one in a fresh
    /// temporary directory. Returns once it is ready.
    pub fn start(env: &[(&str, &str)]) -> Server {
        Self::try_start(env).unwrap_or_else(|e| panic!("{e}"))
    }

    /// [`start`](Self::start), or why the server could not start.
    pub fn try_start(env: &[(&str, &str)]) -> Result<Server, String> {
        use tracing_subscriber::Layer as _;
        use tracing_subscriber::layer::SubscriberExt as _;
        let (vars, temp) = with_history(env);
        let lookup = |k: &str| vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        let config = Config::from_lookup(lookup).map_err(|e| e.to_string())?;
        let targets: tracing_subscriber::filter::Targets = lookup("RUST_LOG")
            .unwrap_or_else(|| "info".into())
            .parse()
            .unwrap();
        let log = Sink::default();
        let writer = log.clone();
        let traces = config
            .traces
            .as_ref()
            .map(classification_api::telemetry::traces::Tracing::start)
            .transpose()
            .map_err(|e| e.to_string())?;
        let layer = tracing_subscriber::fmt::layer()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .with_filter(classification_api::telemetry::logging::without_spans(
                targets,
            ));
        // no trace layer without traces (an absent one would enable the spans)
        let dispatch = match &traces {
            Some(t) => {
                tracing::Dispatch::new(tracing_subscriber::registry().with(layer).with(t.layer()))
            }
            None => tracing::Dispatch::new(tracing_subscriber::registry().with(layer)),
        };
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let grpc_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        grpc_listener.set_nonblocking(true).unwrap();
        let grpc = grpc_listener.local_addr().unwrap();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<Result<(), String>>();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let _log = tracing::dispatcher::set_default(&dispatch);
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .on_thread_start(move || {
                    // each of the runtime's threads logs to this server's log
                    std::mem::forget(tracing::dispatcher::set_default(&dispatch));
                })
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                let grpc = tokio::net::TcpListener::from_std(grpc_listener).unwrap();
                match Ready::new(config, listener).await {
                    Ok(ready) => {
                        let ready = ready.with_grpc(grpc);
                        let _ = ready_tx.send(Ok(()));
                        ready
                            .serve(async {
                                let _ = stopped.await;
                            })
                            .await;
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e.to_string()));
                    }
                }
            });
            runtime.shutdown_timeout(Duration::from_secs(5));
        });
        let started = ready_rx
            .recv()
            .unwrap_or_else(|_| Err("the server's thread ended before it was ready".into()));
        let server = Server {
            traces,
            addr,
            grpc,
            log: log.0,
            temp,
            stop: Some(stop),
            thread: Some(thread),
        };
        started.map(|()| server)
    }

    /// Tells the server to stop (its stop handle: what SIGTERM does in the
    /// binary) without waiting for it.
    pub fn begin_stop(&mut self) {
        drop(self.stop.take());
    }

    /// Stops accepting, lets requests in flight finish, and waits for it to
    /// close its history.
    pub fn stop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            thread.join().expect("the server's thread ends");
        }
        // every span the server made is exported
        drop(self.traces.take());
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        if let Some(dir) = &self.temp {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// The server binary running as a child process; killed when dropped.
pub struct Process {
    pub child: Child,
    pub addr: SocketAddr,
    /// Where its gRPC services listen (unless `GRPC_PORT=off`).
    pub grpc: Option<SocketAddr>,
    /// Its standard output and error, as they come.
    pub log: Arc<Mutex<String>>,
    /// The directory of its history (unless the settings chose the store)
    /// and of its `ADDRESS_FILE`, removed when it is dropped.
    pub temp: PathBuf,
}

impl Process {
    /// Starts the binary with these environment variables, as
    /// [`Server::start`] does, and returns once it is ready.
    pub fn start(env: &[(&str, &str)]) -> Process {
        Self::try_start(env).unwrap_or_else(|e| panic!("{e}"))
    }

    /// [`start`](Self::start), or the exit status and output of a server
    /// that exited before it was ready.
    pub fn try_start(env: &[(&str, &str)]) -> Result<Process, String> {
        let (vars, temp) = with_history(env);
        let temp = temp.unwrap_or_else(|| temp_dir("process"));
        let address_file = temp.join("address");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_classification_api"));
        cmd.env("PORT", "0")
            .env("GRPC_PORT", "0")
            .env("HOST", "127.0.0.1")
            .env("RUST_LOG", "info")
            .env("ADDRESS_FILE", &address_file)
            .env_remove("DATABASE_URL")
            .envs(vars)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("start the server");
        let log = Arc::new(Mutex::new(String::new()));
        let mut readers = Vec::new();
        for out in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let sink = log.clone();
            readers.push(std::thread::spawn(move || {
                for line in BufReader::new(out).lines().map_while(Result::ok) {
                    let mut log = sink.lock().unwrap();
                    log.push_str(&line);
                    log.push('\n');
                }
            }));
        }
        let mut exited = None;
        let ready = within(Duration::from_secs(60), || {
            exited = child.try_wait().unwrap();
            exited.is_some() || address_file.exists()
        });
        if let Some(status) = exited {
            // all it said before exiting
            for reader in readers {
                let _ = reader.join();
            }
            let _ = std::fs::remove_dir_all(&temp);
            return Err(format!(
                "the server exited before it was ready ({status}):\n{}",
                log.lock().unwrap()
            ));
        }
        assert!(ready, "the server never became ready");
        // the HTTP address, then the gRPC one if it is on
        let text = std::fs::read_to_string(&address_file).unwrap();
        let mut lines = text.lines();
        let addr = lines.next().unwrap().parse().unwrap();
        let grpc = lines.next().map(|l| l.parse().unwrap());
        Ok(Process {
            child,
            addr,
            grpc,
            log,
            temp,
        })
    }

    /// Sends `signal` (`TERM`, `HUP`).
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([format!("-{signal}"), self.child.id().to_string()])
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
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.temp);
    }
}

/// Requests to a server, wherever it runs.
macro_rules! requests {
    ($($server:ty),*) => {$(
        impl $server {
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
    )*};
}

requests!(Server, Process);

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
