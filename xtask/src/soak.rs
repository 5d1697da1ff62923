//! `cargo xtask soak`: mixed valid and invalid traffic for a bounded time,
//! then SIGTERM while every client has requests in flight. Fails unless there
//! were no 5xx, no wrong status, no request lost at shutdown, flat memory and
//! a clean exit.

use anyhow::{Context as _, anyhow};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::service::{Server, build_release};
use crate::{Result, target_dir};

const VALID: &str = r#"{"pclass": 3, "name": "Braund, Mr. Owen Harris", "sex": "male", "age": 22, "sibsp": 1, "parch": 0, "fare": 7.25, "embarked": "S"}"#;

/// The traffic mix: (method, path, content type, body, expected status).
fn mix() -> Vec<(&'static str, &'static str, &'static str, String, u16)> {
    let batch = format!(r#"{{"inputs": [{}]}}"#, vec![VALID; 50].join(","));
    vec![
        (
            "POST",
            "/predict",
            "application/json",
            format!(r#"{{"inputs": [{VALID}]}}"#),
            200,
        ),
        ("POST", "/predict", "application/json", batch, 200),
        (
            "POST",
            "/predict",
            "application/json",
            r#"{"inputs": [{"pclass": 9, "sex": "x", "age": -1}]}"#.into(),
            422,
        ),
        (
            "POST",
            "/predict",
            "application/json",
            r#"{"inputs": [{"Age": "NaN"}, 5]}"#.into(),
            422,
        ),
        (
            "POST",
            "/predict",
            "application/json",
            r#"{"inputs": ["#.into(),
            400,
        ),
        (
            "POST",
            "/predict",
            "application/json",
            r#"{"inputs": []}"#.into(),
            422,
        ),
        ("POST", "/predict", "text/plain", "hello".into(), 415),
        ("GET", "/health", "application/json", String::new(), 200),
        ("GET", "/nope", "application/json", String::new(), 404),
        ("GET", "/predict", "application/json", String::new(), 405),
    ]
}

#[derive(Default)]
struct Tally {
    sent: AtomicU64,
    answered: AtomicU64,
    status_5xx: AtomicU64,
    wrong_status: AtomicU64,
    /// a connection closed before any byte of the answer, after SIGTERM: the
    /// server closed an idle keep-alive connection; the client retries
    closed_before_answer: AtomicU64,
    /// a connection broken in the middle of an answer, or before SIGTERM
    broken: AtomicU64,
}

/// `cargo xtask soak`'s flags.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Seconds of traffic before the SIGTERM.
    #[arg(long, default_value_t = 60)]
    pub duration: u64,
    /// Keep-alive clients.
    #[arg(long, default_value_t = 8)]
    pub clients: usize,
}

pub fn run(args: Args) -> Result<()> {
    let Args { duration, clients } = args;
    build_release()?;
    let dir = target_dir().join("soak");
    std::fs::create_dir_all(&dir).with_context(|| dir.display().to_string())?;
    let server = Server::start(&dir)?;
    let addr = server.addr;
    let tally = Arc::new(Tally::default());
    let terminated = Arc::new(AtomicBool::new(false));
    let handles: Vec<_> = (0..clients)
        .map(|i| {
            let (tally, terminated) = (tally.clone(), terminated.clone());
            std::thread::spawn(move || client(i, addr, &tally, &terminated))
        })
        .collect();

    let start = Instant::now();
    let warm_up = Duration::from_secs(duration.min(5));
    let mut baseline_rss = None;
    let mut max_rss = 0;
    while start.elapsed() < Duration::from_secs(duration) {
        std::thread::sleep(Duration::from_millis(250));
        let (rss, _) = server.rss_kib()?;
        if start.elapsed() >= warm_up {
            baseline_rss.get_or_insert(rss);
            max_rss = max_rss.max(rss);
        }
    }
    let baseline_rss = baseline_rss.unwrap_or(max_rss);
    // SIGTERM while every client is busy
    let completed_before = server.access_lines.load(Ordering::Relaxed);
    terminated.store(true, Ordering::SeqCst);
    server.terminate()?;
    let signalled = Instant::now();
    let access_lines = server.access_lines.clone();
    let probe_requests = server.probe_requests;
    let exit = server.wait()?;
    let exit_after = signalled.elapsed();
    for h in handles {
        let _ = h.join();
    }
    let completed = access_lines
        .load(Ordering::Relaxed)
        .saturating_sub(probe_requests);
    let t = |a: &AtomicU64| a.load(Ordering::Relaxed);
    let growth_kib = max_rss.saturating_sub(baseline_rss);
    let report = format!(
        "soak: {clients} clients for {duration} s, then SIGTERM under load\n\
         requests answered: {answered} ({rate:.0}/s); completed by the server: {completed} ({after} after SIGTERM)\n\
         5xx: {s5}; wrong status: {wrong}; broken connections: {broken}; \
         lost in flight (completed by the server, never received): {lost}\n\
         idle keep-alive connections closed at shutdown (retried, refused): {closed}\n\
         RSS after warm-up {base:.1} MB, peak {peak:.1} MB, growth {growth:.2} MB\n\
         exit: {exit} after {exit_ms} ms\n",
        answered = t(&tally.answered),
        rate = t(&tally.answered) as f64 / duration as f64,
        after = completed.saturating_sub(completed_before),
        s5 = t(&tally.status_5xx),
        wrong = t(&tally.wrong_status),
        broken = t(&tally.broken),
        lost = completed.saturating_sub(t(&tally.answered)),
        closed = t(&tally.closed_before_answer),
        base = baseline_rss as f64 / 1024.0,
        peak = max_rss as f64 / 1024.0,
        growth = growth_kib as f64 / 1024.0,
        exit_ms = exit_after.as_millis(),
    );
    print!("{report}");
    let path = dir.join("report.txt");
    std::fs::write(&path, &report).with_context(|| path.display().to_string())?;
    let mut failures = Vec::new();
    if t(&tally.status_5xx) > 0 {
        failures.push("5xx answers");
    }
    if t(&tally.wrong_status) > 0 {
        failures.push("answers with an unexpected status");
    }
    if t(&tally.broken) > 0 {
        failures.push("broken connections");
    }
    if completed != t(&tally.answered) {
        failures.push("requests completed by the server but never received (lost at shutdown)");
    }
    if growth_kib >= 5 * 1024 {
        failures.push("memory grew by 5 MB or more");
    }
    if !exit.success() {
        failures.push("the server did not exit with 0");
    }
    if failures.is_empty() {
        println!("soak passed ({})", path.display());
        Ok(())
    } else {
        Err(anyhow!("soak failed: {}", failures.join("; ")))
    }
}

/// One client: keep-alive requests from the mix until the server is gone.
fn client(i: usize, addr: SocketAddr, tally: &Tally, terminated: &AtomicBool) {
    let mix = mix();
    let mut n = i;
    let mut conn: Option<BufReader<TcpStream>> = None;
    loop {
        let (method, path, content_type, body, expected) = &mix[n % mix.len()];
        n += 1;
        if conn.is_none() {
            match TcpStream::connect(addr) {
                Ok(s) => {
                    let _ = s.set_read_timeout(Some(Duration::from_secs(20)));
                    let _ = s.set_nodelay(true);
                    conn = Some(BufReader::new(s));
                }
                Err(_) if terminated.load(Ordering::SeqCst) => return, // refused: the server is gone
                Err(_) => {
                    tally.broken.fetch_add(1, Ordering::Relaxed);
                    return;
                }
            }
        }
        let Some(reader) = conn.as_mut() else { return };
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: soak\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        tally.sent.fetch_add(1, Ordering::Relaxed);
        let outcome = reader
            .get_mut()
            .write_all(request.as_bytes())
            .map_err(|_| 0)
            .and_then(|()| read_answer(reader));
        match outcome {
            Ok((status, close)) => {
                tally.answered.fetch_add(1, Ordering::Relaxed);
                if status >= 500 {
                    tally.status_5xx.fetch_add(1, Ordering::Relaxed);
                } else if status != *expected {
                    tally.wrong_status.fetch_add(1, Ordering::Relaxed);
                }
                if close {
                    conn = None;
                }
            }
            Err(0) if terminated.load(Ordering::SeqCst) => {
                // closed before answering anything: the request was never read
                tally.closed_before_answer.fetch_add(1, Ordering::Relaxed);
                conn = None;
            }
            Err(_) => {
                tally.broken.fetch_add(1, Ordering::Relaxed);
                conn = None;
            }
        }
    }
}

/// Reads one answer: its status and whether the server closes the connection.
/// `Err(bytes read)` if the connection ends first.
fn read_answer(reader: &mut BufReader<TcpStream>) -> std::result::Result<(u16, bool), usize> {
    let mut read = 0;
    let mut line = String::new();
    let mut status = 0;
    let mut length = 0usize;
    let mut close = false;
    loop {
        line.clear();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => return Err(read),
            Ok(n) => read += n,
        }
        let l = line.trim_end();
        if status == 0 {
            status = l
                .split_whitespace()
                .nth(1)
                .and_then(|s| s.parse().ok())
                .ok_or(read)?;
        } else if l.is_empty() {
            break;
        } else if let Some((k, v)) = l.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                length = v.trim().parse().map_err(|_| read)?;
            } else if k.eq_ignore_ascii_case("connection") && v.trim().eq_ignore_ascii_case("close")
            {
                close = true;
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).map_err(|_| read.max(1))?;
    Ok((status, close))
}
