//! Routing: which request goes to which endpoint of the table, with
//! authentication, CORS, JSON errors, and one access-log line and metrics
//! per request.

use std::convert::Infallible;
use std::sync::{Arc, LazyLock};

use bytes::Buf;
use futures_util::TryStreamExt;
use warp::http::HeaderMap;

use warp::filters::BoxedFilter;
use warp::http::Method;
use warp::reply::Response;
use warp::{Filter, Reply};

use crate::http::auth;
use crate::http::auth::Peer;
use crate::http::endpoints::{ENDPOINTS, route_index};
use crate::http::errors::{ApiError, ErrorItem};
use crate::http::request::{Body, Request};
use crate::http::state::AppState;
use crate::telemetry::traces;
use opentelemetry::KeyValue;
use opentelemetry::trace::TraceId;

/// Every endpoint of [`ENDPOINTS`], with CORS (if configured), errors
/// turned into JSON, and every request logged and counted. One filter reads
/// the request and `dispatch` finds its endpoint in the table: the warp
/// types stay shallow, whatever the number of endpoints.
pub fn routes(state: Arc<AppState>) -> BoxedFilter<(Response,)> {
    LazyLock::force(&ENDPOINTS);
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
                    method,
                    path,
                    Request {
                        state: request_state.clone(),
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
    let log = warp::log::custom(move |info| log_request(&log_state, info));
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
async fn dispatch(method: Method, path: warp::path::FullPath, mut request: Request) -> Response {
    let Some(endpoint) = ENDPOINTS.iter().find(|e| e.matches(path.as_str())) else {
        return ApiError::NotFound.into_response();
    };
    request.params = endpoint.params(path.as_str());
    if endpoint.method != method {
        return ApiError::MethodNotAllowed(endpoint.method.as_str()).into_response();
    }
    if let Err(e) = auth::check(endpoint.access, &request) {
        return e.into_response();
    }
    if endpoint.needs_history() && request.state.history.is_none() {
        return ApiError::NotFound.into_response();
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
            .filter(|v| crate::http::ids::request_id(Some(v)).is_some())
            .or_else(|| warp::http::HeaderValue::from_str(&crate::http::ids::new_id()).ok());
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
    let error = if let Some(e) = err.find::<ApiError>() {
        e.clone()
    } else if err.is_not_found() {
        ApiError::NotFound
    } else if let Some(e) = err.find::<r::InvalidQuery>() {
        ApiError::BadRequest(vec![field("query", e)])
    } else if let Some(e) = err.find::<r::InvalidHeader>() {
        ApiError::BadRequest(vec![field("headers", e)])
    } else if let Some(e) = err.find::<r::MissingHeader>() {
        ApiError::BadRequest(vec![field("headers", e)])
    } else if let Some(e) = err.find::<r::PayloadTooLarge>() {
        ApiError::TooLarge(field("body", e))
    } else if let Some(e) = err.find::<r::UnsupportedMediaType>() {
        ApiError::UnsupportedMediaType(field("Content-Type", e))
    } else if let Some(e) = err.find::<warp::filters::cors::CorsForbidden>() {
        ApiError::Forbidden(field("Origin", e))
    } else if let Some(e) = err.find::<r::LengthRequired>() {
        ApiError::LengthRequired(field("Content-Length", e))
    } else if err.find::<r::MethodNotAllowed>().is_some() {
        ApiError::MethodNotAllowed("GET")
    } else {
        // unreachable from input: every route answers its own errors
        tracing::error!(rejection = ?err, "unhandled rejection");
        ApiError::Internal
    };
    Ok(error.into_response())
}

/// One structured log line per request, and its metrics.
fn log_request(state: &AppState, info: warp::log::Info<'_>) {
    let elapsed = info.elapsed();
    state.metrics.record_request(
        route_index(info.path()),
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use classification_model::Model;
    use warp::http::StatusCode;

    use super::*;

    fn api() -> BoxedFilter<(Response,)> {
        api_with(crate::config::Config {
            max_body_bytes: 4096,
            max_batch: 2,
            request_timeout: Duration::from_secs(5),
            ..Default::default()
        })
    }

    fn api_with(config: crate::config::Config) -> BoxedFilter<(Response,)> {
        let (models, _) = crate::serving::models::Registry::open(
            crate::serving::models::Loaded::embedded().unwrap(),
            None,
            None,
            None,
        )
        .unwrap();
        routes(Arc::new(AppState::new(
            models,
            &config,
            &crate::http::endpoints::labels(),
        )))
    }

    fn json(body: &[u8]) -> serde_json::Value {
        serde_json::from_slice(body).unwrap()
    }

    #[tokio::test]
    async fn every_route_of_the_table_is_served() {
        let api = api();
        let model = Model::embedded().unwrap();
        let v2_body = r#"{"inputs": [
            {"name": "pclass", "shape": [1], "datatype": "INT64", "data": [3]},
            {"name": "sex", "shape": [1], "datatype": "BYTES", "data": ["male"]},
            {"name": "sibsp", "shape": [1], "datatype": "INT64", "data": [0]},
            {"name": "parch", "shape": [1], "datatype": "INT64", "data": [0]}]}"#;
        for route in ENDPOINTS.iter() {
            let path = route
                .path
                .replace("{name}", model.name())
                .replace("{version}", model.version())
                .replace("/app/{file}", "/app/index.html")
                .replace(
                    "/reports/{file}",
                    &crate::http::web::report_path(model.name(), model.version()).unwrap(),
                );
            let body = if path.starts_with("/v2/") {
                v2_body
            } else {
                r#"{"inputs": [{"pclass": 3, "sex": "male", "sibsp": 0, "parch": 0}]}"#
            };
            let r = warp::test::request()
                .method(route.method.as_str())
                .path(&path)
                .extension(crate::http::auth::Peer(([127, 0, 0, 1], 4000).into()))
                .header("content-type", "application/json")
                .body(body)
                .reply(&api)
                .await;
            // with history off (as here) the admin routes are absent
            let expected = if route.needs_history() {
                StatusCode::NOT_FOUND
            } else {
                StatusCode::OK
            };
            assert_eq!(r.status(), expected, "{}", route.path);
        }
    }

    #[tokio::test]
    async fn every_response_echoes_a_valid_request_id_or_carries_a_new_one() {
        let api = api();
        for (path, given) in [("/health", "req-1"), ("/missing", "req-2")] {
            let r = warp::test::request()
                .path(path)
                .header("x-request-id", given)
                .reply(&api)
                .await;
            assert_eq!(r.headers()["x-request-id"], given, "{path}");
        }
        let long = "x".repeat(129);
        let r = warp::test::request()
            .path("/health")
            .header("x-request-id", &long)
            .reply(&api)
            .await;
        let id = r.headers()["x-request-id"].to_str().unwrap();
        assert!(id != long && id.len() == 36, "{id}");
    }

    #[tokio::test]
    async fn without_an_admin_key_only_loopback_clients_reach_the_history() {
        let api = api();
        let from = |ip: &str| {
            let peer = crate::http::auth::Peer(format!("{ip}:4000").parse().unwrap());
            warp::test::request().path("/history").extension(peer)
        };
        for far in ["10.0.0.7", "[2001:db8::1]", "192.168.1.2"] {
            let r = from(far).reply(&api).await;
            assert_eq!(r.status(), StatusCode::FORBIDDEN, "{far}");
            assert!(
                json(r.body())["errors"][0]["message"]
                    .as_str()
                    .unwrap()
                    .contains("ADMIN_API_KEY")
            );
        }
        // loopback passes the guard (and finds history off here: 404)
        for near in ["127.0.0.1", "[::1]", "[::ffff:127.0.0.1]"] {
            assert_eq!(
                from(near).reply(&api).await.status(),
                StatusCode::NOT_FOUND,
                "{near}"
            );
        }
        // no peer known: refused
        let r = warp::test::request().path("/monitoring").reply(&api).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        // through a proxy, loopback is anyone: refused, naming the header
        for header in ["Forwarded", "X-Forwarded-For", "X-Real-IP"] {
            let r = from("127.0.0.1")
                .header(header, "for=203.0.113.9")
                .reply(&api)
                .await;
            assert_eq!(r.status(), StatusCode::FORBIDDEN, "{header}");
            let message = json(r.body())["errors"][0]["message"].clone();
            assert!(
                message
                    .as_str()
                    .unwrap()
                    .contains(&header.to_ascii_lowercase()),
                "{message}"
            );
        }
        // with ADMIN_LOOPBACK=false (the image's default), loopback is refused too
        let closed = api_with(crate::config::Config {
            admin_loopback: false,
            ..Default::default()
        });
        let r = from("127.0.0.1").reply(&closed).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        assert!(
            json(r.body())["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("ADMIN_LOOPBACK=false")
        );
    }

    #[tokio::test]
    async fn errors_are_json_with_the_right_status() {
        let cases = [
            (
                "GET",
                "/missing",
                "",
                "application/json",
                StatusCode::NOT_FOUND,
            ),
            (
                "PUT",
                "/predict",
                "",
                "application/json",
                StatusCode::METHOD_NOT_ALLOWED,
            ),
            (
                "POST",
                "/",
                "",
                "application/json",
                StatusCode::METHOD_NOT_ALLOWED,
            ),
            (
                "POST",
                "/predict",
                "{}",
                "text/plain",
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ),
            (
                "POST",
                "/predict",
                "{",
                "application/json",
                StatusCode::BAD_REQUEST,
            ),
            (
                "POST",
                "/predict",
                r#"{"inputs": []}"#,
                "application/json",
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            (
                "POST",
                "/predict",
                r#"{"inputs": [{}, {}, {}]}"#,
                "application/json",
                StatusCode::PAYLOAD_TOO_LARGE,
            ),
        ];
        for (method, path, body, content_type, status) in cases {
            let r = warp::test::request()
                .method(method)
                .path(path)
                .header("content-type", content_type)
                .body(body)
                .reply(&api())
                .await;
            assert_eq!(r.status(), status, "{method} {path} {body}");
            assert!(json(r.body())["errors"][0]["message"].is_string());
        }
        let r = warp::test::request()
            .method("POST")
            .path("/predict")
            .header("content-type", "application/json")
            .body("x".repeat(5000))
            .reply(&api())
            .await;
        assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    }
}
