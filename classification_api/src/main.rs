//! Reads the configuration from the environment and starts the server.

use std::process::ExitCode;

use classification_api::config::Config;
use classification_api::telemetry::traces::Tracing;

/// mimalloc (v2), not the system allocator: a span is made on a request's
/// thread and freed on the export thread, and glibc's free of another
/// thread's memory was the largest single cost of traces; history and
/// `/predict` gain too (`docs/BENCHMARKS.md`, "The allocator").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let config = Config::from_env();
    let traces = match &config {
        Ok(Config {
            traces: Some(settings),
            ..
        }) => Some(Tracing::start(settings)),
        _ => None,
    };
    let (traces, traces_failed) = match traces {
        Some(Ok(traces)) => (Some(traces), None),
        Some(Err(e)) => (None, Some(e)),
        None => (None, None),
    };
    let log = config.as_ref().ok().map(|c| c.log.as_str());
    let _flush_on_exit = classification_api::telemetry::logging::init(log, traces.as_ref());
    let result = match (config, traces_failed) {
        (_, Some(e)) => Err(e),
        (Ok(config), None) => classification_api::server::run(config).await,
        (Err(e), None) => Err(e.into()),
    };
    // the last spans are exported before the log's last lines
    drop(traces);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
