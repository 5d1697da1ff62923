//! `cargo xtask loadtest --traces`: one-record `/predict` with traces off,
//! on (every request sampled, exported over OTLP/gRPC to a receiver on
//! 127.0.0.1) and off again, in the same run. The receiver is xtask built
//! in release (`xtask otlp-sink`), which takes the exports without decoding
//! them.

use anyhow::{Context as _, anyhow};

use crate::Result;
use crate::service::{Server, build_release};
use crate::wrk::Wrk;

/// Flags of the hidden `xtask otlp-sink`.
#[derive(Debug, clap::Args)]
pub struct SinkArgs {
    /// Where to write the address it listens on, once it does.
    #[arg(long)]
    address_file: std::path::PathBuf,
}

/// The receiver: it takes each export whole and answers an empty
/// `ExportTraceServiceResponse` without decoding the spans, so that its own
/// cost on this machine's two cores stays small beside the service's.
#[derive(Debug, Default, Clone)]
struct Sink;

impl tonic::server::NamedService for Sink {
    const NAME: &'static str = "opentelemetry.proto.collector.trace.v1.TraceService";
}

/// The one method, answering at once.
struct Export;

impl tonic::server::UnaryService<usize> for Export {
    type Response = bytes::Bytes;
    type Future =
        std::future::Ready<std::result::Result<tonic::Response<bytes::Bytes>, tonic::Status>>;

    fn call(&mut self, _: tonic::Request<usize>) -> Self::Future {
        // an empty message is an ExportTraceServiceResponse with no partial failure
        std::future::ready(Ok(tonic::Response::new(bytes::Bytes::new())))
    }
}

impl<B> tower_service::Service<tonic::codegen::http::Request<B>> for Sink
where
    B: tonic::codegen::Body + Send + 'static,
    B::Error: Into<tonic::codegen::StdError> + Send + 'static,
{
    type Response = tonic::codegen::http::Response<tonic::body::Body>;
    type Error = std::convert::Infallible;
    type Future = tonic::codegen::BoxFuture<Self::Response, Self::Error>;

    fn poll_ready(
        &mut self,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::result::Result<(), Self::Error>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: tonic::codegen::http::Request<B>) -> Self::Future {
        Box::pin(async move {
            let mut grpc = tonic::server::Grpc::new(crate::grpc_load::Raw)
                .max_decoding_message_size(usize::MAX);
            Ok(grpc.unary(Export, request).await)
        })
    }
}

/// `xtask otlp-sink`: an OTLP/gRPC receiver on 127.0.0.1 until killed.
pub fn sink(a: SinkArgs) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("a runtime")?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        std::fs::write(&a.address_file, addr.to_string())?;
        let incoming = futures_util::stream::unfold(listener, |l| async move {
            let accepted = l.accept().await.map(|(s, _)| s);
            Some((accepted, l))
        });
        tonic::transport::Server::builder()
            .add_service(Sink)
            .serve_with_incoming(incoming)
            .await
            .map_err(|e| anyhow!("the OTLP sink stopped: {e}"))
    })
}

/// `--traces`: the runs and their report.
pub fn compare(wrk: &Wrk) -> Result<String> {
    build_release()?;
    let address_file = wrk.dir.join("otlp-sink.address");
    let _ = std::fs::remove_file(&address_file);
    let mut sink = std::process::Command::new(crate::service::release_xtask()?)
        .arg("otlp-sink")
        .arg("--address-file")
        .arg(&address_file)
        .spawn()
        .context("starting xtask otlp-sink")?;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let addr = loop {
        if let Ok(text) = std::fs::read_to_string(&address_file)
            && !text.is_empty()
        {
            break text;
        }
        if std::time::Instant::now() > deadline {
            let _ = sink.kill();
            return Err(anyhow!("the OTLP sink did not start"));
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    };
    let endpoint = format!("http://{addr}");
    let off: &[(&str, &str)] = &[("HISTORY", "off")];
    let on: &[(&str, &str)] = &[
        ("HISTORY", "off"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
        ("OTEL_TRACES_SAMPLER", "always_on"),
    ];
    let mut results = Vec::new();
    for (name, env) in [
        ("traces off", off),
        ("traces on (ratio 1.0, OTLP/gRPC)", on),
        ("traces off, again", off),
    ] {
        let server = Server::start_with(&wrk.dir, "traces", env)?;
        let r = wrk.run(&format!("http://{}", server.addr), "/predict", Some(1));
        server.stop()?;
        results.push((name, r?));
    }
    let _ = sink.kill();
    let _ = sink.wait();
    let base = (results[0].1.requests_per_sec + results[2].1.requests_per_sec) / 2.0;
    let mut report = format!(
        "One-record /predict with traces off and on, wrk -t{} -c{} -d{}s, history off\n\n\
         | scenario | requests/s | ratio to off (mean of its two runs) | p50 | p99 | errors |\n|---|---|---|---|---|---|\n",
        wrk.threads, wrk.connections, wrk.duration
    );
    for (name, r) in &results {
        report.push_str(&r.row(name, base));
    }
    report.push_str(&format!(
        "\ntraces on: {:.2}x of off (target ≥ 0.85x)\n",
        results[1].1.requests_per_sec / base
    ));
    Ok(report)
}
