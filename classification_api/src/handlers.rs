//! Handlers: what each route answers.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Buf, Bytes, BytesMut};
use classification_model::passenger::explain_json_record;
use classification_model::validation::validate_one;
use classification_model::{Error as ModelError, Model, Passenger};
use futures_util::{Stream, StreamExt};
use warp::http::{HeaderMap, HeaderValue, StatusCode, header};
use warp::reply::{self, Reply, Response};

use subtle::ConstantTimeEq;
use tokio::sync::Semaphore;

use crate::config::{ApiKey, Config};
use crate::errors::ErrorItem;
use crate::models::{ErrorResponse, HealthResponse, PredictRequest, PredictResponse};

/// The service's name, as `/health` reports it.
pub const SERVICE_NAME: &str = "Titanic Survival Classification API";

/// What the handlers share.
#[derive(Debug)]
pub struct AppState {
    /// The model served.
    pub model: &'static Model,
    /// Largest accepted request body, in bytes.
    pub max_body_bytes: usize,
    /// Most records in one request.
    pub max_batch: usize,
    /// How long a client may take to send its body.
    pub body_timeout: Duration,
    /// Permits for `/predict` requests in flight.
    pub in_flight: Arc<Semaphore>,
    /// The key `/predict` requires, if any.
    pub api_key: Option<ApiKey>,
}

impl AppState {
    /// State for `model` with the limits of `config`.
    pub fn new(model: &'static Model, config: &Config) -> Self {
        Self {
            model,
            max_body_bytes: config.max_body_bytes,
            max_batch: config.max_batch,
            body_timeout: config.request_timeout,
            in_flight: Arc::new(Semaphore::new(config.max_in_flight)),
            api_key: config.api_key.clone(),
        }
    }
}

/// `GET /health`.
pub fn health(state: Arc<AppState>) -> Response {
    reply::json(&HealthResponse {
        name: SERVICE_NAME.into(),
        api_version: env!("CARGO_PKG_VERSION").into(),
        model_version: state.model.version().into(),
    })
    .into_response()
}

/// `GET /`: what the service is, its endpoints and an example.
pub fn index() -> Response {
    reply::html(INDEX_HTML).into_response()
}

const INDEX_HTML: &str = r#"<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Titanic Survival Classification API</title></head>
<body>
<h1>Titanic Survival Classification API</h1>
<p>Predicts whether a Titanic passenger survived, with the trained <code>classification_model</code>
pipeline (imputation, rare-label grouping, one-hot encoding, scaling, logistic regression).</p>
<h2>Endpoints</h2>
<ul>
<li><code>GET /health</code>: service name, API and model versions.</li>
<li><code>POST /predict</code>: <code>{"inputs": [passenger, ...]}</code> with JSON passengers keyed by the dataset's
column names (<code>pclass, name, sex, age, sibsp, parch, fare, cabin, embarked</code>; missing values may be
absent, <code>null</code> or <code>"?"</code>). Answers predictions (1 = survived), probabilities of survival, the model
version, and on invalid input (HTTP 422) every problem with its row and field.</li>
</ul>
<h2>Example</h2>
<pre>curl -s localhost:8002/predict -H 'content-type: application/json' -d '{"inputs": [{"pclass": 1,
  "name": "Allen, Miss. Elisabeth Walton", "sex": "female", "age": 29, "sibsp": 0, "parch": 0,
  "fare": 211.3375, "cabin": "B5", "embarked": "S"}]}'</pre>
</body>
</html>
"#;

/// `POST /predict`.
pub async fn predict(
    headers: HeaderMap,
    body: impl Stream<Item = Result<impl Buf, warp::Error>> + Unpin,
    state: Arc<AppState>,
) -> Response {
    let version = state.model.version();
    let fail = |status, errors: Vec<ErrorItem>| {
        let body = PredictResponse {
            predictions: None,
            probabilities: None,
            version: version.to_owned(),
            errors: Some(errors),
        };
        reply::with_status(reply::json(&body), status).into_response()
    };
    if let Some(key) = &state.api_key {
        if !authorized(headers.get(header::AUTHORIZATION), key) {
            let mut response = fail(
                StatusCode::UNAUTHORIZED,
                vec![ErrorItem::field(
                    "Authorization",
                    "send the API key as `Authorization: Bearer <key>`",
                )],
            );
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            return response;
        }
    }
    // a bounded number in flight: excess load is refused at once, not queued
    let Ok(_permit) = state.in_flight.clone().try_acquire_owned() else {
        let mut response = fail(
            StatusCode::SERVICE_UNAVAILABLE,
            vec![ErrorItem::message(
                "the server is at capacity: retry shortly",
            )],
        );
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        return response;
    };
    if !is_json(headers.get(header::CONTENT_TYPE)) {
        return fail(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            vec![ErrorItem::field(
                "Content-Type",
                "send the request body as JSON, with Content-Type: application/json",
            )],
        );
    }
    let bytes = match read_body(&headers, body, &state).await {
        Ok(b) => b,
        Err((status, message)) => return fail(status, vec![ErrorItem::field("body", message)]),
    };
    let count_problem = |n: usize| {
        if n == 0 {
            Some(fail(
                StatusCode::UNPROCESSABLE_ENTITY,
                vec![ErrorItem::field(
                    "inputs",
                    "is empty: send at least one record",
                )],
            ))
        } else if n > state.max_batch {
            Some(fail(
                StatusCode::PAYLOAD_TOO_LARGE,
                vec![ErrorItem::field(
                    "inputs",
                    format!(
                        "has {n} records, more than the {} one request may carry: split the batch",
                        state.max_batch
                    ),
                )],
            ))
        } else {
            None
        }
    };
    // serde would also read a struct from a JSON array: only an object will do
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return fail(
            StatusCode::BAD_REQUEST,
            vec![ErrorItem::field(
                "body",
                "the body must be a JSON object {\"inputs\": [records]}",
            )],
        );
    }
    // Fast path: the body parses straight into passengers. Otherwise parse it
    // record by record (as raw JSON) to say what is wrong with each.
    let passengers = match serde_json::from_slice::<FastRequest>(&bytes) {
        Ok(fast) => fast.inputs,
        Err(_) => {
            let request: PredictRequest<'_> = match serde_json::from_slice(&bytes) {
                Ok(r) => r,
                Err(e) => {
                    // a body that is not JSON at all, or JSON of the wrong shape
                    let field = if e.is_data() { "inputs" } else { "body" };
                    return fail(
                        StatusCode::BAD_REQUEST,
                        vec![ErrorItem::field(
                            field,
                            format!(
                                "the body must be a JSON object {{\"inputs\": [records]}}: {e}"
                            ),
                        )],
                    );
                }
            };
            if let Some(response) = count_problem(request.inputs.len()) {
                return response;
            }
            match parse_records(&request) {
                Ok(passengers) => passengers,
                Err(errors) => return fail(StatusCode::UNPROCESSABLE_ENTITY, errors),
            }
        }
    };
    if let Some(response) = count_problem(passengers.len()) {
        return response;
    }
    match state.model.predict(&passengers) {
        Ok(result) => reply::json(&PredictResponse {
            predictions: Some(result.predictions),
            probabilities: Some(result.probabilities),
            version: result.version,
            errors: None,
        })
        .into_response(),
        Err(ModelError::Invalid(errors)) => fail(
            StatusCode::UNPROCESSABLE_ENTITY,
            errors.0.into_iter().map(ErrorItem::from).collect(),
        ),
        Err(e) => {
            tracing::error!(error = %e, "prediction failed");
            fail(
                StatusCode::INTERNAL_SERVER_ERROR,
                vec![ErrorItem::message("the model failed; see the server log")],
            )
        }
    }
}

/// The request when every record is a well-formed passenger.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct FastRequest {
    inputs: Vec<Passenger>,
}

/// Deserialises every record; on failure reports every problem of every
/// record, including validation problems of the records that did parse.
fn parse_records(request: &PredictRequest<'_>) -> Result<Vec<Passenger>, Vec<ErrorItem>> {
    let mut passengers = Vec::with_capacity(request.inputs.len());
    let mut errors = Vec::new();
    for (row, raw) in request.inputs.iter().enumerate() {
        match serde_json::from_str::<Passenger>(raw.get()) {
            Ok(p) => passengers.push((row, p)),
            Err(_) => {
                let (field, message) = explain_json_record(raw.get());
                errors.push(ErrorItem {
                    row: Some(row),
                    field: Some(field.unwrap_or_else(|| "inputs".into())),
                    message,
                });
            }
        }
    }
    if errors.is_empty() {
        return Ok(passengers.into_iter().map(|(_, p)| p).collect());
    }
    let mut field_errors = Vec::new();
    for (row, p) in &passengers {
        validate_one(*row, p, &mut field_errors);
    }
    errors.extend(field_errors.into_iter().map(ErrorItem::from));
    errors.sort_by_key(|e| e.row);
    Err(errors)
}

/// Whether `Authorization: Bearer <token>` carries the key (compared in
/// constant time).
fn authorized(header: Option<&HeaderValue>, key: &ApiKey) -> bool {
    let Some(value) = header.map(HeaderValue::as_bytes) else {
        return false;
    };
    let Some((scheme, token)) = value.split_at_checked(7) else {
        return false;
    };
    scheme.eq_ignore_ascii_case(b"bearer ") && bool::from(token.ct_eq(key.0.as_bytes()))
}

fn is_json(content_type: Option<&HeaderValue>) -> bool {
    let Some(value) = content_type.and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or_default().trim();
    essence.eq_ignore_ascii_case("application/json")
}

/// Reads the body, enforcing the size limit and the time limit.
async fn read_body(
    headers: &HeaderMap,
    mut body: impl Stream<Item = Result<impl Buf, warp::Error>> + Unpin,
    state: &AppState,
) -> Result<Bytes, (StatusCode, String)> {
    let limit = state.max_body_bytes;
    let too_large = || {
        (
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the body is larger than the {limit} bytes allowed: split the batch"),
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    let read = async {
        let mut buf = BytesMut::with_capacity(declared.map_or(8 * 1024, |n| n as usize));
        while let Some(chunk) = body.next().await {
            let mut chunk = chunk.map_err(|e| {
                (
                    StatusCode::BAD_REQUEST,
                    format!("cannot read the body: {e}"),
                )
            })?;
            if buf.len() + chunk.remaining() > limit {
                return Err(too_large());
            }
            while chunk.has_remaining() {
                let part = chunk.chunk();
                buf.extend_from_slice(part);
                let n = part.len();
                chunk.advance(n);
            }
        }
        Ok(buf.freeze())
    };
    tokio::time::timeout(state.body_timeout, read)
        .await
        .unwrap_or_else(|_| {
            Err((
                StatusCode::REQUEST_TIMEOUT,
                format!(
                    "the body took longer than {} s to arrive",
                    state.body_timeout.as_secs()
                ),
            ))
        })
}

/// A known path with a method it does not serve.
pub fn method_not_allowed(allow: &str) -> Response {
    let body = ErrorResponse {
        errors: vec![ErrorItem::field(
            "method",
            format!("method not allowed: use {allow}"),
        )],
    };
    let mut response =
        reply::with_status(reply::json(&body), StatusCode::METHOD_NOT_ALLOWED).into_response();
    if let Ok(value) = HeaderValue::from_str(allow) {
        response.headers_mut().insert(header::ALLOW, value);
    }
    response
}

/// Turns every rejection into a JSON error.
pub async fn rejection(err: warp::Rejection) -> Result<Response, Infallible> {
    let (status, field, message) = if err.is_not_found() {
        (
            StatusCode::NOT_FOUND,
            "path",
            "not found: the endpoints are GET /, GET /health and POST /predict".to_owned(),
        )
    } else if err.find::<warp::reject::MethodNotAllowed>().is_some() {
        (
            StatusCode::METHOD_NOT_ALLOWED,
            "method",
            "method not allowed".to_owned(),
        )
    } else if let Some(e) = err.find::<warp::reject::InvalidHeader>() {
        (StatusCode::BAD_REQUEST, "headers", e.to_string())
    } else if let Some(e) = err.find::<warp::reject::MissingHeader>() {
        (StatusCode::BAD_REQUEST, "headers", e.to_string())
    } else if let Some(e) = err.find::<warp::reject::PayloadTooLarge>() {
        (StatusCode::PAYLOAD_TOO_LARGE, "body", e.to_string())
    } else if let Some(e) = err.find::<warp::reject::UnsupportedMediaType>() {
        (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Content-Type",
            e.to_string(),
        )
    } else if let Some(e) = err.find::<warp::reject::LengthRequired>() {
        (StatusCode::LENGTH_REQUIRED, "Content-Length", e.to_string())
    } else {
        // unreachable from input: every route answers its own errors
        tracing::error!(rejection = ?err, "unhandled rejection");
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            "request",
            "internal error".to_owned(),
        )
    };
    let body = ErrorResponse {
        errors: vec![ErrorItem::field(field, message)],
    };
    Ok(reply::with_status(reply::json(&body), status).into_response())
}

/// One structured log line per request.
pub fn log_request(info: warp::log::Info<'_>) {
    tracing::info!(
        target: "classification_api::access",
        method = %info.method(),
        path = info.path(),
        status = info.status().as_u16(),
        latency_us = info.elapsed().as_micros() as u64,
    );
}
