//! Handlers of the Open Inference Protocol (V2, REST): server and model
//! metadata and readiness, and `infer`, which reads its batch through
//! [`request`], scores it through the same [`scoring`] steps as
//! `/predict`, and answers through [`response`] ([`tensor`] reads and
//! writes the binary tensor data).

use std::sync::Arc;

use classification_model::Model;
use warp::http::{HeaderMap, StatusCode};
use warp::reply::Response;

use crate::http::errors::{ApiError, ErrorItem, ProtocolError, shorten};
use crate::http::input;
use crate::http::output::{self, StatusResponse};
use crate::http::request::{Body, Request};
use crate::http::scoring;
use crate::http::state::AppState;
use crate::serving::models::Models;

pub mod request;
pub mod response;
pub mod tensor;

use self::request::InferRequest;
pub use self::response::SERVER_NAME;
use self::response::{InferResponse, ModelMetadata, ServerMetadata};

/// The path of a model, in the OpenAPI description.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)] // described, never built: the route table reads the path
struct ModelPath {
    /// The model's name.
    #[param(example = "titanic_classification_model")]
    name: String,
}

/// The path of a model's version, in the OpenAPI description.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)] // described, never built
struct VersionPath {
    /// The model's name.
    #[param(example = "titanic_classification_model")]
    name: String,
    /// The model's version.
    version: String,
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
    output::json(&response::server_metadata(), StatusCode::OK)
}

/// The model a request names, at its version if one is given (else the
/// default), among the versions the request found.
pub fn find<'a>(
    models: &'a Models,
    name: &str,
    version: Option<&str>,
) -> Result<&'a Arc<Model>, ApiError> {
    let served = models.default_model().name();
    if name != served {
        return Err(ApiError::NotFoundItem(ErrorItem::field(
            "model",
            format!(
                "no model is named {:?}: this server serves {served:?}",
                shorten(name),
            ),
        ))
        .in_protocol());
    }
    models
        .get(version)
        .map_err(|e| ApiError::from(e).in_protocol())
}

/// `GET /v2/models/{name}[/versions/{version}]`: inputs, outputs, versions.
#[utoipa::path(get, path = "/v2/models/{name}", tag = "inference protocol",
    params(ModelPath),
    responses(
        (status = 200, description = "Model metadata", body = ModelMetadata),
        (status = 404, description = "No such model", body = ProtocolError),
    ))]
pub async fn model_metadata(r: Request) -> Response {
    let models = r.state.models.current();
    match find(&models, r.param(0), r.params.get(1).map(String::as_str)) {
        Ok(model) => output::json(&response::model_metadata(model, &models), StatusCode::OK),
        Err(e) => warp::Reply::into_response(e),
    }
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
    match find(
        &r.state.models.current(),
        r.param(0),
        r.params.get(1).map(String::as_str),
    ) {
        Ok(_) => crate::http::handlers::readiness(&r.state),
        Err(e) => warp::Reply::into_response(e),
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
    let Request {
        state,
        params,
        headers,
        body,
        ..
    } = r;
    let request_id = crate::http::ids::request_id_or_new(&headers);
    let name = params.first().map_or("", String::as_str);
    let version = params.get(1).map(String::as_str);
    let result = infer_batch(name, version, &headers, body, &state, &request_id).await;
    scoring::answer(&state, &request_id, result, |e| {
        warp::Reply::into_response(e.in_protocol())
    })
}

async fn infer_batch(
    name: &str,
    version: Option<&str>,
    headers: &HeaderMap,
    body: Body,
    state: &AppState,
    request_id: &str,
) -> Result<Response, ApiError> {
    // the versions as the request found them, whatever a reload does meanwhile
    let models = state.models.current();
    let chosen = models.shadowing(find(&models, name, version)?);
    let bytes = input::read_body(headers, body, state.body).await?;
    let permit = scoring::admit(state)?;
    let request = crate::telemetry::traces::Child::within("parse", || {
        request::parse(headers, &bytes, state.max_batch)
    })?;
    let explain = response::explained(request.explain, request.outputs.as_deref())?;
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
    crate::http::handlers::alive()
}

/// `GET /v2/health/ready`: as `/health/ready`.
#[utoipa::path(get, path = "/v2/health/ready", tag = "inference protocol",
    responses(
        (status = 200, description = "Ready", body = StatusResponse),
        (status = 503, description = "Shutting down, or the history store is down", body = StatusResponse),
    ))]
pub async fn ready(r: Request) -> Response {
    crate::http::handlers::readiness(&r.state)
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
    model_metadata(r).await
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
    model_ready(r).await
}

/// `POST /v2/models/{name}/versions/{version}/infer`: as without the
/// version, scored by that version.
#[utoipa::path(post, path = "/v2/models/{name}/versions/{version}/infer", tag = "inference protocol",
    params(VersionPath),
    request_body(content = InferRequest, content_type = "application/json"),
    responses(InferResponses))]
pub async fn infer_version(r: Request) -> Response {
    infer(r).await
}
