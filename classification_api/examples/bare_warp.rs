//! The framework's floor for `cargo xtask loadtest`: warp answering `hello`
//! on every path, with nothing else (no model, no logs, no metrics), built
//! with the same profile as the service.
//!
//! ```text
//! HOST=127.0.0.1 PORT=0 cargo run --release -p classification_api --example bare_warp
//! ```

use std::net::SocketAddr;

use warp::Filter;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let host = std::env::var("HOST").unwrap_or_else(|_| "127.0.0.1".into());
    let port = std::env::var("PORT").unwrap_or_else(|_| "0".into());
    let addr: SocketAddr = format!("{host}:{port}").parse()?;
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    // the service's ready signal, so that one harness starts both
    if let Ok(path) = std::env::var("ADDRESS_FILE") {
        let partial = format!("{path}.partial");
        std::fs::write(&partial, format!("{local}\n"))?;
        std::fs::rename(&partial, &path)?;
    }
    println!("listening on http://{local}");
    let hello = warp::any().map(|| "hello");
    warp::serve(hello)
        .incoming(listener)
        .graceful(async {
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                    .expect("SIGTERM handler");
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        })
        .run()
        .await;
    Ok(())
}
