//! Serves the gRPC services on their own listener with the HTTP server's
//! limits: messages up to `MAX_BODY_BYTES` (a larger one gets
//! `RESOURCE_EXHAUSTED`), at most `MAX_CONNECTIONS` connections (one more
//! is closed at once), `MAX_IN_FLIGHT` calls per connection (predictions
//! share the HTTP server's admission permits), `REQUEST_TIMEOUT_SECS` per
//! call, and HTTP/2 keep-alive pings; on shutdown it stops accepting,
//! lets calls finish within the grace period, and closes.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tonic::codegen::http;
use tonic::transport::server::{Connected, TcpConnectInfo};

use crate::config::Config;
use crate::grpc::health::Checks;
use crate::grpc::inference::grpc_inference_service_server::GrpcInferenceServiceServer;
use crate::grpc::service::Inference;
use crate::serving::state::AppState;

/// How often an idle connection is pinged, and how long a ping may wait.
const KEEPALIVE: Duration = Duration::from_secs(60);
const KEEPALIVE_TIMEOUT: Duration = Duration::from_secs(20);

/// Serves gRPC on `listener` until `signal`, then drains for at most the
/// grace period.
pub async fn serve(
    listener: TcpListener,
    state: Arc<AppState>,
    config: &Config,
    signal: impl Future<Output = ()>,
) {
    let inference = GrpcInferenceServiceServer::new(Inference::new(state.clone()))
        .max_decoding_message_size(config.max_body_bytes)
        .max_encoding_message_size(usize::MAX);
    let health = tonic_health::pb::health_server::HealthServer::new(Checks::new(state));
    let in_flight = u32::try_from(config.max_in_flight).unwrap_or(u32::MAX);
    let limit = config.max_body_bytes;
    // a whole request may arrive without waiting for window updates (the
    // HTTP/2 default of 64 KiB a stream would make a 1309-row batch wait
    // for round trips); the connection's window holds a few of them
    let window = u32::try_from(limit.clamp(1 << 16, 1 << 24)).unwrap_or(1 << 24);
    let router = tonic::transport::Server::builder()
        .timeout(config.request_timeout)
        .initial_stream_window_size(window)
        .initial_connection_window_size(window.saturating_mul(4))
        .max_concurrent_streams(in_flight)
        .http2_keepalive_interval(Some(KEEPALIVE))
        .http2_keepalive_timeout(Some(KEEPALIVE_TIMEOUT))
        .layer(tower::util::MapResponseLayer::new(
            move |response: http::Response<tonic::body::Body>| too_large(response, limit),
        ))
        .add_service(inference)
        .add_service(health);
    let incoming = accepted(listener, Arc::new(Semaphore::new(config.max_connections)));
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = router.serve_with_incoming_shutdown(incoming, async {
        let _ = stop_rx.await;
    });
    let mut server = std::pin::pin!(server);
    tokio::select! {
        result = &mut server => {
            if let Err(e) = result {
                tracing::error!(error = %e, "the gRPC server stopped");
            }
            return;
        }
        () = signal => {}
    }
    let _ = stop_tx.send(());
    match tokio::time::timeout(config.shutdown_grace, server).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::error!(error = %e, "the gRPC server stopped"),
        Err(_) => tracing::warn!("grace period over: closing the remaining gRPC connections"),
    }
    tracing::info!("gRPC stopped");
}

/// Turns tonic's `OUT_OF_RANGE` for a message over the size limit (the only
/// use of that code here) into `RESOURCE_EXHAUSTED`, which gRPC gives for
/// limits, with a message that names the setting.
fn too_large(
    mut response: http::Response<tonic::body::Body>,
    limit: usize,
) -> http::Response<tonic::body::Body> {
    let headers = response.headers_mut();
    if headers.get("grpc-status").is_some_and(|v| v == "11") {
        headers.insert("grpc-status", http::HeaderValue::from_static("8"));
        let message = format!(
            "the message is larger than the {limit} bytes MAX_BODY_BYTES allows: split the batch"
        );
        if let Ok(value) = http::HeaderValue::from_str(&message) {
            headers.insert("grpc-message", value);
        }
    }
    response
}

/// The connections `listener` accepts, each holding a permit of
/// `connections` while open; one over the limit is closed at once.
fn accepted(
    listener: TcpListener,
    connections: Arc<Semaphore>,
) -> impl futures_util::Stream<Item = Result<Limited, io::Error>> {
    futures_util::stream::unfold(
        (listener, connections),
        |(listener, connections)| async move {
            loop {
                match listener.accept().await {
                    Ok((stream, _)) => {
                        let Ok(permit) = connections.clone().try_acquire_owned() else {
                            tracing::warn!("gRPC connection refused: MAX_CONNECTIONS reached");
                            continue;
                        };
                        let _ = stream.set_nodelay(true);
                        let limited = Limited {
                            stream,
                            _permit: permit,
                        };
                        return Some((Ok(limited), (listener, connections)));
                    }
                    Err(e) => crate::accept::failed(e).await,
                }
            }
        },
    )
}

/// A connection, with its permit.
#[derive(Debug)]
pub struct Limited {
    stream: TcpStream,
    _permit: OwnedSemaphorePermit,
}

impl Connected for Limited {
    type ConnectInfo = TcpConnectInfo;

    fn connect_info(&self) -> TcpConnectInfo {
        self.stream.connect_info()
    }
}

impl AsyncRead for Limited {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Limited {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}
