//! Logging: `tracing` to standard output, written in batches by a background
//! thread. A request appends its line to a buffer and goes on: it neither
//! waits for a write nor wakes a thread (on a small machine a wake-up per
//! line costs more than the line). Nothing is dropped: a buffer that grows
//! past [`BATCH_CAP`] is written out by the request that fills it.
//!
//! The access log, one line per request, is formatted here directly, in
//! `tracing`'s own line format, when `RUST_LOG` enables its target: the
//! generic formatter was a quarter of a `/health` request's cost.

use std::cell::RefCell;
use std::fmt::Write as _;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

use tracing_subscriber::Layer as _;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

/// How often the background thread writes what has gathered.
pub const FLUSH_INTERVAL: Duration = Duration::from_millis(5);
/// The most bytes gathered before a request writes them itself.
pub const BATCH_CAP: usize = 1 << 20;

struct Shared {
    pending: Mutex<Vec<u8>>,
    /// Held while writing, so that batches reach the output in order.
    out: Mutex<Box<dyn Write + Send>>,
    stop: AtomicBool,
}

impl Shared {
    fn flush(&self) {
        let mut out = self.out.lock().unwrap_or_else(PoisonError::into_inner);
        let batch =
            std::mem::take(&mut *self.pending.lock().unwrap_or_else(PoisonError::into_inner));
        if !batch.is_empty() {
            // nowhere to report a failed log write: the line is lost, the service goes on
            let _ = out.write_all(&batch).and_then(|()| out.flush());
        }
    }
}

/// Where formatted lines go.
#[derive(Clone)]
pub struct BatchWriter(Arc<Shared>);

impl BatchWriter {
    fn append(&self, bytes: &[u8]) {
        let full = {
            let mut pending = self
                .0
                .pending
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            pending.extend_from_slice(bytes);
            pending.len() >= BATCH_CAP
        };
        if full {
            self.0.flush();
        }
    }
}

impl Write for BatchWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.append(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Writes what is left when dropped: keep it until the process ends.
pub struct FlushGuard {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for FlushGuard {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        self.shared.flush();
    }
}

/// A writer of batches to `out`, and the guard that stops its thread.
pub fn batch_writer(out: Box<dyn Write + Send>) -> (BatchWriter, FlushGuard) {
    let shared = Arc::new(Shared {
        pending: Mutex::new(Vec::with_capacity(64 * 1024)),
        out: Mutex::new(out),
        stop: AtomicBool::new(false),
    });
    let worker = shared.clone();
    let thread = std::thread::Builder::new()
        .name("log-writer".into())
        .spawn(move || {
            while !worker.stop.load(Ordering::Relaxed) {
                std::thread::sleep(FLUSH_INTERVAL);
                worker.flush();
            }
        })
        .ok();
    (BatchWriter(shared.clone()), FlushGuard { shared, thread })
}

/// The writer behind the global subscriber, for [`access`].
static WRITER: OnceLock<BatchWriter> = OnceLock::new();

/// The access log's target.
pub const ACCESS: &str = "classification_api::access";

/// One access-log line, as `tracing` would write
/// `info!(target: ACCESS, method, path, status, latency_us[, trace_id])`,
/// if enabled; `trace_id` is there when the request was traced.
pub fn access(
    method: &str,
    path: &str,
    status: u16,
    latency_us: u64,
    trace_id: Option<opentelemetry::trace::TraceId>,
) {
    if !tracing::enabled!(target: ACCESS, tracing::Level::INFO) {
        return;
    }
    let Some(writer) = WRITER.get() else {
        match trace_id {
            Some(trace_id) => {
                tracing::info!(target: ACCESS, method, path, status, latency_us, trace_id = %trace_id);
            }
            None => tracing::info!(target: ACCESS, method, path, status, latency_us),
        }
        return;
    };
    thread_local! {
        static LINE: RefCell<String> = const { RefCell::new(String::new()) };
    }
    LINE.with_borrow_mut(|line| {
        line.clear();
        // writing to a String cannot fail
        let _ = write!(
            line,
            "{}  INFO {ACCESS}: method={method} path={path} status={status} latency_us={latency_us}",
            humantime::format_rfc3339_micros(SystemTime::now()),
        );
        if let Some(trace_id) = trace_id {
            let _ = write!(line, " trace_id={trace_id}");
        }
        line.push('\n');
        writer.append(line.as_bytes());
    });
}

/// The `RUST_LOG` filter: a level (`info`), or `target=level` directives
/// separated by commas (`warn,classification_api=debug`); `info` when unset
/// or unreadable (which is said once logging is on).
fn filter(rust_log: Option<&str>) -> (Targets, Option<String>) {
    let default = || Targets::new().with_default(tracing::Level::INFO);
    match rust_log.map(str::trim).filter(|v| !v.is_empty()) {
        None => (default(), None),
        Some(v) => match v.parse::<Targets>() {
            Ok(targets) => (targets, None),
            Err(e) => (
                default(),
                Some(format!(
                    "RUST_LOG={v:?} is not a filter ({e}): logging at info"
                )),
            ),
        },
    }
}

/// The log's filter: `targets`, without the trace spans (the trace layer
/// takes them; the log would write them into every line within them).
pub fn without_spans(targets: Targets) -> Targets {
    targets.with_target(
        crate::telemetry::traces::SPANS,
        tracing_subscriber::filter::LevelFilter::OFF,
    )
}

/// Logs to standard output with the `RUST_LOG` filter `filter_text`
/// (`None`: `info`), and records spans into `traces` if they are on.
pub fn init(
    filter_text: Option<&str>,
    traces: Option<&crate::telemetry::traces::Tracing>,
) -> FlushGuard {
    use std::io::IsTerminal;
    let (writer, guard) = batch_writer(Box::new(std::io::stdout()));
    let _ = WRITER.set(writer.clone());
    let (targets, problem) = filter(filter_text);
    let log = tracing_subscriber::fmt::layer()
        .with_writer(move || writer.clone())
        .with_ansi(std::io::stdout().is_terminal())
        .with_filter(without_spans(targets));
    // no trace layer at all without traces: an absent layer (`None`) would
    // enable the span callsites, and every request would make its spans in
    // the registry only for the log to leave them out
    match traces {
        Some(traces) => tracing_subscriber::registry()
            .with(log)
            .with(traces.layer())
            .init(),
        None => tracing_subscriber::registry().with(log).init(),
    }
    if let Some(problem) = problem {
        tracing::warn!("{problem}");
    }
    guard
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);

    impl Write for Sink {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn rust_log_takes_levels_and_targets() {
        use tracing::Level;
        let at = |v: Option<&str>, target: &str| {
            let (t, problem) = filter(v);
            (
                [Level::ERROR, Level::WARN, Level::INFO, Level::DEBUG]
                    .into_iter()
                    .filter(|l| t.would_enable(target, l))
                    .count(),
                problem.is_some(),
            )
        };
        assert_eq!(at(None, "x"), (3, false));
        assert_eq!(at(Some("warn"), "x"), (2, false));
        assert_eq!(
            at(
                Some("warn,classification_api=debug"),
                "classification_api::a"
            ),
            (4, false)
        );
        assert_eq!(
            at(Some("warn,classification_api=debug"), "hyper"),
            (2, false)
        );
        assert_eq!(at(Some("off"), "x"), (0, false));
        assert_eq!(at(Some("=bogus=="), "x"), (3, true));
    }

    #[test]
    fn every_line_arrives_in_order() {
        let sink = Sink::default();
        let (writer, guard) = batch_writer(Box::new(sink.clone()));
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let mut w = writer.clone();
                std::thread::spawn(move || {
                    for i in 0..20_000 {
                        w.write_all(format!("{t} {i}\n").as_bytes()).unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        drop(guard);
        let text = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
        let mut next = [0; 4];
        for line in text.lines() {
            let (t, i) = line.split_once(' ').unwrap();
            let t: usize = t.parse().unwrap();
            assert_eq!(i.parse::<usize>().unwrap(), next[t], "{line}");
            next[t] += 1;
        }
        assert_eq!(next, [20_000; 4]);
    }
}
