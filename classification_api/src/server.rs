//! The HTTP server: binding, connections, limits and graceful shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, LazyLock};
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
use crate::rest::auth::Peer;
use crate::rest::endpoint::Table;
use crate::rest::routes::routes;
use crate::rest::spec::Spec;
use crate::serving::models::{Loaded, Registry};
use crate::serving::reload;
use crate::serving::shadow::Shadow;
use crate::serving::state::AppState;

/// The REST adapters' endpoints, `/predict` first: the course's (`http`),
/// then the inference protocol's (`v2`).
pub static TABLE: LazyLock<Table> = LazyLock::new(|| {
    let mut endpoints = crate::http::endpoints::endpoints();
    endpoints.extend(crate::v2::endpoints());
    Table {
        endpoints,
        spec: &SPEC,
    }
});

/// The OpenAPI description of [`TABLE`]: the course adapter's frame with
/// the inference protocol's part merged in.
pub static SPEC: Spec = Spec::new(|history| {
    use utoipa::OpenApi as _;
    crate::http::openapi::document([crate::v2::ApiDoc::openapi()], TABLE.operations(history))
});

/// Largest request head (request line and headers) in bytes; larger gets 431.
pub const MAX_HEAD_BYTES: usize = 16 * 1024;

/// Loads the model versions, binds, and serves until SIGTERM or Ctrl-C.
pub async fn run(config: Config) -> Result<(), ServiceError> {
    let addr = config.addr();
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| ServiceError::Bind {
            what: "port",
            setting: "PORT",
            addr,
            source,
        })?;
    let grpc = match config.grpc_addr() {
        Some(addr) => Some(
            TcpListener::bind(addr)
                .await
                .map_err(|source| ServiceError::Bind {
                    what: "gRPC port",
                    setting: "GRPC_PORT",
                    addr,
                    source,
                })?,
        ),
        None => None,
    };
    let signal = shutdown_signal()?;
    let mut ready = Ready::new(config, listener).await?;
    if let Some(grpc) = grpc {
        ready = ready.with_grpc(grpc);
    }
    reload::on_sighup(ready.state.reloader());
    let local = ready.local_addr();
    let grpc = ready.grpc_addr();
    if let Some(path) = &ready.config.address_file {
        write_address(path, local, grpc).map_err(|source| ServiceError::AddressFile {
            path: path.clone(),
            source,
        })?;
    }
    tracing::info!(address = %local, model_version = %ready.version, "listening on http://{local}");
    if let Some(grpc) = grpc {
        tracing::info!(address = %grpc, "gRPC (Open Inference Protocol) on {grpc}");
    }
    ready.serve(signal).await;
    Ok(())
}

/// Writes `addr` (and the gRPC address on a second line) to `path` whole:
/// beside it first, then renamed, so that a reader never sees half of it.
fn write_address(
    path: &std::path::Path,
    addr: SocketAddr,
    grpc: Option<SocketAddr>,
) -> std::io::Result<()> {
    let mut partial = path.as_os_str().to_owned();
    partial.push(".partial");
    let text = match grpc {
        Some(grpc) => format!("{addr}\n{grpc}\n"),
        None => format!("{addr}\n"),
    };
    std::fs::write(&partial, text)?;
    std::fs::rename(&partial, path)
}

/// A server with its models loaded, its history open and its listener
/// bound: once made, it answers every request.
pub struct Ready {
    listener: TcpListener,
    grpc: Option<TcpListener>,
    state: Arc<AppState>,
    config: Config,
    /// The default model version, for the first log line.
    version: String,
    history: Option<(crate::history::recorder::Tasks, Store)>,
    _watcher: Option<notify::RecommendedWatcher>,
}

impl Ready {
    /// Loads the model versions and opens the history, to serve on `listener`.
    pub async fn new(config: Config, listener: TcpListener) -> Result<Ready, ServiceError> {
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
        let mut state = AppState::new(registry, &config, &TABLE.labels());
        reload::record(&state.reloader(), &loaded, "start");
        let store = Store::open(&config.history).await?;
        if let Some(version) = &loaded.shadow {
            let (shadow, _task) = Shadow::start(state.metrics.clone(), store.clone());
            state.shadow = Some(shadow);
            tracing::info!(version = %version, "shadow scoring on");
        }
        let history = store.map(|store| {
            tracing::info!(backend = store.backend(), "prediction history on");
            let (recorder, tasks) = Recorder::start(store.clone(), config.retention_days);
            state.history = Some(recorder);
            (tasks, store)
        });
        let state = Arc::new(state);
        Ok(Ready {
            _watcher: reload::watch(state.reloader()),
            listener,
            grpc: None,
            state,
            config,
            version: loaded.default,
            history,
        })
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        // a bound listener has an address
        self.listener
            .local_addr()
            .unwrap_or_else(|_| self.config.addr())
    }

    /// Also serves the gRPC services on `listener`.
    pub fn with_grpc(mut self, listener: TcpListener) -> Self {
        self.grpc = Some(listener);
        self
    }

    /// The address the gRPC services listen on, if they are on.
    pub fn grpc_addr(&self) -> Option<SocketAddr> {
        self.grpc.as_ref().and_then(|l| l.local_addr().ok())
    }

    /// Serves until `signal`, lets in-flight requests finish, then writes
    /// what the history has queued.
    pub async fn serve(self, signal: impl Future<Output = ()>) {
        let refresher = self.history.is_some().then(|| {
            tokio::spawn(refresh_monitoring(
                self.state.clone(),
                self.config.monitoring_refresh,
            ))
        });
        // one signal stops both servers
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let grpc = self.grpc.map(|listener| {
            let (state, config) = (self.state.clone(), self.config.clone());
            let mut stopped = stopped.clone();
            tokio::spawn(async move {
                let signal = async move {
                    let _ = stopped.wait_for(|stop| *stop).await;
                };
                crate::grpc::server::serve(listener, state, &config, signal).await;
            })
        });
        let signal = async move {
            signal.await;
            let _ = stop.send(true);
        };
        serve(self.listener, self.state, &self.config, signal).await;
        if let Some(grpc) = grpc {
            let _ = grpc.await;
        }
        if let Some(refresher) = refresher {
            refresher.abort();
        }
        if let Some((tasks, store)) = self.history {
            // every answered record is stored already; this writes what
            // requests cut off by the grace period had queued
            tasks.finish(&store).await;
            tracing::info!("prediction history flushed and closed");
        }
    }
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
        match crate::history::report::report(&model, recorder, filter).await {
            Ok(report) => state
                .metrics
                .record_monitoring(report.figures(), report.psi()),
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
async fn serve(
    listener: TcpListener,
    state: Arc<AppState>,
    config: &Config,
    signal: impl Future<Output = ()>,
) {
    let service = warp::service(routes(state.clone(), &TABLE));
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
                        Ok::<_, std::convert::Infallible>(crate::rest::reply::unstream(response))
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
                Err(e) => crate::accept::failed(e).await,
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
