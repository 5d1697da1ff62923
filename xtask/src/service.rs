//! The API's release binary as a child process, for load and soak tests.

use anyhow::{Context as _, anyhow};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::{Result, root, target_dir};

/// `cargo build --release -p classification_api`.
pub fn build_release() -> Result<()> {
    cargo_release(&[])
}

/// xtask itself built in release, for the load generators and receivers
/// that must not measure a debug build of themselves; its path.
pub fn release_xtask() -> Result<std::path::PathBuf> {
    let status = Command::new("cargo")
        .args(["build", "--quiet", "--release", "--locked", "-p", "xtask"])
        .current_dir(root())
        .status()
        .map_err(|e| anyhow!("cargo build --release -p xtask: {e}"))?;
    if !status.success() {
        return Err(anyhow!("building xtask in release failed"));
    }
    Ok(target_dir().join("release/xtask"))
}

/// The cargo profile load tests build and run: `release` unless
/// [`use_profile`] chose another (`deploy`, as deploys build).
static PROFILE: std::sync::OnceLock<&'static str> = std::sync::OnceLock::new();

/// Builds and runs with `profile` from now on.
pub fn use_profile(profile: &'static str) {
    let _ = PROFILE.set(profile);
}

fn profile() -> &'static str {
    PROFILE.get().copied().unwrap_or("release")
}

/// Where the chosen profile's binaries are.
fn profile_dir() -> PathBuf {
    target_dir().join(profile())
}

/// The service binary of the profile in use.
pub fn binary() -> PathBuf {
    profile_dir().join("classification_api")
}

/// The bare warp handler (`classification_api/examples/bare_warp.rs`), in its
/// own build so that its dev-dependencies' features stay out of the service.
pub fn build_bare_warp() -> Result<PathBuf> {
    cargo_release(&["--example", "bare_warp"])?;
    Ok(profile_dir().join("examples/bare_warp"))
}

fn cargo_release(extra: &[&str]) -> Result<()> {
    let status = Command::new(env!("CARGO"))
        .args([
            "build",
            "--profile",
            profile(),
            "--locked",
            "-p",
            "classification_api",
        ])
        .args(extra)
        .current_dir(root())
        .status()
        .map_err(|e| anyhow!("cargo build: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(anyhow!("building classification_api {extra:?} failed"))
    }
}

/// A running server; killed if dropped before [`Server::stop`].
pub struct Server {
    child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
    /// Where its gRPC services listen (the bare handler has none).
    pub grpc: Option<SocketAddr>,
    /// From exec to the first 200 from `/health`.
    pub cold_start: Duration,
    /// Access-log lines seen so far (one per completed request).
    pub access_lines: Arc<AtomicU64>,
    /// Requests the start-up itself completed (the `/health` probe).
    pub probe_requests: u64,
    log_thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    /// Starts the release binary on a free loopback port (its log goes to
    /// `dir/server.log`) and waits until `/health` answers.
    pub fn start(dir: &Path) -> Result<Server> {
        Self::start_with(dir, "server", &[("HISTORY", "off")])
    }

    /// [`start`](Self::start) with these environment variables, logging to
    /// `dir/{name}.log`.
    pub fn start_with(dir: &Path, name: &str, env: &[(&str, &str)]) -> Result<Server> {
        Self::start_binary_with(&profile_dir().join("classification_api"), dir, name, env)
    }

    /// Starts `binary` likewise, logging to `dir/{name}.log`.
    pub fn start_binary(binary: &Path, dir: &Path, name: &str) -> Result<Server> {
        Self::start_binary_with(binary, dir, name, &[])
    }

    fn start_binary_with(
        binary: &Path,
        dir: &Path,
        name: &str,
        env: &[(&str, &str)],
    ) -> Result<Server> {
        let log_path = dir.join(format!("{name}.log"));
        let log =
            std::fs::File::create(&log_path).with_context(|| log_path.display().to_string())?;
        let stderr = log.try_clone().map_err(anyhow::Error::from)?;
        let address_file = dir.join(format!("{name}.address"));
        let _ = std::fs::remove_file(&address_file);
        let started = Instant::now();
        let mut child = Command::new(binary)
            .envs(env.iter().copied())
            .env("HOST", "127.0.0.1")
            .env("PORT", "0")
            .env("GRPC_PORT", "0")
            .env("ADDRESS_FILE", &address_file)
            .env(
                "RUST_LOG",
                std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into()),
            )
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .with_context(|| binary.display().to_string())?;
        let stdout = child.stdout.take().context("no stdout")?;
        // keep draining the server's output so that it never blocks on a full pipe
        let access_lines = Arc::new(AtomicU64::new(0));
        let counter = access_lines.clone();
        let log_thread = std::thread::spawn(move || {
            // buffered: the harness must not cost the server a write per log line
            let mut log = std::io::BufWriter::with_capacity(256 * 1024, log);
            for line in BufReader::new(stdout).lines().map_while(|l| l.ok()) {
                if line.contains("classification_api::access") {
                    counter.fetch_add(1, Ordering::Relaxed);
                }
                let _ = writeln!(log, "{line}");
            }
        });
        // the server writes ADDRESS_FILE once it is ready
        let deadline = Instant::now() + Duration::from_secs(60);
        while !address_file.exists() {
            if let Some(status) = child.try_wait().map_err(anyhow::Error::from)? {
                let _ = log_thread.join();
                return Err(anyhow!(
                    "the server exited before it was ready ({status}); its log: {}",
                    log_path.display()
                ));
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                return Err(anyhow!("the server was not ready within 60 s"));
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        // the HTTP address, then the gRPC one
        let text = std::fs::read_to_string(&address_file)
            .with_context(|| address_file.display().to_string())?;
        let mut lines = text.lines().map(str::parse::<SocketAddr>);
        let addr = lines
            .next()
            .context("an empty address file")?
            .with_context(|| format!("the address in {}", address_file.display()))?;
        let grpc = lines
            .next()
            .transpose()
            .with_context(|| format!("the gRPC address in {}", address_file.display()))?;
        let deadline = Instant::now() + Duration::from_secs(10);
        while !health_ok(addr) {
            if Instant::now() > deadline {
                return Err(anyhow!("the server did not answer /health within 10 s"));
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        Ok(Server {
            child,
            addr,
            grpc,
            cold_start: started.elapsed(),
            access_lines,
            probe_requests: 1,
            log_thread: Some(log_thread),
        })
    }

    /// Resident memory now and at its peak, in KiB.
    pub fn rss_kib(&self) -> Result<(u64, u64)> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .map_err(|e| anyhow!("cannot read the server's memory use: {e}"))?;
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
                .ok_or_else(|| anyhow!("no {name} in /proc/PID/status"))
        };
        Ok((field("VmRSS:")?, field("VmHWM:")?))
    }

    /// Sends SIGTERM by PID.
    pub fn terminate(&self) -> Result<()> {
        let pid = self.child.id().to_string();
        let status = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .map_err(|e| anyhow!("kill: {e}"))?;
        if status.success() {
            Ok(())
        } else {
            Err(anyhow!("kill -TERM {pid} failed"))
        }
    }

    /// Waits for the exit after [`terminate`](Self::terminate) (15 s at most)
    /// and for the log to be read to its end.
    pub fn wait(mut self) -> Result<std::process::ExitStatus> {
        let deadline = Instant::now() + Duration::from_secs(15);
        let status = loop {
            if let Some(status) = self.child.try_wait().map_err(anyhow::Error::from)? {
                break status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                return Err(anyhow!("the server did not exit within 15 s of SIGTERM"));
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        if let Some(t) = self.log_thread.take() {
            let _ = t.join();
        }
        Ok(status)
    }

    /// SIGTERM, then wait.
    pub fn stop(self) -> Result<std::process::ExitStatus> {
        self.terminate()?;
        self.wait()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

/// Whether `GET /health` answers 200.
pub fn health_ok(addr: SocketAddr) -> bool {
    status(addr, "GET", "/health", "") == Some(200)
}

/// The status of one request (JSON body, if any), or `None` if it got no
/// answer.
pub fn status(addr: SocketAddr, method: &str, path: &str, body: &str) -> Option<u16> {
    let mut s = TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(request.as_bytes()).ok()?;
    let mut head = [0u8; 12];
    s.read_exact(&mut head).ok()?;
    std::str::from_utf8(&head[9..12]).ok()?.parse().ok()
}
