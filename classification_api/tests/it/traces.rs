//! OpenTelemetry traces against a real OTLP receiver (the official OTLP
//! protobuf service, from `opentelemetry-proto`, on a loopback port): a
//! caller's `traceparent` is continued on HTTP and gRPC, the spans have the
//! documented structure, the access log carries the trace id, and a
//! collector that refuses or hangs leaves every request answered, the spans
//! it could not take counted.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use crate::common::{Server, send};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::trace::v1::Span;

const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT: &str = "00f067aa0ba902b7";
const ALLEN: &str = r#"{"pclass": 1, "name": "Allen, Miss. Elisabeth Walton", "sex": "female", "age": 29, "sibsp": 0, "parch": 0, "fare": 211.3375, "cabin": "B5", "embarked": "S"}"#;

/// What the receiver got: spans, and the resource's service name.
#[derive(Clone, Default)]
struct Receiver {
    spans: Arc<Mutex<Vec<Span>>>,
    services: Arc<Mutex<Vec<String>>>,
}

#[tonic::async_trait]
impl TraceService for Receiver {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        for resource_spans in request.into_inner().resource_spans {
            for kv in resource_spans.resource.iter().flat_map(|r| &r.attributes) {
                if kv.key == "service.name"
                    && let Some(Value::StringValue(s)) =
                        kv.value.as_ref().and_then(|v| v.value.clone())
                {
                    self.services.lock().unwrap().push(s);
                }
            }
            for scope in resource_spans.scope_spans {
                self.spans.lock().unwrap().extend(scope.spans);
            }
        }
        Ok(tonic::Response::new(ExportTraceServiceResponse {
            partial_success: None,
        }))
    }
}

/// An OTLP/gRPC receiver on a loopback port, for the rest of the process.
fn receiver() -> (SocketAddr, Receiver) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    let receiver = Receiver::default();
    let service = TraceServiceServer::new(receiver.clone());
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            let incoming = futures_util::stream::unfold(listener, |l| async move {
                let accepted = l.accept().await.map(|(s, _)| s);
                Some((accepted, l))
            });
            tonic::transport::Server::builder()
                .add_service(service)
                .serve_with_incoming(incoming)
                .await
                .unwrap();
        });
    });
    (addr, receiver)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn attribute(span: &Span, key: &str) -> Option<String> {
    span.attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref()?.value.as_ref())
        .map(|v| match v {
            Value::StringValue(s) => s.clone(),
            Value::IntValue(i) => i.to_string(),
            Value::BoolValue(b) => b.to_string(),
            Value::DoubleValue(d) => d.to_string(),
            other => format!("{other:?}"),
        })
}

fn predict(server: &Server, extra: &str) -> crate::common::Response {
    let body = format!(r#"{{"inputs": [{ALLEN}]}}"#);
    send(
        server.addr,
        format!(
            "POST /predict HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{extra}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .as_bytes(),
    )
}

#[test]
fn a_callers_trace_is_continued_with_the_documented_spans() {
    let (addr, received) = receiver();
    let endpoint = format!("http://{addr}");
    let mut server = Server::start(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
        ("OTEL_SERVICE_NAME", "titanic-test"),
    ]);
    let r = predict(&server, &format!("traceparent: 00-{TRACE}-{PARENT}-01\r\n"));
    assert_eq!(r.status, 200, "{}", r.body);
    let answered = r
        .header("traceparent")
        .expect("a traceparent in the answer");
    assert!(answered.starts_with(&format!("00-{TRACE}-")), "{answered}");
    // gRPC too
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let grpc_answer = runtime.block_on(async {
        use classification_api::grpc::inference::grpc_inference_service_client::GrpcInferenceServiceClient;
        use classification_api::grpc::inference::ServerLiveRequest;
        let channel = tonic::transport::Channel::from_shared(format!("http://{}", server.grpc))
            .unwrap()
            .connect()
            .await
            .unwrap();
        let mut request = tonic::Request::new(ServerLiveRequest {});
        request.metadata_mut().insert(
            "traceparent",
            format!("00-{TRACE}-{PARENT}-01").parse().unwrap(),
        );
        GrpcInferenceServiceClient::new(channel)
            .server_live(request)
            .await
            .unwrap()
            .metadata()
            .get("traceparent")
            .map(|v| v.to_str().unwrap().to_owned())
    });
    assert!(
        grpc_answer.is_some_and(|t| t.starts_with(&format!("00-{TRACE}-"))),
        "the gRPC answer carries the trace"
    );
    let log = server.log.lock().unwrap().clone();
    // (the binary writes trace_id=..., the tests' log quotes the value)
    assert!(
        log.contains(&format!("trace_id={TRACE}"))
            || log.contains(&format!("trace_id=\"{TRACE}\"")),
        "{log}"
    );
    // stopping the server exports every span
    server.stop();
    let spans = received.spans.lock().unwrap().clone();
    assert!(
        received
            .services
            .lock()
            .unwrap()
            .iter()
            .all(|s| s == "titanic-test")
    );
    let of_trace: Vec<&Span> = spans.iter().filter(|s| hex(&s.trace_id) == TRACE).collect();
    let request = of_trace
        .iter()
        .find(|s| s.name == "POST /predict")
        .unwrap_or_else(|| {
            panic!(
                "no request span in {:?}",
                of_trace.iter().map(|s| &s.name).collect::<Vec<_>>()
            )
        });
    assert_eq!(hex(&request.parent_span_id), PARENT);
    assert_eq!(
        attribute(request, "http.route").as_deref(),
        Some("/predict")
    );
    assert_eq!(
        attribute(request, "http.response.status_code").as_deref(),
        Some("200")
    );
    assert_eq!(attribute(request, "records").as_deref(), Some("1"));
    assert_eq!(
        attribute(request, "model.version").as_deref(),
        Some(classification_model::model_version())
    );
    let children: Vec<&str> = of_trace
        .iter()
        .filter(|s| s.parent_span_id == request.span_id)
        .map(|s| s.name.as_str())
        .collect();
    for child in ["read body", "parse", "score", "history write"] {
        assert!(
            children.contains(&child),
            "no {child} span under the request: {children:?}"
        );
    }
    // the group commit is its own span, linked to each request in it
    let commit = spans
        .iter()
        .find(|s| {
            s.name == "history commit" && s.links.iter().any(|l| l.span_id == request.span_id)
        })
        .expect("a history commit span linked to the request");
    assert_eq!(attribute(commit, "requests").as_deref(), Some("1"));
    let grpc = of_trace
        .iter()
        .find(|s| s.name == "inference.GRPCInferenceService/ServerLive")
        .expect("a gRPC span of the trace");
    assert_eq!(hex(&grpc.parent_span_id), PARENT);
}

#[test]
fn without_a_caller_trace_a_new_one_begins_and_sampling_applies() {
    let (addr, received) = receiver();
    let endpoint = format!("http://{addr}");
    let mut server = Server::start(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
        ("HISTORY", "off"),
    ]);
    let r = predict(&server, "");
    let traceparent = r.header("traceparent").expect("a new trace").to_owned();
    // a caller that sampled its trace out is followed (parent-based)
    let r = predict(&server, &format!("traceparent: 00-{TRACE}-{PARENT}-00\r\n"));
    assert_eq!(r.status, 200);
    server.stop();
    let spans = received.spans.lock().unwrap().clone();
    let new_trace = traceparent.split('-').nth(1).unwrap();
    assert!(
        spans
            .iter()
            .any(|s| hex(&s.trace_id) == new_trace && s.name == "POST /predict")
    );
    assert!(!spans.iter().any(|s| hex(&s.trace_id) == TRACE));
}

#[test]
fn a_collector_that_refuses_or_hangs_costs_no_request() {
    // refuses: nothing listens there
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let refused = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    // hangs: accepts connections and never answers
    let hanging = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let hangs = format!("http://{}", hanging.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in hanging.incoming() {
            held.push(stream);
        }
    });
    for (endpoint, protocol) in [
        (&refused, "grpc"),
        (&hangs, "grpc"),
        (&hangs, "http/protobuf"),
    ] {
        let mut server = Server::start(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "2000"),
            ("OTEL_BSP_MAX_QUEUE_SIZE", "64"),
            ("HISTORY", "off"),
        ]);
        let before = dropped(&server);
        // requests go on while the export fails or hangs: every one is
        // answered; with a hanging collector, spans beyond the queue are
        // dropped and counted
        let mut sent = 0;
        loop {
            for _ in 0..50 {
                let r = predict(&server, "");
                assert_eq!(r.status, 200, "{endpoint} {protocol}: {}", r.body);
            }
            sent += 50;
            let counted = dropped(&server) > before;
            if endpoint == &refused && sent >= 100 {
                break;
            }
            if counted {
                break;
            }
            assert!(sent < 20_000, "{protocol}: no dropped span counted");
        }
        server.stop();
    }
}

/// `otel_spans_dropped_total` in `/metrics`.
fn dropped(server: &Server) -> u64 {
    let metrics = server.get("/metrics").body;
    metrics
        .lines()
        .find_map(|l| l.strip_prefix("otel_spans_dropped_total "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no otel_spans_dropped_total in {metrics}"))
}

/// An OTLP/HTTP receiver (`POST /v1/traces`, protobuf) on a loopback port.
fn http_receiver() -> (SocketAddr, Arc<Mutex<Vec<Span>>>) {
    use warp::Filter as _;
    let spans = Arc::new(Mutex::new(Vec::new()));
    let kept = spans.clone();
    let route = warp::post()
        .and(warp::path!("v1" / "traces"))
        .and(warp::header::exact_ignore_case(
            "content-type",
            "application/x-protobuf",
        ))
        .and(warp::body::bytes())
        .map(move |body: bytes::Bytes| {
            let request = <ExportTraceServiceRequest as prost::Message>::decode(body).unwrap();
            for resource_spans in request.resource_spans {
                for scope in resource_spans.scope_spans {
                    kept.lock().unwrap().extend(scope.spans);
                }
            }
            warp::http::Response::builder()
                .header("content-type", "application/x-protobuf")
                .body(Vec::new())
                .unwrap()
        });
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            warp::serve(route).incoming(listener).run().await;
        });
    });
    (rx.recv().unwrap(), spans)
}

#[test]
fn http_protobuf_export_reaches_the_collector() {
    let (addr, spans) = http_receiver();
    let mut server = Server::start(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", &format!("http://{addr}")),
        ("HISTORY", "off"),
    ]);
    let r = predict(&server, &format!("traceparent: 00-{TRACE}-{PARENT}-01\r\n"));
    assert_eq!(r.status, 200);
    server.stop();
    let spans = spans.lock().unwrap().clone();
    let request = spans
        .iter()
        .find(|s| s.name == "POST /predict" && hex(&s.trace_id) == TRACE)
        .expect("the request span, over HTTP/protobuf");
    assert_eq!(hex(&request.parent_span_id), PARENT);
}

#[test]
fn shadow_scoring_and_reloads_have_their_spans() {
    let (addr, received) = receiver();
    let dir = crate::common::temp_dir("traces-models");
    crate::common::install_artifact(&dir, "9.3.0", &crate::common::artifact("9.3.0", 7));
    let mut server = Server::start(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", &format!("http://{addr}")),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
        ("MODELS_DIR", dir.to_str().unwrap()),
        ("SHADOW_MODEL_VERSION", "9.3.0"),
    ]);
    let r = predict(&server, &format!("traceparent: 00-{TRACE}-{PARENT}-01\r\n"));
    assert_eq!(r.status, 200, "{}", r.body);
    let reload = server.post("/admin/reload", "application/json", "");
    assert_eq!(reload.status, 200, "{}", reload.body);
    server.stop();
    let spans = received.spans.lock().unwrap().clone();
    let request = spans
        .iter()
        .find(|s| s.name == "POST /predict" && hex(&s.trace_id) == TRACE)
        .expect("the request span");
    let shadow = spans
        .iter()
        .find(|s| s.name == "shadow score")
        .expect("a shadow score span");
    assert!(
        shadow.links.iter().any(|l| l.span_id == request.span_id),
        "the shadow's span links to the request it shadows"
    );
    assert_eq!(attribute(shadow, "model.version").as_deref(), Some("9.3.0"));
    let reloads: Vec<Option<String>> = spans
        .iter()
        .filter(|s| s.name == "model reload")
        .map(|s| attribute(s, "trigger"))
        .collect();
    assert!(
        reloads
            .iter()
            .any(|t| t.as_deref() == Some("POST /admin/reload")),
        "a model reload span for POST /admin/reload: {reloads:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
