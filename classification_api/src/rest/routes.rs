//! Routing: which request goes to which endpoint of the table, with
//! authentication, CORS, JSON errors, and one access-log line and metrics
//! per request.

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Buf;
use futures_util::TryStreamExt;
use warp::http::HeaderMap;

use warp::filters::BoxedFilter;
use warp::http::Method;
use warp::reply::Response;
use warp::{Filter, Reply};

use crate::rest::auth;
use crate::rest::auth::Peer;
use crate::rest::endpoint::Table;
use crate::rest::errors::ApiError;
use crate::rest::request::{Body, Request};
use crate::serving::errors::{ErrorItem, RequestError};
use crate::serving::state::AppState;
use crate::telemetry::traces;
use opentelemetry::KeyValue;
use opentelemetry::trace::TraceId;

/// Every endpoint of `table`, with CORS (if configured), errors turned into
/// JSON, and every request logged and counted. One filter reads the request
/// and `dispatch` finds its endpoint in the table: the warp types stay
/// shallow, whatever the number of endpoints.
pub fn routes(state: Arc<AppState>, table: &'static Table) -> BoxedFilter<(Response,)> {
    let request_state = state.clone();
    let api = warp::method()
        .and(warp::path::full())
        .and(
            warp::query::raw()
                .map(Some)
                .or(warp::any().map(|| None))
                .unify(),
        )
        .and(warp::header::headers_cloned())
        .and(warp::ext::optional::<Peer>())
        .and(warp::body::stream().map(erase))
        .then(
            move |method: Method,
                  path: warp::path::FullPath,
                  query: Option<String>,
                  headers: HeaderMap,
                  peer: Option<Peer>,
                  body: Body| {
                dispatch(
                    table,
                    method,
                    path,
                    Request {
                        state: request_state.clone(),
                        spec: table.spec,
                        params: Vec::new(),
                        query,
                        headers,
                        body,
                        peer: peer.map(|p| p.0),
                    },
                )
            },
        );
    let log_state = state.clone();
    let log = warp::log::custom(move |info| log_request(&log_state, table, info));
    let api = match &state.cors_origins {
        None => api.recover(rejection).unify().boxed(),
        Some(origins) => {
            let cors = warp::cors()
                .allow_methods([Method::GET, Method::POST])
                .allow_headers(["content-type", "authorization", "accept", "x-request-id"])
                .expose_headers(["x-request-id"])
                .max_age(3600);
            let cors = if origins.iter().any(|o| o == "*") {
                cors.allow_any_origin()
            } else {
                cors.allow_origins(origins.iter().map(String::as_str))
            };
            api.with(cors)
                .map(Reply::into_response)
                .recover(rejection)
                .unify()
                .boxed()
        }
    };
    // only this one header, not a copy of them all on every request
    warp::header::optional::<warp::http::HeaderValue>("x-request-id")
        .and(api)
        .map(echo_request_id)
        .with(log)
        .map(Reply::into_response)
        .boxed()
}

/// The body as a stream of `Bytes` of one type for every handler (a hyper
/// body's chunks are `Bytes` already: nothing is copied).
fn erase<B: Buf>(
    body: impl futures_util::Stream<Item = Result<B, warp::Error>> + Send + 'static,
) -> Body {
    Box::pin(body.map_ok(|mut chunk| {
        let n = chunk.remaining();
        chunk.copy_to_bytes(n)
    }))
}

/// Sends a request to its endpoint: 404 for no endpoint's path, 405 (with
/// `Allow`) for another method, the access check, then the handler.
async fn dispatch(
    table: &'static Table,
    method: Method,
    path: warp::path::FullPath,
    mut request: Request,
) -> Response {
    let Some((_, endpoint)) = table.find(path.as_str()) else {
        return ApiError::NoRoute.into_response();
    };
    request.params = endpoint.params(path.as_str());
    if endpoint.method != method {
        return ApiError::MethodNotAllowed(endpoint.method.as_str()).into_response();
    }
    if let Err(e) = auth::check(endpoint.access, &request) {
        return e.into_response();
    }
    if endpoint.needs_history() && request.state.history.is_none() {
        return ApiError::NoRoute.into_response();
    }
    // the request's span (nothing unless traces are on)
    let span = traces::Request::start(
        || {
            (
                endpoint.span_name.into(),
                vec![
                    KeyValue::new("http.request.method", endpoint.method.as_str()),
                    KeyValue::new("http.route", endpoint.path),
                ],
            )
        },
        &request.headers,
    );
    let mut response = span.around((endpoint.handler)(request)).await;
    let status = i64::from(response.status().as_u16());
    TRACE_ID.set(span.finish("http.response.status_code", status, response.headers_mut()));
    response
}

thread_local! {
    /// The trace id of the response this thread just finished, for its
    /// access line: the log filter runs in the same poll, on the same
    /// thread, right after the handler's future completes.
    static TRACE_ID: std::cell::Cell<Option<TraceId>> = const { std::cell::Cell::new(None) };
}

/// Every response carries an `X-Request-Id`: `/predict` sets the one it
/// stored; others echo the client's (if valid) or a new one.
fn echo_request_id(given: Option<warp::http::HeaderValue>, mut response: Response) -> Response {
    if !response.headers().contains_key("x-request-id") {
        let value = given
            .filter(|v| v.to_str().is_ok_and(crate::serving::ids::valid_id))
            .or_else(|| warp::http::HeaderValue::from_str(&crate::serving::ids::new_id()).ok());
        if let Some(value) = value {
            response.headers_mut().insert("x-request-id", value);
        }
    }
    response
}

/// Turns every rejection into its JSON error.
async fn rejection(err: warp::Rejection) -> Result<Response, Infallible> {
    use warp::reject as r;
    let field = |field: &str, e: &dyn std::fmt::Display| ErrorItem::field(field, e.to_string());
    let error = if err.is_not_found() {
        ApiError::NoRoute
    } else if let Some(e) = err.find::<r::InvalidQuery>() {
        RequestError::BadRequest(vec![field("query", e)]).into()
    } else if let Some(e) = err.find::<r::InvalidHeader>() {
        RequestError::BadRequest(vec![field("headers", e)]).into()
    } else if let Some(e) = err.find::<r::MissingHeader>() {
        RequestError::BadRequest(vec![field("headers", e)]).into()
    } else if let Some(e) = err.find::<r::PayloadTooLarge>() {
        RequestError::TooLarge(field("body", e)).into()
    } else if let Some(e) = err.find::<r::UnsupportedMediaType>() {
        ApiError::UnsupportedMediaType(field("Content-Type", e))
    } else if let Some(e) = err.find::<warp::filters::cors::CorsForbidden>() {
        RequestError::Forbidden(field("Origin", e)).into()
    } else if let Some(e) = err.find::<r::LengthRequired>() {
        ApiError::LengthRequired(field("Content-Length", e))
    } else if err.find::<r::MethodNotAllowed>().is_some() {
        ApiError::MethodNotAllowed("GET")
    } else {
        // unreachable from input: every route answers its own errors
        tracing::error!(rejection = ?err, "unhandled rejection");
        RequestError::Internal.into()
    };
    Ok(error.into_response())
}

/// One structured log line per request, and its metrics.
fn log_request(state: &AppState, table: &Table, info: warp::log::Info<'_>) {
    let elapsed = info.elapsed();
    state.metrics.record_request(
        table.find(info.path()).map(|(i, _)| i),
        info.method().as_str(),
        info.status().as_u16(),
        elapsed.as_secs_f64(),
    );
    crate::telemetry::logging::access(
        info.method().as_str(),
        info.path(),
        info.status().as_u16(),
        elapsed.as_micros() as u64,
        TRACE_ID.take(),
    );
}
