//! What both servers do when accepting a connection fails.

use std::time::Duration;

/// Goes on after a failed accept: at once for a connection the client gave
/// up on, after a pause for the rest (out of file descriptors and the
/// like), instead of spinning.
pub async fn failed(e: std::io::Error) {
    use std::io::ErrorKind::*;
    if matches!(
        e.kind(),
        ConnectionAborted | ConnectionReset | ConnectionRefused
    ) {
        return;
    }
    tracing::error!(error = %e, "cannot accept connections");
    tokio::time::sleep(Duration::from_millis(100)).await;
}
