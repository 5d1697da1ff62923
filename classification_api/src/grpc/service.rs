//! `inference.GRPCInferenceService`: each call checks the key where REST's
//! route would, takes the `x-request-id` metadata (or makes an id) and
//! echoes it, and is counted in the metrics and the access log. `ModelInfer`
//! scores through [`scoring`], as REST's `infer` does.

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use opentelemetry::KeyValue;
use tonic::metadata::MetadataMap;
use tonic::{Request, Response, Status};

use crate::grpc::convert;
use crate::grpc::inference::grpc_inference_service_server::GrpcInferenceService;
use crate::grpc::inference::model_metadata_response::TensorMetadata;
use crate::grpc::inference::{
    ModelInferRequest, ModelInferResponse, ModelMetadataRequest, ModelMetadataResponse,
    ModelReadyRequest, ModelReadyResponse, ServerLiveRequest, ServerLiveResponse,
    ServerMetadataRequest, ServerMetadataResponse, ServerReadyRequest, ServerReadyResponse,
};
use crate::serving::errors::RequestError;
use crate::serving::scoring;
use crate::serving::state::AppState;
use crate::serving::tensor::metadata;
use crate::telemetry::{logging, traces};

/// The service, over the HTTP server's state.
#[derive(Debug, Clone)]
pub struct Inference {
    state: Arc<AppState>,
}

impl Inference {
    /// The service over `state`.
    pub fn new(state: Arc<AppState>) -> Self {
        Self { state }
    }

    /// Runs one call: the key check (`protected`), the request id, then
    /// `f`; counts and logs the outcome.
    async fn call<T, R, F, Fut>(
        &self,
        method: &'static str,
        protected: bool,
        request: Request<T>,
        f: F,
    ) -> Result<Response<R>, Status>
    where
        F: FnOnce(T, String) -> Fut,
        Fut: Future<Output = Result<R, RequestError>>,
    {
        let started = Instant::now();
        let (metadata, _, message) = request.into_parts();
        let headers = metadata.into_headers();
        let request_id = crate::serving::ids::request_id_or_new(
            headers.get("x-request-id").and_then(|v| v.to_str().ok()),
        );
        let span = traces::Request::start(
            || {
                (
                    format!("inference.GRPCInferenceService/{method}").into(),
                    vec![
                        KeyValue::new("rpc.system", "grpc"),
                        KeyValue::new("rpc.service", "inference.GRPCInferenceService"),
                        KeyValue::new("rpc.method", method),
                    ],
                )
            },
            &headers,
        );
        let allowed = !protected
            || self.state.api_key.as_ref().is_none_or(|key| {
                key.is_bearer_of(
                    headers
                        .get(warp::http::header::AUTHORIZATION)
                        .map(|v| v.as_bytes()),
                )
            });
        let result = if allowed {
            span.around(f(message, request_id.clone())).await
        } else {
            Err(RequestError::Unauthorized)
        };
        let result = result.map_err(|error| {
            scoring::count_failure(&self.state, &error);
            convert::status(&error)
        });
        let code = result
            .as_ref()
            .map_or_else(Status::code, |_| tonic::Code::Ok);
        let elapsed = started.elapsed();
        self.state.metrics.record_rpc(
            "grpc",
            method,
            convert::code_name(code),
            elapsed.as_secs_f64(),
        );
        // what the answer carries besides its message: the request id (when
        // it is valid metadata: ASCII) and the trace, continued or begun here
        let mut extra = warp::http::HeaderMap::new();
        if request_id.is_ascii()
            && let Ok(id) = warp::http::HeaderValue::from_str(&request_id)
        {
            extra.insert("x-request-id", id);
        }
        let trace_id = span.finish("rpc.grpc.status_code", code as i64, &mut extra);
        logging::access(
            "GRPC",
            method,
            code as u16,
            u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX),
            trace_id,
        );
        let extra = MetadataMap::from_headers(extra);
        match result {
            Ok(message) => {
                let mut response = Response::new(message);
                *response.metadata_mut() = extra;
                Ok(response)
            }
            Err(mut status) => {
                *status.metadata_mut() = extra;
                Err(status)
            }
        }
    }
}

/// A version field: empty for the default.
fn version(v: &str) -> Option<&str> {
    (!v.is_empty()).then_some(v)
}

#[tonic::async_trait]
impl GrpcInferenceService for Inference {
    async fn server_live(
        &self,
        request: Request<ServerLiveRequest>,
    ) -> Result<Response<ServerLiveResponse>, Status> {
        self.call("ServerLive", false, request, |_, _| async {
            Ok(ServerLiveResponse { live: true })
        })
        .await
    }

    async fn server_ready(
        &self,
        request: Request<ServerReadyRequest>,
    ) -> Result<Response<ServerReadyResponse>, Status> {
        let ready = self.state.unready().is_none();
        self.call("ServerReady", false, request, |_, _| async move {
            Ok(ServerReadyResponse { ready })
        })
        .await
    }

    async fn model_ready(
        &self,
        request: Request<ModelReadyRequest>,
    ) -> Result<Response<ModelReadyResponse>, Status> {
        let state = self.state.clone();
        self.call("ModelReady", false, request, |r, _| async move {
            let models = state.models.current();
            models.find(&r.name, version(&r.version))?;
            Ok(ModelReadyResponse {
                ready: state.unready().is_none(),
            })
        })
        .await
    }

    async fn server_metadata(
        &self,
        request: Request<ServerMetadataRequest>,
    ) -> Result<Response<ServerMetadataResponse>, Status> {
        self.call("ServerMetadata", false, request, |_, _| async {
            let m = metadata::server_metadata();
            Ok(ServerMetadataResponse {
                name: m.name,
                version: m.version,
                extensions: m.extensions,
            })
        })
        .await
    }

    async fn model_metadata(
        &self,
        request: Request<ModelMetadataRequest>,
    ) -> Result<Response<ModelMetadataResponse>, Status> {
        let state = self.state.clone();
        self.call("ModelMetadata", false, request, |r, _| async move {
            let models = state.models.current();
            let model = models.find(&r.name, version(&r.version))?;
            let m = metadata::model_metadata(model, &models);
            let tensors = |list: Vec<metadata::TensorMetadata>| {
                list.into_iter()
                    .map(|t| TensorMetadata {
                        name: t.name,
                        datatype: t.datatype,
                        shape: t.shape,
                    })
                    .collect()
            };
            Ok(ModelMetadataResponse {
                name: m.name,
                versions: m.versions,
                platform: m.platform,
                inputs: tensors(m.inputs),
                outputs: tensors(m.outputs),
            })
        })
        .await
    }

    async fn model_infer(
        &self,
        request: Request<ModelInferRequest>,
    ) -> Result<Response<ModelInferResponse>, Status> {
        let state = self.state.clone();
        self.call("ModelInfer", true, request, |r, request_id| async move {
            infer(&state, r, &request_id).await
        })
        .await
    }
}

/// `ModelInfer`: the steps of REST's `infer`, on a message already read
/// (its size bounded by `MAX_BODY_BYTES`).
async fn infer(
    state: &AppState,
    request: ModelInferRequest,
    request_id: &str,
) -> Result<ModelInferResponse, RequestError> {
    // the versions as the request found them, whatever a reload does meanwhile
    let models = state.models.current();
    let model = models.find(&request.model_name, version(&request.model_version))?;
    let chosen = models.shadowing(model);
    let permit = scoring::admit(state)?;
    let infer = crate::telemetry::traces::Child::within("parse", || {
        convert::infer_request(request, state.max_batch)
    })?;
    let scored = scoring::score(
        state,
        &chosen,
        permit,
        infer.batch,
        infer.explain,
        request_id,
    )
    .await?;
    let id = if infer.id.is_empty() {
        request_id
    } else {
        &infer.id
    };
    Ok(convert::infer_response(
        &chosen.model,
        id,
        &scored,
        infer.outputs.as_deref(),
    ))
}
