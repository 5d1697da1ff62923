//! The Open Inference Protocol over gRPC, with a tonic client against the
//! server in this process: metadata and health, the 1309 rows in typed and
//! raw contents equal to the library, explanations, errors with their
//! status codes and the messages REST gives, the key, request ids, history
//! and metrics; and the binary draining gRPC on SIGTERM.

use crate::common::{Process, Server};
use bytes::Bytes;
use classification_api::grpc::inference::grpc_inference_service_client::GrpcInferenceServiceClient;
use classification_api::grpc::inference::infer_parameter::ParameterChoice;
use classification_api::grpc::inference::model_infer_request::{
    InferInputTensor, InferRequestedOutputTensor,
};
use classification_api::grpc::inference::{
    InferParameter, InferTensorContents, ModelInferRequest, ModelInferResponse,
    ModelMetadataRequest, ModelReadyRequest, ServerLiveRequest, ServerMetadataRequest,
    ServerReadyRequest,
};
use classification_model::{Model, make_prediction, model_version, train::read_dataset};
use tonic::Code;
use tonic::transport::Channel;

type Client = GrpcInferenceServiceClient<Channel>;

fn model_name() -> String {
    Model::embedded().unwrap().name().to_owned()
}

async fn client(addr: std::net::SocketAddr) -> Client {
    let channel = Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    GrpcInferenceServiceClient::new(channel).max_decoding_message_size(64 << 20)
}

/// The dataset's columns: name, datatype.
const COLUMNS: [(&str, &str); 10] = [
    ("pclass", "INT64"),
    ("name", "BYTES"),
    ("sex", "BYTES"),
    ("age", "FP64"),
    ("sibsp", "INT32"),
    ("parch", "INT64"),
    ("fare", "FP64"),
    ("cabin", "BYTES"),
    ("embarked", "BYTES"),
    ("ticket", "BYTES"),
];

/// The dataset as typed contents (missing: `""` for text, NaN for numbers).
fn typed_inputs(rows: &[serde_json::Map<String, serde_json::Value>]) -> Vec<InferInputTensor> {
    COLUMNS
        .iter()
        .map(|(name, datatype)| {
            let texts: Vec<&str> = rows
                .iter()
                .map(|r| {
                    let t = r[*name].as_str().unwrap().trim();
                    if t == "?" { "" } else { t }
                })
                .collect();
            let number = |t: &str| t.parse::<f64>().unwrap_or(f64::NAN);
            let mut contents = InferTensorContents::default();
            match *datatype {
                "BYTES" => {
                    contents.bytes_contents = texts
                        .iter()
                        .map(|t| Bytes::copy_from_slice(t.as_bytes()))
                        .collect()
                }
                "INT64" => {
                    contents.int64_contents = texts.iter().map(|t| t.parse().unwrap()).collect()
                }
                "INT32" => {
                    contents.int_contents = texts.iter().map(|t| t.parse().unwrap()).collect()
                }
                "FP64" => contents.fp64_contents = texts.iter().map(|t| number(t)).collect(),
                "FP32" => contents.fp32_contents = texts.iter().map(|t| number(t) as f32).collect(),
                other => unreachable!("{other}"),
            }
            InferInputTensor {
                name: (*name).into(),
                datatype: (*datatype).into(),
                shape: vec![rows.len() as i64],
                parameters: Default::default(),
                contents: Some(contents),
            }
        })
        .collect()
}

/// The same inputs with their values moved to `raw_input_contents`.
fn raw(mut inputs: Vec<InferInputTensor>) -> (Vec<InferInputTensor>, Vec<Bytes>) {
    let mut raw = Vec::new();
    for input in &mut inputs {
        let c = input.contents.take().unwrap();
        let mut out = Vec::new();
        for b in &c.bytes_contents {
            out.extend_from_slice(&(b.len() as u32).to_le_bytes());
            out.extend_from_slice(b);
        }
        c.int64_contents
            .iter()
            .for_each(|v| out.extend_from_slice(&v.to_le_bytes()));
        c.int_contents
            .iter()
            .for_each(|v| out.extend_from_slice(&v.to_le_bytes()));
        c.fp64_contents
            .iter()
            .for_each(|v| out.extend_from_slice(&v.to_le_bytes()));
        c.fp32_contents
            .iter()
            .for_each(|v| out.extend_from_slice(&v.to_le_bytes()));
        raw.push(Bytes::from(out));
    }
    (inputs, raw)
}

fn infer_request(inputs: Vec<InferInputTensor>) -> ModelInferRequest {
    ModelInferRequest {
        model_name: model_name(),
        inputs,
        ..Default::default()
    }
}

/// An output's raw values.
fn raw_output<'a>(response: &'a ModelInferResponse, name: &str) -> &'a [u8] {
    let i = response
        .outputs
        .iter()
        .position(|o| o.name == name)
        .unwrap_or_else(|| panic!("no output {name}"));
    &response.raw_output_contents[i]
}

fn fp64s(raw: &[u8]) -> Vec<f64> {
    raw.chunks_exact(8)
        .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
        .collect()
}

fn int64s(raw: &[u8]) -> Vec<i64> {
    raw.chunks_exact(8)
        .map(|c| i64::from_le_bytes(c.try_into().unwrap()))
        .collect()
}

fn one_row() -> Vec<InferInputTensor> {
    typed_inputs(&crate::common::dataset_json_rows()[..1])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metadata_readiness_and_health() {
    let server = Server::start(&[("HISTORY", "off")]);
    let mut c = client(server.grpc).await;
    assert!(
        c.server_live(ServerLiveRequest {})
            .await
            .unwrap()
            .into_inner()
            .live
    );
    assert!(
        c.server_ready(ServerReadyRequest {})
            .await
            .unwrap()
            .into_inner()
            .ready
    );
    let ready = c
        .model_ready(ModelReadyRequest {
            name: model_name(),
            version: model_version().to_owned(),
        })
        .await
        .unwrap();
    assert!(ready.into_inner().ready);
    let e = c
        .model_ready(ModelReadyRequest {
            name: "nope".into(),
            version: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::NotFound);
    assert!(
        e.message().contains("no model is named \"nope\""),
        "{}",
        e.message()
    );
    let e = c
        .model_metadata(ModelMetadataRequest {
            name: model_name(),
            version: "9.9.9".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::NotFound);
    assert!(
        e.message().contains("no version \"9.9.9\""),
        "{}",
        e.message()
    );
    let server_metadata = c
        .server_metadata(ServerMetadataRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(server_metadata.name, "classification_api");
    let m = c
        .model_metadata(ModelMetadataRequest {
            name: model_name(),
            version: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(m.versions, vec![model_version().to_owned()]);
    let inputs: Vec<(&str, &str)> = m
        .inputs
        .iter()
        .map(|t| (t.name.as_str(), t.datatype.as_str()))
        .collect();
    assert!(inputs.contains(&("pclass", "INT64")) && inputs.contains(&("sex", "BYTES")));
    assert_eq!(m.outputs[0].name, "predictions");
    // grpc.health.v1, as Kubernetes' probes ask it
    let channel = Channel::from_shared(format!("http://{}", server.grpc))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut health = tonic_health::pb::health_client::HealthClient::new(channel);
    for service in ["", "inference.GRPCInferenceService"] {
        let status = health
            .check(tonic_health::pb::HealthCheckRequest {
                service: service.into(),
            })
            .await
            .unwrap()
            .into_inner()
            .status;
        assert_eq!(
            status,
            tonic_health::pb::health_check_response::ServingStatus::Serving as i32
        );
    }
    let e = health
        .check(tonic_health::pb::HealthCheckRequest {
            service: "other".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::NotFound);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_dataset_row_in_typed_and_raw_contents() {
    let server = Server::start(&[("HISTORY", "off")]);
    let mut c = client(server.grpc).await;
    let rows = crate::common::dataset_json_rows();
    let data = read_dataset(include_bytes!(
        "../../../classification_model/datasets/titanic.csv"
    ))
    .unwrap();
    let expected = make_prediction(data.passengers()).unwrap();
    let typed = infer_request(typed_inputs(&rows));
    let (inputs, raw_contents) = raw(typed_inputs(&rows));
    let raw_request = ModelInferRequest {
        raw_input_contents: raw_contents,
        model_version: model_version().to_owned(),
        id: "batch-1".into(),
        ..infer_request(inputs)
    };
    for request in [typed, raw_request] {
        let id = request.id.clone();
        let r = c.model_infer(request).await.unwrap().into_inner();
        assert_eq!(r.model_name, model_name());
        assert_eq!(r.model_version, model_version());
        if !id.is_empty() {
            assert_eq!(r.id, id);
        }
        let names: Vec<&str> = r.outputs.iter().map(|o| o.name.as_str()).collect();
        assert_eq!(names, ["predictions", "probabilities", "ids"]);
        assert_eq!(r.outputs[1].datatype, "FP64");
        assert_eq!(r.outputs[1].shape, vec![1309]);
        let p = fp64s(raw_output(&r, "probabilities"));
        assert_eq!(p.len(), 1309);
        for (got, want) in p.iter().zip(&expected.probabilities) {
            approx::assert_abs_diff_eq!(got, want, epsilon = 1e-12);
        }
        let classes: Vec<u8> = int64s(raw_output(&r, "predictions"))
            .into_iter()
            .map(|c| c as u8)
            .collect();
        assert_eq!(classes, expected.predictions);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explanations_sum_to_the_log_odds() {
    let server = Server::start(&[("HISTORY", "off")]);
    let mut c = client(server.grpc).await;
    let mut request = infer_request(one_row());
    request.parameters.insert(
        "explain".into(),
        InferParameter {
            parameter_choice: Some(ParameterChoice::BoolParam(true)),
        },
    );
    let r = c.model_infer(request).await.unwrap().into_inner();
    let p = fp64s(raw_output(&r, "probabilities"))[0];
    let mut log_odds = fp64s(raw_output(&r, "baseline"))[0];
    for feature in classification_model::schema::features() {
        log_odds += fp64s(raw_output(&r, &format!("contribution_{feature}")))[0];
    }
    approx::assert_abs_diff_eq!(log_odds, (p / (1.0 - p)).ln(), epsilon = 1e-9);
    // outputs asked for by name, in that order
    let mut request = infer_request(one_row());
    request.outputs = ["probabilities", "contribution_sex"]
        .iter()
        .map(|n| InferRequestedOutputTensor {
            name: (*n).into(),
            parameters: Default::default(),
        })
        .collect();
    let r = c.model_infer(request).await.unwrap().into_inner();
    let names: Vec<&str> = r.outputs.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(names, ["probabilities", "contribution_sex"]);
    assert_eq!(r.raw_output_contents.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_their_status_and_rests_message() {
    let server = Server::start(&[("HISTORY", "off"), ("MAX_BODY_BYTES", "50000")]);
    let mut c = client(server.grpc).await;
    let with = |f: &dyn Fn(&mut Vec<InferInputTensor>)| {
        let mut inputs = one_row();
        f(&mut inputs);
        infer_request(inputs)
    };
    let age =
        |inputs: &mut Vec<InferInputTensor>| inputs.iter().position(|i| i.name == "age").unwrap();
    let cases: Vec<(ModelInferRequest, Code, &str)> = vec![
        (
            with(&|i| {
                let a = age(i);
                i[a].name = "Age".into();
            }),
            Code::InvalidArgument,
            "input \"Age\" is no input of this model",
        ),
        (
            with(&|i| {
                let a = age(i);
                i[a].datatype = "BOOL".into();
            }),
            Code::InvalidArgument,
            "input \"age\" has datatype \"BOOL\": send BYTES, INT64, INT32, FP64 or FP32",
        ),
        (
            with(&|i| {
                let a = age(i);
                i[a].datatype = "INT64".into();
            }),
            Code::InvalidArgument,
            "input \"age\" has datatype INT64, whose values go in int64_contents, but sends fp64_contents",
        ),
        (
            with(&|i| {
                let a = age(i);
                i[a].shape = vec![2];
            }),
            Code::InvalidArgument,
            "has 2 rows, but input",
        ),
        (
            with(&|i| {
                for input in i.iter_mut() {
                    input.shape = vec![2];
                }
            }),
            Code::InvalidArgument,
            "has 1 values for its shape's 2 rows",
        ),
        (
            with(&|i| i.retain(|input| input.name != "sex")),
            Code::InvalidArgument,
            "input \"sex\" is required: \"male\" or \"female\"",
        ),
        (
            with(&|i| {
                let a = age(i);
                i[a].contents.as_mut().unwrap().fp64_contents = vec![130.0];
            }),
            Code::InvalidArgument,
            "input \"age\", row 0: must be a number from 0 to 120, got 130",
        ),
        (
            ModelInferRequest {
                model_name: "nope".into(),
                ..with(&|_| {})
            },
            Code::NotFound,
            "no model is named \"nope\"",
        ),
        (
            with(&|i| {
                for input in i.iter_mut() {
                    input.shape = vec![20_000];
                }
            }),
            Code::ResourceExhausted,
            "more than the 10000 one request may carry: split the batch",
        ),
    ];
    for (request, code, expected) in cases {
        let e = c.model_infer(request).await.unwrap_err();
        assert_eq!(e.code(), code, "{}", e.message());
        assert!(
            e.message().contains(expected),
            "{}\nlacks {expected}",
            e.message()
        );
    }
    // a message over MAX_BODY_BYTES
    let rows = crate::common::dataset_json_rows();
    let e = c
        .model_infer(infer_request(typed_inputs(&rows)))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::ResourceExhausted, "{}", e.message());
    assert!(e.message().contains("MAX_BODY_BYTES"), "{}", e.message());
    // and the server lives on
    assert!(
        c.server_live(ServerLiveRequest {})
            .await
            .unwrap()
            .into_inner()
            .live
    );
    let metrics = server.get("/metrics").body;
    assert!(
        metrics.contains(
            r#"rpc_requests_total{protocol="grpc",method="ModelInfer",code="INVALID_ARGUMENT"} 7"#
        ),
        "{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_key_request_ids_and_history_apply() {
    let server = Server::start(&[("API_KEY", "k3y-k3y-k3y-k3y-k3y")]);
    let mut c = client(server.grpc).await;
    let mut inputs = one_row();
    inputs.push(InferInputTensor {
        name: "id".into(),
        datatype: "BYTES".into(),
        shape: vec![1],
        parameters: Default::default(),
        contents: Some(InferTensorContents {
            bytes_contents: vec![Bytes::from_static(b"grpc-42")],
            ..Default::default()
        }),
    });
    let e = c
        .model_infer(infer_request(inputs.clone()))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::Unauthenticated);
    assert!(e.message().contains("Bearer"), "{}", e.message());
    let mut request = tonic::Request::new(infer_request(inputs.clone()));
    request
        .metadata_mut()
        .insert("authorization", "Bearer wrong-wrong-wrong".parse().unwrap());
    assert_eq!(
        c.model_infer(request).await.unwrap_err().code(),
        Code::Unauthenticated
    );
    // metadata calls need no key, as REST's
    assert!(c.server_live(ServerLiveRequest {}).await.is_ok());
    let authorized = |body: ModelInferRequest| {
        let mut request = tonic::Request::new(body);
        request.metadata_mut().insert(
            "authorization",
            "Bearer k3y-k3y-k3y-k3y-k3y".parse().unwrap(),
        );
        request
            .metadata_mut()
            .insert("x-request-id", "req-g7".parse().unwrap());
        request
    };
    let r = c
        .model_infer(authorized(infer_request(inputs.clone())))
        .await
        .unwrap();
    assert_eq!(r.metadata().get("x-request-id").unwrap(), "req-g7");
    let r = r.into_inner();
    assert_eq!(r.id, "req-g7");
    let ids = raw_output(&r, "ids");
    assert_eq!(&ids[4..], b"grpc-42");
    let stored = server.get("/history/grpc-42");
    assert_eq!(stored.status, 200, "{}", stored.body);
    assert_eq!(stored.json()["request_id"], "req-g7");
    // the same id again collides, and the error carries the request id
    let e = c
        .model_infer(authorized(infer_request(inputs)))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::AlreadyExists, "{}", e.message());
    assert!(
        e.message().contains("input \"id\", row 0"),
        "{}",
        e.message()
    );
    assert_eq!(e.metadata().get("x-request-id").unwrap(), "req-g7");
}

#[test]
fn sigterm_drains_grpc_too() {
    let mut process = Process::start(&[("HISTORY", "off")]);
    let grpc = process.grpc.expect("gRPC is on by default");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let mut c = client(grpc).await;
        let r = c.model_infer(infer_request(one_row())).await.unwrap();
        assert_eq!(r.into_inner().raw_output_contents.len(), 3);
    });
    process.signal("TERM");
    let status = process
        .wait(std::time::Duration::from_secs(30))
        .expect("the server exits");
    assert_eq!(status.code(), Some(0));
    assert!(std::net::TcpStream::connect(grpc).is_err());
    let log = process.log.lock().unwrap().clone();
    assert!(log.contains("gRPC stopped"), "{log}");
}

#[test]
fn grpc_port_off_serves_none() {
    let process = Process::start(&[("HISTORY", "off"), ("GRPC_PORT", "off")]);
    assert_eq!(process.grpc, None);
}
