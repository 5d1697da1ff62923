//! Handlers: what each route answers.

use std::collections::HashMap;
use std::convert::Infallible;
use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::{Buf, Bytes, BytesMut};
use classification_model::passenger::ALL_FIELDS;
use classification_model::passenger::explain_json_record;
use classification_model::validation::validate_one;
use classification_model::{Error as ModelError, Explanation, Model, Passenger, PredictionResult};
use futures_util::{FutureExt, Stream, StreamExt};
use warp::http::{HeaderMap, HeaderValue, StatusCode, header};
use warp::reply::{self, Reply, Response};

use subtle::ConstantTimeEq;
use tokio::sync::Semaphore;

use crate::config::{ApiKey, Config};
use crate::errors::ErrorItem;
use crate::metrics::Metrics;
use crate::models::{
    ColumnSummary, ErrorResponse, HealthResponse, ModelInfo, PipelineSummary, PredictBody,
    PredictRequest, PredictResponse, StatusResponse,
};

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
    /// What `/metrics` reports.
    pub metrics: Metrics,
    /// False once shutdown has begun (`/health/ready` then answers 503).
    pub ready: AtomicBool,
    /// Origins allowed by CORS, if CORS is on.
    pub cors_origins: Option<Vec<String>>,
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
            metrics: Metrics::new(classification_model::artifact::MODEL_NAME, model.version()),
            ready: AtomicBool::new(true),
            cors_origins: config.cors_origins.clone(),
        }
    }
}

/// `GET /health`.
#[utoipa::path(get, path = "/health", tag = "operations",
    responses((status = 200, description = "The service is up", body = HealthResponse)))]
pub fn health(state: Arc<AppState>) -> Response {
    reply::json(&HealthResponse {
        name: SERVICE_NAME.into(),
        api_version: env!("CARGO_PKG_VERSION").into(),
        model_version: state.model.version().into(),
    })
    .into_response()
}

/// `GET /openapi.json`: the OpenAPI 3.1 description.
#[utoipa::path(get, path = "/openapi.json", tag = "operations",
    responses((status = 200, description = "OpenAPI 3.1", content_type = "application/json", body = Object)))]
pub fn openapi_json() -> Response {
    typed(
        Response::new(crate::openapi::spec_json().into()),
        "application/json",
    )
}

/// `response` with a fixed content type.
fn typed(mut response: Response, content_type: &'static str) -> Response {
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// `GET /docs`: Swagger UI.
#[utoipa::path(get, path = "/docs", tag = "operations",
    responses((status = 200, description = "Swagger UI", content_type = "text/html", body = String)))]
pub fn docs() -> Response {
    reply::html(crate::openapi::docs_html()).into_response()
}

/// `GET /health/live`: the process is up.
#[utoipa::path(get, path = "/health/live", tag = "operations",
    responses((status = 200, description = "Alive", body = StatusResponse)))]
pub fn live() -> Response {
    reply::json(&StatusResponse {
        status: "alive".into(),
    })
    .into_response()
}

/// `GET /health/ready`: 200 while serving, 503 once shutdown has begun.
#[utoipa::path(get, path = "/health/ready", tag = "operations",
    responses(
        (status = 200, description = "Ready", body = StatusResponse),
        (status = 503, description = "Shutting down", body = StatusResponse),
    ))]
pub fn ready(state: Arc<AppState>) -> Response {
    if state.ready.load(Ordering::Relaxed) {
        reply::json(&StatusResponse {
            status: "ready".into(),
        })
        .into_response()
    } else {
        reply::with_status(
            reply::json(&StatusResponse {
                status: "shutting down".into(),
            }),
            StatusCode::SERVICE_UNAVAILABLE,
        )
        .into_response()
    }
}

/// `GET /model`: the model's metadata and fitted parameters.
#[utoipa::path(get, path = "/model", tag = "model",
    responses((status = 200, description = "The model served", body = ModelInfo)))]
pub fn model_info(state: Arc<AppState>) -> Response {
    let a = state.model.artifact();
    let p = &a.pipeline;
    let columns = p
        .scaler
        .columns
        .iter()
        .enumerate()
        .map(|(j, column)| ColumnSummary {
            column: column.clone(),
            mean: p.scaler.mean[j],
            std: 1.0 / p.scaler.scale[j],
            coefficient: p.classifier.coefficients[j],
        })
        .collect();
    reply::json(&ModelInfo {
        name: a.model_name.clone(),
        version: a.model_version.clone(),
        format_revision: a.format_revision,
        features: classification_model::validation::feature_specs(),
        training_data: a.training_data.clone(),
        config: a.config.clone(),
        metrics: a.metrics.clone(),
        pipeline: PipelineSummary {
            medians: p
                .median_imputer
                .medians
                .iter()
                .map(|m| (m.variable.clone(), m.value))
                .collect(),
            frequent_labels: p
                .rare_label_encoder
                .frequent
                .iter()
                .map(|v| (v.variable.clone(), v.labels.clone()))
                .collect(),
            columns,
            intercept: p.classifier.intercept,
            c: p.classifier.c,
        },
    })
    .into_response()
}

/// `GET /metrics`: Prometheus text format.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "OpenMetrics text", content_type = "application/openmetrics-text", body = String)))]
pub fn metrics(state: Arc<AppState>) -> Response {
    typed(
        Response::new(state.metrics.render().into()),
        "application/openmetrics-text; version=1.0.0; charset=utf-8",
    )
}

/// `GET /`: what the service is, its endpoints and an example.
#[utoipa::path(get, path = "/", tag = "operations",
    responses((status = 200, description = "A short HTML page", content_type = "text/html", body = String)))]
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
<li><code>GET /health</code>: service name, API and model versions; <code>GET /health/live</code>, <code>GET /health/ready</code>.</li>
<li><code>GET /docs</code>: interactive documentation (Swagger UI); <code>GET /openapi.json</code>: the OpenAPI 3.1 description.</li>
<li><code>GET /model</code>: model metadata, features, metrics and fitted parameters; <code>GET /metrics</code>: Prometheus metrics.</li>
<li><code>POST /predict</code>: <code>{"inputs": [passenger, ...]}</code> with JSON passengers keyed by the dataset's
column names (<code>pclass, name, sex, age, sibsp, parch, fare, cabin, embarked</code>; missing values may be
absent, <code>null</code> or <code>"?"</code>). Answers predictions (1 = survived), probabilities of survival, the model
version, and on invalid input (HTTP 422) every problem with its row and field. Also takes CSV
(<code>Content-Type: text/csv</code>) and answers CSV with <code>Accept: text/csv</code>; <code>?explain=true</code>
adds per-feature explanations.</li>
</ul>
<h2>Example</h2>
<pre>curl -s localhost:8002/predict -H 'content-type: application/json' -d '{"inputs": [{"pclass": 1,
  "name": "Allen, Miss. Elisabeth Walton", "sex": "female", "age": 29, "sibsp": 0, "parch": 0,
  "fare": 211.3375, "cabin": "B5", "embarked": "S"}]}'</pre>
</body>
</html>
"#;

/// `POST /predict`: JSON (`{"inputs": [...]}`) or CSV in; JSON or CSV out
/// (by `Accept`); `?explain=true` adds per-feature explanations.
#[utoipa::path(post, path = "/predict", tag = "prediction",
    params(("explain" = Option<bool>, Query,
        description = "Add per-passenger explanations: the intercept (baseline) and each feature's contribution to the log-odds")),
    request_body(content = PredictBody, content_type = "application/json"),
    responses(
        (status = 200, description = "Predictions (JSON, or CSV with `Accept: text/csv`)", content(
            (PredictResponse = "application/json"),
            (String = "text/csv"),
        )),
        (status = 400, description = "Malformed JSON, not an object, no `inputs` list, or an unknown query parameter", body = PredictResponse),
        (status = 401, description = "`API_KEY` is set and the bearer token is missing or wrong", body = PredictResponse),
        (status = 408, description = "The body did not arrive in time", body = PredictResponse),
        (status = 413, description = "Body over `MAX_BODY_BYTES` or more than `MAX_BATCH` records", body = PredictResponse),
        (status = 415, description = "Content-Type is neither JSON nor CSV", body = PredictResponse),
        (status = 422, description = "An empty list, or invalid records: every row and field at fault", body = PredictResponse),
        (status = 503, description = "Too many requests in flight: retry after `Retry-After` seconds", body = PredictResponse),
    ))]
pub async fn predict(
    query: HashMap<String, String>,
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
            explanations: None,
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
    let explain = match parse_query(&query) {
        Ok(explain) => explain,
        Err(e) => return fail(StatusCode::BAD_REQUEST, vec![e]),
    };
    let Some(format) = input_format(headers.get(header::CONTENT_TYPE)) else {
        return fail(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            vec![ErrorItem::field(
                "Content-Type",
                "send JSON (Content-Type: application/json) or CSV (Content-Type: text/csv)",
            )],
        );
    };
    let bytes = match read_body(&headers, body, &state).await {
        Ok(b) => b,
        Err((status, message)) => return fail(status, vec![ErrorItem::field("body", message)]),
    };
    let passengers = match format {
        InputFormat::Json => parse_json_body(&bytes),
        InputFormat::Csv => parse_csv_body(&bytes),
    };
    let passengers = match passengers {
        Ok(p) => p,
        Err((status, errors)) => {
            if status == StatusCode::UNPROCESSABLE_ENTITY {
                state
                    .metrics
                    .record_validation_failure(errors.iter().filter_map(|e| e.field.as_deref()));
            }
            return fail(status, errors);
        }
    };
    let n = passengers.len();
    if n == 0 {
        return fail(
            StatusCode::UNPROCESSABLE_ENTITY,
            vec![ErrorItem::field(
                "inputs",
                "is empty: send at least one record",
            )],
        );
    }
    if n > state.max_batch {
        return fail(
            StatusCode::PAYLOAD_TOO_LARGE,
            vec![ErrorItem::field(
                "inputs",
                format!(
                    "has {n} records, more than the {} one request may carry: split the batch",
                    state.max_batch
                ),
            )],
        );
    }
    let outcome = if explain {
        state
            .model
            .predict_explained(&passengers)
            .map(|(r, e)| (r, Some(e)))
    } else {
        state.model.predict(&passengers).map(|r| (r, None))
    };
    match outcome {
        Ok((result, explanations)) => {
            state.metrics.record_predictions(&result.predictions);
            if wants_csv(headers.get(header::ACCEPT)) {
                csv_reply(&result, explanations.as_deref())
            } else {
                reply::json(&PredictResponse {
                    predictions: Some(result.predictions),
                    probabilities: Some(result.probabilities),
                    version: result.version,
                    errors: None,
                    explanations,
                })
                .into_response()
            }
        }
        Err(ModelError::Invalid(errors)) => {
            let mut items: Vec<ErrorItem> = errors.0.into_iter().map(ErrorItem::from).collect();
            if format == InputFormat::Csv {
                items.iter_mut().for_each(add_csv_line);
            }
            state
                .metrics
                .record_validation_failure(items.iter().filter_map(|e| e.field.as_deref()));
            fail(StatusCode::UNPROCESSABLE_ENTITY, items)
        }
        Err(e) => {
            tracing::error!(error = %e, "prediction failed");
            fail(
                StatusCode::INTERNAL_SERVER_ERROR,
                vec![ErrorItem::message("the model failed; see the server log")],
            )
        }
    }
}

/// The query string: only `explain` (`true`/`false`, `1`/`0`).
fn parse_query(query: &HashMap<String, String>) -> Result<bool, ErrorItem> {
    if let Some(other) = query.keys().find(|k| k.as_str() != "explain") {
        return Err(ErrorItem::field(
            other.clone(),
            "unknown query parameter: the only one is `explain`",
        ));
    }
    match query.get("explain").map(String::as_str) {
        None | Some("false" | "0") => Ok(false),
        Some("true" | "1") => Ok(true),
        Some(v) => Err(ErrorItem::field(
            "explain",
            format!(
                "must be true or false, got {:?}",
                v.chars().take(40).collect::<String>()
            ),
        )),
    }
}

type BodyErrors = (StatusCode, Vec<ErrorItem>);

/// A JSON body: `{"inputs": [records]}`.
fn parse_json_body(bytes: &[u8]) -> Result<Vec<Passenger>, BodyErrors> {
    // serde would also read a struct from a JSON array: only an object will do
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err((
            StatusCode::BAD_REQUEST,
            vec![ErrorItem::field(
                "body",
                "the body must be a JSON object {\"inputs\": [records]}",
            )],
        ));
    }
    // Fast path: the body parses straight into passengers. Otherwise parse it
    // record by record (as raw JSON) to say what is wrong with each.
    if let Ok(fast) = serde_json::from_slice::<PredictBody>(bytes) {
        return Ok(fast.inputs);
    }
    let request: PredictRequest<'_> = serde_json::from_slice(bytes).map_err(|e| {
        // a body that is not JSON at all, or JSON of the wrong shape
        let field = if e.is_data() { "inputs" } else { "body" };
        (
            StatusCode::BAD_REQUEST,
            vec![ErrorItem::field(
                field,
                format!("the body must be a JSON object {{\"inputs\": [records]}}: {e}"),
            )],
        )
    })?;
    if request.inputs.is_empty() {
        return Ok(Vec::new());
    }
    parse_records(&request).map_err(|errors| (StatusCode::UNPROCESSABLE_ENTITY, errors))
}

/// A CSV body with the dataset's header (any subset of its columns that
/// includes the required features).
fn parse_csv_body(bytes: &[u8]) -> Result<Vec<Passenger>, BodyErrors> {
    let unprocessable = |errors| (StatusCode::UNPROCESSABLE_ENTITY, errors);
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::Headers)
        .from_reader(bytes);
    let headers = match reader.headers() {
        Ok(h) => h.clone(),
        Err(e) => return Err(unprocessable(vec![csv_error(0, "header", e.to_string())])),
    };
    let mut errors = Vec::new();
    for (column, name) in headers.iter().enumerate() {
        if !ALL_FIELDS.contains(&name) {
            errors.push(csv_error(
                0,
                name,
                format!(
                    "column {} is not a dataset column (expected some of: {})",
                    column + 1,
                    ALL_FIELDS.join(", ")
                ),
            ));
        }
    }
    for required in ["pclass", "sex", "sibsp", "parch"] {
        if !headers.iter().any(|h| h == required) {
            errors.push(csv_error(
                0,
                required,
                "the header has no such column, and it is required".into(),
            ));
        }
    }
    if !errors.is_empty() {
        return Err(unprocessable(errors));
    }
    let mut passengers = Vec::new();
    for (row, record) in reader.records().enumerate() {
        let parsed = record.map_err(|e| e.to_string()).and_then(|r| {
            r.deserialize::<Passenger>(Some(&headers))
                .map_err(|e| e.to_string())
        });
        match parsed {
            Ok(p) => passengers.push(p),
            Err(message) => errors.push(csv_error(row + 1, "row", message)),
        }
    }
    if errors.is_empty() {
        Ok(passengers)
    } else {
        Err(unprocessable(errors))
    }
}

/// An error at a CSV data row (`row` 1-based over data rows; 0 = the header),
/// naming its line (the header is line 1) and column.
fn csv_error(row: usize, column: &str, message: String) -> ErrorItem {
    ErrorItem {
        row: row.checked_sub(1),
        line: Some(row as u64 + 1),
        field: Some(column.to_owned()),
        message,
    }
}

/// A validation error on a CSV body also names its line.
fn add_csv_line(e: &mut ErrorItem) {
    e.line = e.row.map(|r| r as u64 + 2);
}

fn csv_reply(result: &PredictionResult, explanations: Option<&[Explanation]>) -> Response {
    let mut out = String::with_capacity(32 * result.probabilities.len() + 64);
    out.push_str("row,prediction,probability");
    if let Some(first) = explanations.and_then(|e| e.first()) {
        out.push_str(",baseline");
        for feature in first.contributions.keys() {
            out.push(',');
            out.push_str(feature);
        }
    }
    out.push('\n');
    for (row, (pred, p)) in result
        .predictions
        .iter()
        .zip(&result.probabilities)
        .enumerate()
    {
        // `{}` prints the shortest text that reads back as the same f64
        let _ = write!(out, "{row},{pred},{p}");
        if let Some(e) = explanations.and_then(|e| e.get(row)) {
            let _ = write!(out, ",{}", e.baseline);
            for c in e.contributions.values() {
                let _ = write!(out, ",{c}");
            }
        }
        out.push('\n');
    }
    typed(Response::new(out.into()), "text/csv; charset=utf-8")
}

/// Whether the client asked for CSV rather than JSON.
fn wants_csv(accept: Option<&HeaderValue>) -> bool {
    let Some(accept) = accept.and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let position = |media: &str| {
        accept.split(',').position(|m| {
            m.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .eq_ignore_ascii_case(media)
        })
    };
    match (position("text/csv"), position("application/json")) {
        (Some(csv), Some(json)) => csv < json,
        (Some(_), None) => true,
        _ => false,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum InputFormat {
    Json,
    Csv,
}

fn input_format(content_type: Option<&HeaderValue>) -> Option<InputFormat> {
    let value = content_type.and_then(|v| v.to_str().ok())?;
    let essence = value.split(';').next().unwrap_or_default().trim();
    if essence.eq_ignore_ascii_case("application/json") {
        Some(InputFormat::Json)
    } else if essence.eq_ignore_ascii_case("text/csv") {
        Some(InputFormat::Csv)
    } else {
        None
    }
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
                    line: None,
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

/// Appends one chunk of the body, within the size limit.
fn append_chunk(
    chunk: Result<impl Buf, warp::Error>,
    buf: &mut BytesMut,
    limit: usize,
) -> Result<(), (StatusCode, String)> {
    let mut chunk = chunk.map_err(|e| {
        (
            StatusCode::BAD_REQUEST,
            format!("cannot read the body: {e}"),
        )
    })?;
    if buf.len() + chunk.remaining() > limit {
        return Err(body_too_large(limit));
    }
    while chunk.has_remaining() {
        let part = chunk.chunk();
        buf.extend_from_slice(part);
        let n = part.len();
        chunk.advance(n);
    }
    Ok(())
}

fn body_too_large(limit: usize) -> (StatusCode, String) {
    (
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("the body is larger than the {limit} bytes allowed: split the batch"),
    )
}

/// Reads the body, enforcing the size limit and the time limit.
async fn read_body(
    headers: &HeaderMap,
    mut body: impl Stream<Item = Result<impl Buf, warp::Error>> + Unpin,
    state: &AppState,
) -> Result<Bytes, (StatusCode, String)> {
    let limit = state.max_body_bytes;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(body_too_large(limit));
    }
    let mut buf = BytesMut::with_capacity(declared.map_or(8 * 1024, |n| n as usize));
    // What has already arrived is taken without arming a timer: a small
    // request usually comes whole with its headers.
    loop {
        match body.next().now_or_never() {
            Some(Some(chunk)) => append_chunk(chunk, &mut buf, limit)?,
            Some(None) => return Ok(buf.freeze()),
            None => break,
        }
    }
    // the rest must arrive within the body timeout
    let read = async {
        while let Some(chunk) = body.next().await {
            append_chunk(chunk, &mut buf, limit)?;
        }
        Ok(())
    };
    match tokio::time::timeout(state.body_timeout, read).await {
        Ok(Ok(())) => Ok(buf.freeze()),
        Ok(Err(e)) => Err(e),
        Err(_) => Err((
            StatusCode::REQUEST_TIMEOUT,
            format!(
                "the body took longer than {} s to arrive",
                state.body_timeout.as_secs()
            ),
        )),
    }
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
            "not found: see GET / or GET /docs for the endpoints".to_owned(),
        )
    } else if err.find::<warp::reject::MethodNotAllowed>().is_some() {
        (
            StatusCode::METHOD_NOT_ALLOWED,
            "method",
            "method not allowed".to_owned(),
        )
    } else if let Some(e) = err.find::<warp::reject::InvalidQuery>() {
        (StatusCode::BAD_REQUEST, "query", e.to_string())
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
    } else if let Some(e) = err.find::<warp::filters::cors::CorsForbidden>() {
        (StatusCode::FORBIDDEN, "Origin", e.to_string())
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

/// One structured log line per request, and its metrics.
pub fn log_request(state: &AppState, info: warp::log::Info<'_>) {
    let elapsed = info.elapsed();
    state.metrics.record_request(
        info.path(),
        info.method().as_str(),
        info.status().as_u16(),
        elapsed.as_secs_f64(),
    );
    tracing::info!(
        target: "classification_api::access",
        method = %info.method(),
        path = info.path(),
        status = info.status().as_u16(),
        latency_us = elapsed.as_micros() as u64,
    );
}
