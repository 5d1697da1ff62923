//! The Open Inference Protocol (V2) over REST: server and model metadata
//! and readiness, and `infer`, which reads its batch through [`request`]
//! (the tensors by the core's tensor model), scores it through the same
//! core steps as `/predict`, and answers through [`response`]. Its
//! endpoints ([`endpoints`]) and their description ([`ApiDoc`]) are handed
//! to whoever assembles the REST table.

use utoipa::OpenApi;
use warp::http::{HeaderMap, StatusCode};
use warp::reply::Response;

use crate::rest::endpoint::endpoint_table;
use crate::rest::errors::{ApiError, ProtocolError};
use crate::rest::reply::{self, StatusResponse};
use crate::rest::request::{Access, Body, Request};
use crate::serving::errors::RequestError;
use crate::serving::scoring;
use crate::serving::state::AppState;
use crate::serving::tensor::metadata::{self, ModelMetadata, ServerMetadata, TensorMetadata};
use crate::serving::tensor::outputs::explained;

pub mod request;
pub mod response;

use self::request::{InferRequest, Parameters, RequestInput, RequestOutput};
use self::response::{InferResponse, ResponseOutput};

endpoint_table!(Described {
    infer: Access::Protocol,
    infer_version: Access::Protocol,
    server_metadata: Access::Open,
    live: Access::Open,
    ready: Access::Open,
    model_metadata: Access::Open,
    model_ready: Access::Open,
    version_metadata: Access::Open,
    version_ready: Access::Open,
});

/// This adapter's part of the OpenAPI description: its schemas and tag
/// (the operations come from [`endpoints`]).
#[derive(OpenApi)]
#[openapi(
    components(schemas(
        ProtocolError, ServerMetadata, ModelMetadata, TensorMetadata, InferRequest, RequestInput,
        RequestOutput, Parameters, InferResponse, ResponseOutput,
    )),
    tags(
        (name = "inference protocol", description = "The Open Inference Protocol (KServe V2, REST), with Triton's binary tensor data extension: \
one input per dataset column (MLServer's pandas convention)"),
    )
)]
pub struct ApiDoc;

/// The path of a model.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
struct ModelPath {
    /// The model's name.
    #[param(example = "titanic_classification_model")]
    name: String,
    /// The model's version (only from a [`VersionPath`]).
    #[param(ignore)]
    #[serde(skip)]
    version: Option<String>,
}

/// The path of a model's version.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
struct VersionPath {
    /// The model's name.
    #[param(example = "titanic_classification_model")]
    name: String,
    /// The model's version.
    version: String,
}

impl From<VersionPath> for ModelPath {
    fn from(path: VersionPath) -> Self {
        ModelPath {
            name: path.name,
            version: Some(path.version),
        }
    }
}

/// `infer`'s answers, with or without a version in the path.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)] // described, never built
enum InferResponses<'a> {
    /// The outputs (JSON; with binary outputs asked for,
    /// `application/octet-stream`: the JSON, then the binary data).
    #[response(status = 200)]
    Outputs(InferResponse<'a>),
    /// The request or a record is invalid: the error names the input and row.
    #[response(status = 400)]
    Invalid(ProtocolError),
    /// `API_KEY` is set and the bearer token is missing or wrong.
    #[response(status = 401)]
    Unauthorized(ProtocolError),
    /// No such model or version.
    #[response(status = 404)]
    NotFound(ProtocolError),
    /// The body did not arrive in time.
    #[response(status = 408)]
    Timeout(ProtocolError),
    /// A record's own id is already stored, or repeated.
    #[response(status = 409)]
    Conflict(ProtocolError),
    /// Body over `MAX_BODY_BYTES` or more than `MAX_BATCH` rows.
    #[response(status = 413)]
    TooLarge(ProtocolError),
    /// At capacity, or the history store cannot take the records: retry
    /// after `Retry-After` seconds.
    #[response(status = 503)]
    Unavailable(ProtocolError),
}

/// `GET /v2`: the server, its version and the protocol extensions it speaks.
#[utoipa::path(get, path = "/v2", tag = "inference protocol",
    responses((status = 200, description = "Server metadata", body = ServerMetadata)))]
pub async fn server_metadata(_: Request) -> Response {
    reply::json(&metadata::server_metadata(), StatusCode::OK)
}

/// `GET /v2/models/{name}[/versions/{version}]`: inputs, outputs, versions.
#[utoipa::path(get, path = "/v2/models/{name}", tag = "inference protocol",
    params(ModelPath),
    responses(
        (status = 200, description = "Model metadata", body = ModelMetadata),
        (status = 404, description = "No such model", body = ProtocolError),
    ))]
pub async fn model_metadata(r: Request) -> Response {
    metadata_of(r.path::<ModelPath>(), &r)
}

fn metadata_of(path: Result<ModelPath, RequestError>, r: &Request) -> Response {
    let answer = || -> Result<Response, ApiError> {
        let path = path?;
        let models = r.state.models.current();
        let model = models.find(&path.name, path.version.as_deref())?;
        Ok(reply::json(
            &metadata::model_metadata(model, &models),
            StatusCode::OK,
        ))
    };
    answer().unwrap_or_else(|e| warp::Reply::into_response(e.in_protocol()))
}

/// `GET /v2/models/{name}[/versions/{version}]/ready`: 200 while the model
/// serves (as `/health/ready` says), 404 for no such model.
#[utoipa::path(get, path = "/v2/models/{name}/ready", tag = "inference protocol",
    params(ModelPath),
    responses(
        (status = 200, description = "Ready", body = StatusResponse),
        (status = 503, description = "Shutting down, or the history store is down", body = StatusResponse),
        (status = 404, description = "No such model", body = ProtocolError),
    ))]
pub async fn model_ready(r: Request) -> Response {
    readiness_of(r.path::<ModelPath>(), &r)
}

fn readiness_of(path: Result<ModelPath, RequestError>, r: &Request) -> Response {
    let found = path.and_then(|path| {
        r.state
            .models
            .current()
            .find(&path.name, path.version.as_deref())
            .map(|_| ())
    });
    match found {
        Ok(()) => reply::readiness(&r.state),
        Err(e) => warp::Reply::into_response(ApiError::from(e).in_protocol()),
    }
}

/// `POST /v2/models/{name}[/versions/{version}]/infer`: one input per
/// dataset column; JSON, or JSON then binary tensor data with
/// `Inference-Header-Content-Length`.
#[utoipa::path(post, path = "/v2/models/{name}/infer", tag = "inference protocol",
    params(ModelPath),
    request_body(content = InferRequest, content_type = "application/json"),
    responses(InferResponses))]
pub async fn infer(r: Request) -> Response {
    let path = r.path::<ModelPath>();
    infer_at(path, r).await
}

async fn infer_at(path: Result<ModelPath, RequestError>, r: Request) -> Response {
    let request_id = r.request_id();
    let Request {
        state,
        headers,
        body,
        ..
    } = r;
    let result = match path {
        Ok(path) => infer_batch(&path, &headers, body, &state, &request_id).await,
        Err(e) => Err(e.into()),
    };
    reply::answer(&state, &request_id, result, |e| {
        warp::Reply::into_response(e.in_protocol())
    })
}

async fn infer_batch(
    path: &ModelPath,
    headers: &HeaderMap,
    body: Body,
    state: &AppState,
    request_id: &str,
) -> Result<Response, ApiError> {
    // the versions as the request found them, whatever a reload does meanwhile
    let models = state.models.current();
    let chosen = models.shadowing(models.find(&path.name, path.version.as_deref())?);
    let bytes = crate::rest::body::read_body(headers, body, state.body).await?;
    let permit = scoring::admit(state)?;
    let request = crate::telemetry::traces::Child::within("parse", || {
        request::parse(headers, &bytes, state.max_batch)
    })?;
    let explain = explained(request.explain, request.outputs.as_deref())?;
    let scored = scoring::score(state, &chosen, permit, request.batch, explain, request_id).await?;
    Ok(response::infer_response(
        &chosen.model,
        request.id.as_deref().unwrap_or(request_id),
        &scored,
        request.outputs.as_deref(),
        request.binary_output,
    ))
}

/// `GET /v2/health/live`: as `/health/live`.
#[utoipa::path(get, path = "/v2/health/live", tag = "inference protocol",
    responses((status = 200, description = "Alive", body = StatusResponse)))]
pub async fn live(_: Request) -> Response {
    reply::alive()
}

/// `GET /v2/health/ready`: as `/health/ready`.
#[utoipa::path(get, path = "/v2/health/ready", tag = "inference protocol",
    responses(
        (status = 200, description = "Ready", body = StatusResponse),
        (status = 503, description = "Shutting down, or the history store is down", body = StatusResponse),
    ))]
pub async fn ready(r: Request) -> Response {
    reply::readiness(&r.state)
}

/// `GET /v2/models/{name}/versions/{version}`: as without the version, for
/// that version.
#[utoipa::path(get, path = "/v2/models/{name}/versions/{version}", tag = "inference protocol",
    params(VersionPath),
    responses(
        (status = 200, description = "Model metadata", body = ModelMetadata),
        (status = 404, description = "No such model or version", body = ProtocolError),
    ))]
pub async fn version_metadata(r: Request) -> Response {
    metadata_of(r.path::<VersionPath>().map(ModelPath::from), &r)
}

/// `GET /v2/models/{name}/versions/{version}/ready`.
#[utoipa::path(get, path = "/v2/models/{name}/versions/{version}/ready", tag = "inference protocol",
    params(VersionPath),
    responses(
        (status = 200, description = "Ready", body = StatusResponse),
        (status = 503, description = "Shutting down, or the history store is down", body = StatusResponse),
        (status = 404, description = "No such model or version", body = ProtocolError),
    ))]
pub async fn version_ready(r: Request) -> Response {
    readiness_of(r.path::<VersionPath>().map(ModelPath::from), &r)
}

/// `POST /v2/models/{name}/versions/{version}/infer`: as without the
/// version, scored by that version.
#[utoipa::path(post, path = "/v2/models/{name}/versions/{version}/infer", tag = "inference protocol",
    params(VersionPath),
    request_body(content = InferRequest, content_type = "application/json"),
    responses(InferResponses))]
pub async fn infer_version(r: Request) -> Response {
    let path = r.path::<VersionPath>().map(ModelPath::from);
    infer_at(path, r).await
}
