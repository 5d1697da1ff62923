//! `cargo xtask loadtest --grpc`: the Open Inference Protocol over gRPC
//! (a tonic client: one HTTP/2 connection per simulated client, each
//! calling in a loop, as wrk's connections do) against REST V2 with JSON
//! and binary tensors (wrk), one row and the 1309 dataset rows, on the same
//! server in the same run. The client runs as xtask built in release
//! (`xtask grpc-load`): a debug build of tonic would measure itself.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow};
use bytes::Bytes;
use classification_model::Passenger;
use classification_model::schema::{Checked, FIELDS, Kind};

use crate::Result;
use crate::wrk::{Wrk, WrkResult};

/// The protocol's messages and client, from the service's generated code.
#[allow(
    dead_code,
    missing_docs,
    clippy::all,
    clippy::pedantic,
    rustdoc::bare_urls
)]
mod inference {
    include!("../../classification_api/src/grpc/generated/inference.rs");
}

use inference::grpc_inference_service_client::GrpcInferenceServiceClient;
use inference::model_infer_request::InferInputTensor;
use inference::{InferTensorContents, ModelInferRequest};

/// A `ModelInfer` request for `passengers`, each field typed as it reads
/// (text as BYTES, whole numbers INT64, the rest FP64), in raw contents as
/// `tritonclient[grpc]` sends them (missing: NaN, or empty text).
pub fn raw_request(passengers: &[Passenger]) -> ModelInferRequest {
    let n = passengers.len();
    let mut inputs = Vec::new();
    let mut raw = Vec::new();
    for (i, field) in FIELDS.iter().enumerate() {
        let datatype = match field.kind {
            Kind::Integer { .. } => "INT64",
            Kind::Number { .. } => "FP64",
            Kind::Choice(_) | Kind::Text => "BYTES",
        };
        let mut out = Vec::new();
        for p in passengers {
            let checked = field.check(p.values()[i]).unwrap_or(Checked::Missing);
            match (datatype, checked) {
                ("INT64", Checked::Number(v)) => out.extend_from_slice(&(v as i64).to_le_bytes()),
                ("INT64", _) => out.extend_from_slice(&0i64.to_le_bytes()),
                ("FP64", Checked::Number(v)) => out.extend_from_slice(&v.to_le_bytes()),
                ("FP64", _) => out.extend_from_slice(&f64::NAN.to_le_bytes()),
                (_, checked) => {
                    let text = match checked {
                        Checked::Label(l) => l.to_owned(),
                        Checked::Text(t) => t.to_string(),
                        Checked::Number(v) => v.to_string(),
                        Checked::Missing => String::new(),
                    };
                    out.extend_from_slice(&(text.len() as u32).to_le_bytes());
                    out.extend_from_slice(text.as_bytes());
                }
            }
        }
        raw.push(Bytes::from(out));
        inputs.push(InferInputTensor {
            name: field.name.to_owned(),
            datatype: datatype.to_owned(),
            shape: vec![n as i64],
            parameters: Default::default(),
            contents: None::<InferTensorContents>,
        });
    }
    ModelInferRequest {
        model_name: classification_model::artifact::MODEL_NAME.to_owned(),
        inputs,
        raw_input_contents: raw,
        ..Default::default()
    }
}

/// A codec that sends a message encoded once and reads an answer's length
/// only: the load generator spends its time on the calls, as wrk does, not
/// on protobuf (the first call on each connection is decoded and checked).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Raw;

impl tonic::codec::Codec for Raw {
    type Encode = Bytes;
    type Decode = usize;
    type Encoder = Raw;
    type Decoder = Raw;

    fn encoder(&mut self) -> Raw {
        Raw
    }

    fn decoder(&mut self) -> Raw {
        Raw
    }
}

impl tonic::codec::Encoder for Raw {
    type Item = Bytes;
    type Error = tonic::Status;

    fn encode(
        &mut self,
        item: Bytes,
        dst: &mut tonic::codec::EncodeBuf<'_>,
    ) -> std::result::Result<(), tonic::Status> {
        use bytes::BufMut as _;
        dst.put_slice(&item);
        Ok(())
    }
}

impl tonic::codec::Decoder for Raw {
    type Item = usize;
    type Error = tonic::Status;

    fn decode(
        &mut self,
        src: &mut tonic::codec::DecodeBuf<'_>,
    ) -> std::result::Result<Option<usize>, tonic::Status> {
        use bytes::Buf as _;
        let n = src.remaining();
        src.advance(n);
        Ok(Some(n))
    }
}

/// The method's path.
const MODEL_INFER: &str = "/inference.GRPCInferenceService/ModelInfer";

/// Calls `ModelInfer` with `request` on `connections` connections for
/// `duration`, on a runtime of `threads` threads; what wrk would report.
pub fn run(
    addr: SocketAddr,
    request: &ModelInferRequest,
    connections: u64,
    threads: u64,
    duration: Duration,
) -> Result<WrkResult> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads.max(1) as usize)
        .enable_all()
        .build()
        .context("a runtime for the gRPC load")?;
    runtime.block_on(async {
        let encoded = Bytes::from(prost::Message::encode_to_vec(request));
        let rows = request.inputs.first().map_or(0, |i| i.shape[0]);
        let mut clients = Vec::new();
        for _ in 0..connections {
            // windows that take a 1309-row answer whole, as grpc-core's
            // clients reach by probing the bandwidth
            let channel = tonic::transport::Channel::from_shared(format!("http://{addr}"))
                .map_err(|e| anyhow!("{e}"))?
                .initial_stream_window_size(4 << 20)
                .initial_connection_window_size(8 << 20)
                .connect()
                .await
                .with_context(|| format!("connecting to gRPC on {addr}"))?;
            // one call first on each, decoded, so that connecting is not
            // timed and the answer is known to be right
            let answer = GrpcInferenceServiceClient::new(channel.clone())
                .max_decoding_message_size(64 << 20)
                .model_infer(request.clone())
                .await
                .map_err(|e| anyhow!("the first gRPC call failed: {e}"))?
                .into_inner();
            if answer.outputs.first().map(|o| o.shape.as_slice()) != Some(&[rows][..]) {
                return Err(anyhow!("the first gRPC answer has not {rows} rows"));
            }
            clients.push(tonic::client::Grpc::new(channel).max_decoding_message_size(64 << 20));
        }
        let started = Instant::now();
        let deadline = started + duration;
        let tasks: Vec<_> = clients
            .into_iter()
            .map(|mut client| {
                let encoded = encoded.clone();
                tokio::spawn(async move {
                    let (mut latencies, mut errors) = (Vec::new(), 0u64);
                    let path = tonic::codegen::http::uri::PathAndQuery::from_static(MODEL_INFER);
                    while Instant::now() < deadline {
                        let sent = Instant::now();
                        let answer = match client.ready().await {
                            Ok(()) => {
                                client
                                    .unary(tonic::Request::new(encoded.clone()), path.clone(), Raw)
                                    .await
                            }
                            Err(e) => Err(tonic::Status::unavailable(e.to_string())),
                        };
                        match answer {
                            Ok(_) => latencies.push(sent.elapsed()),
                            Err(_) => errors += 1,
                        }
                    }
                    (latencies, errors)
                })
            })
            .collect();
        let mut latencies = Vec::new();
        let mut errors = 0;
        for task in tasks {
            let (l, e) = task.await.context("a load task")?;
            latencies.extend(l);
            errors += e;
        }
        let elapsed = started.elapsed().as_secs_f64();
        latencies.sort_unstable();
        let at = |q: f64| {
            latencies
                .get(((latencies.len() as f64 * q) as usize).min(latencies.len().saturating_sub(1)))
                .map(|d| show(*d))
                .unwrap_or_default()
        };
        Ok(WrkResult {
            requests_per_sec: latencies.len() as f64 / elapsed,
            p50: at(0.50),
            p99: at(0.99),
            max: latencies.last().map(|d| show(*d)).unwrap_or_default(),
            errors,
        })
    })
}

/// A latency as wrk writes it (`251.00us`, `1.23ms`).
fn show(d: Duration) -> String {
    let us = d.as_secs_f64() * 1e6;
    if us < 1000.0 {
        format!("{us:.2}us")
    } else if us < 1e6 {
        format!("{:.2}ms", us / 1000.0)
    } else {
        format!("{:.2}s", us / 1e6)
    }
}

/// Flags of the hidden `xtask grpc-load`, the optimised load generator.
#[derive(Debug, clap::Args)]
pub struct LoadArgs {
    /// The gRPC address.
    #[arg(long)]
    addr: SocketAddr,
    /// Dataset rows per call (from the first).
    #[arg(long)]
    rows: usize,
    #[arg(long)]
    connections: u64,
    #[arg(long)]
    threads: u64,
    /// Seconds.
    #[arg(long)]
    duration: u64,
}

/// `xtask grpc-load`: prints what [`run`] measures, one value per line.
pub fn load(a: LoadArgs) -> Result<()> {
    let data = std::fs::read(crate::root().join("classification_model/datasets/titanic.csv"))
        .map_err(|e| anyhow!("the dataset: {e}"))?;
    let dataset = classification_model::train::read_dataset(&data).map_err(anyhow::Error::from)?;
    let rows = a.rows.min(dataset.passengers().len());
    let r = run(
        a.addr,
        &raw_request(&dataset.passengers()[..rows]),
        a.connections,
        a.threads,
        Duration::from_secs(a.duration),
    )?;
    println!(
        "{}\n{}\n{}\n{}\n{}",
        r.requests_per_sec, r.p50, r.p99, r.max, r.errors
    );
    Ok(())
}

/// Runs `xtask grpc-load` from the release build.
fn release_load(wrk: &Wrk, addr: SocketAddr, rows: usize) -> Result<WrkResult> {
    let out = std::process::Command::new(crate::service::release_xtask()?)
        .args([
            "grpc-load",
            "--addr",
            &addr.to_string(),
            "--rows",
            &rows.to_string(),
        ])
        .args(["--connections", &wrk.connections.to_string()])
        .args(["--threads", &wrk.threads.to_string()])
        .args(["--duration", &wrk.duration.to_string()])
        .output()
        .context("running xtask grpc-load")?;
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    match (out.status.success(), lines.as_slice()) {
        (true, [rps, p50, p99, max, errors]) => Ok(WrkResult {
            requests_per_sec: rps.parse().context("requests/s")?,
            p50: (*p50).to_owned(),
            p99: (*p99).to_owned(),
            max: (*max).to_owned(),
            errors: errors.parse().context("errors")?,
        }),
        _ => Err(anyhow!(
            "xtask grpc-load failed: {}{}",
            text,
            String::from_utf8_lossy(&out.stderr)
        )),
    }
}

/// `--grpc`: the scenarios, each REST one before and after its gRPC
/// counterpart so that the machine's drift shows.
pub fn compare(wrk: &Wrk, url: &str, grpc: SocketAddr, all: &[Passenger]) -> Result<String> {
    let one = &all[..1];
    let infer = format!(
        "/v2/models/{}/infer",
        classification_model::artifact::MODEL_NAME
    );
    let (v1, ball) = (
        crate::v2_bodies::json("v1", one),
        crate::v2_bodies::binary("ball", all),
    );
    let grpc_run = |passengers: &[Passenger]| release_load(wrk, grpc, passengers.len());
    let rest1 = wrk.run_body(url, &infer, Some(&v1))?;
    let grpc1 = grpc_run(one)?;
    let rest1_again = wrk.run_body(url, &infer, Some(&v1))?;
    let restall = wrk.run_body(url, &infer, Some(&ball))?;
    let grpcall = grpc_run(all)?;
    let restall_again = wrk.run_body(url, &infer, Some(&ball))?;
    let small = (rest1.requests_per_sec + rest1_again.requests_per_sec) / 2.0;
    let large = (restall.requests_per_sec + restall_again.requests_per_sec) / 2.0;
    let mut report = format!(
        "gRPC ModelInfer against REST V2 infer, {} connections, {} client threads, {} s each, history off\n\n\
         | scenario | requests/s | ratio to REST of the same size (mean of its two runs) | p50 | p99 | errors |\n|---|---|---|---|---|---|\n",
        wrk.connections, wrk.threads, wrk.duration
    );
    for (name, r, base) in [
        ("REST V2 infer, 1 row (JSON)", &rest1, small),
        ("gRPC ModelInfer, 1 row (raw contents)", &grpc1, small),
        ("REST V2 infer, 1 row (JSON), again", &rest1_again, small),
        ("REST V2 infer, 1309 rows (binary tensors)", &restall, large),
        ("gRPC ModelInfer, 1309 rows (raw contents)", &grpcall, large),
        (
            "REST V2 infer, 1309 rows (binary tensors), again",
            &restall_again,
            large,
        ),
    ] {
        report.push_str(&r.row(name, base));
    }
    // with a fixed number of clients each waiting for its answer, the mean
    // latency is clients / throughput (Little's law)
    report.push_str(&format!(
        "\none-row gRPC throughput: {:.2}x REST V2 JSON (target ≥ 1.0x)\n\
         1309-row gRPC mean latency: {:.2}x REST V2 binary (target ≤ 1.0x)\n",
        grpc1.requests_per_sec / small,
        large / grpcall.requests_per_sec,
    ));
    if grpc1.errors + grpcall.errors > 0 {
        return Err(anyhow!("gRPC calls failed under load\n{report}"));
    }
    Ok(report)
}
