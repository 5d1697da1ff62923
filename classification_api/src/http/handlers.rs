//! Handlers: what each route answers. Each reads its input through
//! [`input`], answers through [`output`], and
//! fails with an [`ApiError`].

use warp::Reply;
use warp::http::{HeaderMap, StatusCode};
use warp::reply::Response;

use crate::http::input::{self, Format};
use crate::http::output::{self, HealthResponse, ModelInfo, PredictResponse};
use crate::http::query::{self, ModelQuery, PredictQuery};
use crate::rest::errors::ApiError;
use crate::rest::reply::{self, StatusResponse};
use crate::rest::request::{Body, Request};
use crate::serving::errors::RequestError;
use crate::serving::models::Models;
use crate::serving::scoring;
use crate::serving::state::AppState;

/// The service's name, as `/health` reports it.
pub const SERVICE_NAME: &str = "Titanic Survival Classification API";

/// `GET /health`.
#[utoipa::path(get, path = "/health", tag = "operations",
    responses((status = 200, description = "The service is up", body = HealthResponse)))]
pub async fn health(r: Request) -> Response {
    let state = r.state;
    reply::json(
        &HealthResponse {
            name: SERVICE_NAME.into(),
            api_version: env!("CARGO_PKG_VERSION").into(),
            model_version: state.models.current().default_model().version().into(),
        },
        StatusCode::OK,
    )
}

/// `GET /health/live`: the process is up.
#[utoipa::path(get, path = "/health/live", tag = "operations",
    responses((status = 200, description = "Alive", body = StatusResponse)))]
pub async fn live(_: Request) -> Response {
    reply::alive()
}

/// `GET /health/ready`: 200 while serving, 503 once shutdown has begun.
#[utoipa::path(get, path = "/health/ready", tag = "operations",
    responses(
        (status = 200, description = "Ready", body = StatusResponse),
        (status = 503, description = "Shutting down, or the history store is down (the status says why)", body = StatusResponse),
    ))]
pub async fn ready(r: Request) -> Response {
    reply::readiness(&r.state)
}

/// `GET /model[?version=X]`: the default version's (or X's) metadata, its
/// features (the field table) and fitted parameters, and every version served.
#[utoipa::path(get, path = "/model", tag = "model",
    params(ModelQuery),
    responses(
        (status = 200, description = "The model", body = ModelInfo),
        (status = 400, description = "An unknown query parameter", body = crate::rest::errors::ErrorResponse),
        (status = 404, description = "No such version is served", body = crate::rest::errors::ErrorResponse),
    ))]
pub async fn model_info(r: Request) -> Response {
    let answer = || -> Result<Response, ApiError> {
        let query: ModelQuery = query::parse(r.query.as_deref())?;
        let models = r.state.models.current();
        let model = models.get(query.version.as_deref())?;
        Ok(reply::json(
            &output::model_info(model, &models),
            StatusCode::OK,
        ))
    };
    answer().unwrap_or_else(Reply::into_response)
}

/// `GET /metrics`: Prometheus text format.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "OpenMetrics text", content_type = "application/openmetrics-text", body = String)))]
pub async fn metrics(r: Request) -> Response {
    let state = r.state;
    if let Some(history) = &state.history {
        state
            .metrics
            .record_store_up(history.health.problem().is_none());
    }
    reply::typed(
        Response::new(state.metrics.render().into()),
        "application/openmetrics-text; version=1.0.0; charset=utf-8",
    )
}

/// `POST /predict`: JSON (`{"inputs": [...]}`) or CSV in; JSON or CSV out
/// (by `Accept`); `?explain=true` adds per-feature explanations,
/// `?version=X` picks the version.
#[utoipa::path(post, path = "/predict", tag = "prediction",
    params(PredictQuery),
    request_body(content = crate::http::input::PredictBody, content_type = "application/json"),
    responses(
        (status = 200, description = "Predictions (JSON, or CSV with `Accept: text/csv`)", content(
            (PredictResponse = "application/json"),
            (String = "text/csv"),
        )),
        (status = 400, description = "Malformed JSON, not an object, no `inputs` list, or an unknown query parameter", body = PredictResponse),
        (status = 401, description = "`API_KEY` is set and the bearer token is missing or wrong", body = PredictResponse),
        (status = 404, description = "No such version is served", body = PredictResponse),
        (status = 408, description = "The body did not arrive in time", body = PredictResponse),
        (status = 413, description = "Body over `MAX_BODY_BYTES` or more than `MAX_BATCH` records", body = PredictResponse),
        (status = 409, description = "A record's own `id` is already stored, or repeated in the request: nothing was stored", body = PredictResponse),
        (status = 415, description = "Content-Type is neither JSON nor CSV", body = PredictResponse),
        (status = 422, description = "An empty list, or invalid records: every row and field at fault (CSV: and line)", body = PredictResponse),
        (status = 503, description = "Too many predictions in flight, or the history store cannot take the records: retry after `Retry-After` seconds", body = PredictResponse),
    ))]
pub async fn predict(r: Request) -> Response {
    let Request {
        state,
        query,
        headers,
        body,
        ..
    } = r;
    let request_id = crate::rest::request::request_id(&headers);
    // the versions as the request found them, whatever a reload does meanwhile
    let models = state.models.current();
    let query = query::parse::<PredictQuery>(query.as_deref());
    let result = predict_batch(query.clone(), &headers, body, &state, &models, &request_id).await;
    reply::answer(&state, &request_id, result, |e| {
        let version = query
            .ok()
            .and_then(|q| q.version)
            .and_then(|v| models.get(Some(&v)).ok())
            .unwrap_or(models.default_model())
            .version();
        e.in_prediction(version).into_response()
    })
}

async fn predict_batch(
    query: Result<PredictQuery, RequestError>,
    headers: &HeaderMap,
    body: Body,
    state: &AppState,
    models: &Models,
    request_id: &str,
) -> Result<Response, ApiError> {
    let query = query?;
    let chosen = models.choose(query.version.as_deref())?;
    let format = input::body_format(headers)?;
    let bytes = crate::rest::body::read_body(headers, body, state.body).await?;
    let permit = scoring::admit(state)?;
    let batch = crate::telemetry::traces::Child::within("parse", || {
        input::parse(format, &bytes, state.max_batch)
    })?;
    let scored = scoring::score(state, &chosen, permit, batch, query.explain, request_id).await?;
    Ok(match input::answer_format(headers) {
        Format::Csv => {
            output::predictions_csv(&scored.result, scored.explanations.as_deref(), &scored.ids)
        }
        Format::Json => output::predictions_json(scored.result, scored.explanations, scored.ids),
    })
}
