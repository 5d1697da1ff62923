//! Reads the configuration from the environment and starts the server.

use std::process::ExitCode;

use classification_api::config::Config;

#[tokio::main]
async fn main() -> ExitCode {
    let _flush_on_exit = classification_api::telemetry::logging::init();
    let result = match Config::from_env() {
        Ok(config) => classification_api::server::run(config).await,
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
