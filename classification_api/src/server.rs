//! The HTTP server: binding, connections, limits and graceful shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures_util::FutureExt;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

use crate::config::Config;
use crate::errors::ServiceError;
use crate::history::recorder::Recorder;
use crate::history::store::Store;
use crate::http::auth::Peer;
use crate::http::routes::routes;
use crate::http::state::AppState;
use crate::serving::models::{Loaded, Registry};
use crate::serving::reload;
use crate::serving::shadow::Shadow;

/// Largest request head (request line and headers) in bytes; larger gets 431.
pub const MAX_HEAD_BYTES: usize = 16 * 1024;

/// Loads the model versions, binds, and serves until SIGTERM or Ctrl-C.
pub async fn run(config: Config) -> Result<(), ServiceError> {
    let base = match &config.model_path {
        Some(path) => Loaded::file(path)?,
        None => Loaded::embedded()?,
    };
    let (registry, loaded) = Registry::open(
        base,
        config.models_dir.clone(),
        config.default_version.clone(),
        config.shadow_version.clone(),
    )?;
    let addr = config.addr();
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| ServiceError::Bind { addr, source })?;
    let local = listener
        .local_addr()
        .map_err(|source| ServiceError::Bind { addr, source })?;
    let signal = shutdown_signal()?;
    let mut state = AppState::new(registry, &config, &crate::http::endpoints::labels());
    reload::record(&state.reloader(), &loaded, "start");
    let store = Store::open(&config.history).await?;
    if let Some(version) = &loaded.shadow {
        let (shadow, _task) = Shadow::start(state.metrics.clone(), store.clone());
        state.shadow = Some(shadow);
        tracing::info!(version = %version, "shadow scoring on");
    }
    let tasks = store.map(|store| {
        tracing::info!(backend = store.backend(), "prediction history on");
        let (recorder, tasks) = Recorder::start(store.clone(), config.retention_days);
        state.history = Some(recorder);
        (tasks, store)
    });
    let state = Arc::new(state);
    let _watcher = reload::watch(state.reloader());
    reload::on_sighup(state.reloader());
    let refresher = tasks
        .is_some()
        .then(|| tokio::spawn(refresh_monitoring(state.clone(), config.monitoring_refresh)));
    tracing::info!(address = %local, model_version = %loaded.default, "listening on http://{local}");
    serve(listener, state, &config, signal).await;
    if let Some(refresher) = refresher {
        refresher.abort();
    }
    if let Some((tasks, store)) = tasks {
        // every answered record is stored already; this writes what requests
        // cut off by the grace period had queued
        tasks.finish(&store).await;
        tracing::info!("prediction history flushed and closed");
    }
    Ok(())
}

/// Keeps the monitoring gauges of `/metrics` current.
async fn refresh_monitoring(state: Arc<AppState>, every: Duration) {
    let Some(recorder) = state.history.as_ref() else {
        return;
    };
    loop {
        let model = state.models.current().default_model().clone();
        let filter = crate::history::store::Filter {
            version: Some(model.version().to_owned()),
            ..Default::default()
        };
        match crate::http::admin::report(&model, recorder, filter).await {
            Ok(report) => state.metrics.record_monitoring(&report),
            Err(e) => tracing::warn!(error = %e, "monitoring refresh failed"),
        }
        tokio::time::sleep(every).await;
    }
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
    let service = warp::service(routes(state.clone()));
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(config.header_timeout)
        .max_buf_size(MAX_HEAD_BYTES);
    let graceful = GracefulShutdown::new();
    let connections = Arc::new(Semaphore::new(config.max_connections));
    let mut signal = std::pin::pin!(signal);
    let serve_one = |stream: TcpStream, peer: SocketAddr| {
        let Ok(permit) = connections.clone().try_acquire_owned() else {
            tokio::spawn(refuse(stream));
            return;
        };
        let _ = stream.set_nodelay(true);
        let service = service.clone();
        let conn = http.serve_connection(
            TokioIo::new(stream),
            hyper::service::service_fn(
                move |mut request: hyper::Request<hyper::body::Incoming>| {
                    request.extensions_mut().insert(Peer(peer));
                    let mut service = service.clone();
                    async move {
                        let response = tower_service::Service::call(&mut service, request).await?;
                        Ok::<_, std::convert::Infallible>(crate::http::output::unstream(response))
                    }
                },
            ),
        );
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
            drop(permit);
        });
    };
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => serve_one(stream, peer),
                Err(e) => accept_error(e).await,
            },
            () = &mut signal => break,
        }
    }
    state
        .ready
        .store(false, std::sync::atomic::Ordering::Relaxed);
    // Serve the connections the kernel already accepted for us, so that no
    // client that got through the handshake is reset, then stop listening.
    while let Some(Ok((stream, peer))) = listener.accept().now_or_never() {
        serve_one(stream, peer);
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

/// Answers 503 on a connection over the limit, then closes it.
async fn refuse(mut stream: TcpStream) {
    const BODY: &str = r#"{"errors":[{"message":"too many connections: retry shortly"}]}"#;
    let response = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: 1\r\n\
         connection: close\r\ncontent-length: {}\r\n\r\n{BODY}",
        BODY.len()
    );
    let _ = tokio::time::timeout(
        Duration::from_secs(1),
        stream.write_all(response.as_bytes()),
    )
    .await;
    tracing::warn!("connection refused: MAX_CONNECTIONS reached");
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
