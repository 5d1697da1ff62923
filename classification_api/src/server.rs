//! The HTTP server: binding, connections, limits and graceful shutdown.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;

use crate::config::Config;
use crate::errors::ServiceError;
use crate::filters::routes;
use crate::handlers::AppState;

/// Largest request head (request line and headers) in bytes; larger gets 431.
pub const MAX_HEAD_BYTES: usize = 16 * 1024;

/// Loads the model, binds, and serves until SIGTERM or Ctrl-C.
pub async fn run(config: Config) -> Result<(), ServiceError> {
    let model = classification_model::Model::embedded()?;
    let addr = config.addr();
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| ServiceError::Bind { addr, source })?;
    let local = listener
        .local_addr()
        .map_err(|source| ServiceError::Bind { addr, source })?;
    let state = Arc::new(AppState {
        model,
        max_body_bytes: config.max_body_bytes,
        max_batch: config.max_batch,
        body_timeout: config.header_timeout.max(Duration::from_secs(30)),
    });
    tracing::info!(address = %local, model_version = model.version(), "listening on http://{local}");
    let signal = shutdown_signal()?;
    serve(listener, state, &config, signal).await;
    Ok(())
}

/// Resolves on SIGTERM or Ctrl-C.
fn shutdown_signal() -> Result<impl Future<Output = ()> + Send + 'static, ServiceError> {
    #[cfg(unix)]
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(ServiceError::Signal)?;
    Ok(async move {
        #[cfg(unix)]
        let term = term.recv();
        #[cfg(not(unix))]
        let term = std::future::pending::<Option<()>>();
        tokio::select! {
            _ = tokio::signal::ctrl_c() => tracing::info!("Ctrl-C: shutting down"),
            _ = term => tracing::info!("SIGTERM: shutting down"),
        }
    })
}

/// Accepts connections until `signal`, then lets in-flight requests finish
/// (for at most the configured grace period).
pub async fn serve(
    listener: TcpListener,
    state: Arc<AppState>,
    config: &Config,
    signal: impl Future<Output = ()>,
) {
    let service = warp::service(routes(state));
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(config.header_timeout)
        .max_buf_size(MAX_HEAD_BYTES);
    let graceful = GracefulShutdown::new();
    let mut signal = std::pin::pin!(signal);
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let _ = stream.set_nodelay(true);
                    let conn = http.serve_connection(
                        TokioIo::new(stream),
                        TowerToHyperService::new(service.clone()),
                    );
                    let conn = graceful.watch(conn);
                    tokio::spawn(async move {
                        if let Err(e) = conn.await {
                            tracing::debug!(%peer, error = %e, "connection ended with an error");
                        }
                    });
                }
                Err(e) => accept_error(e).await,
            },
            () = &mut signal => break,
        }
    }
    drop(listener);
    if tokio::time::timeout(config.shutdown_grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("grace period over: closing the remaining connections");
    }
    tracing::info!("stopped");
}

async fn accept_error(e: std::io::Error) {
    use std::io::ErrorKind::*;
    if matches!(
        e.kind(),
        ConnectionAborted | ConnectionReset | ConnectionRefused
    ) {
        return;
    }
    // out of file descriptors and the like: back off instead of spinning
    tracing::error!(error = %e, "cannot accept connections");
    tokio::time::sleep(Duration::from_millis(100)).await;
}
