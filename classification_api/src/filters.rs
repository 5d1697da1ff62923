//! Routing: which request goes to which handler.

use std::collections::HashMap;
use std::sync::Arc;

use warp::filters::BoxedFilter;
use warp::http::Method;
use warp::reply::Response;
use warp::{Filter, Reply};

use crate::handlers::{self, AppState};

/// A route the service serves, with the one method it answers there.
#[derive(Debug, Clone)]
pub struct Route {
    /// The path, e.g. `/predict`.
    pub path: &'static str,
    /// The method it answers.
    pub method: Method,
}

/// Every route: the one table behind the 405 answers (which method a known
/// path takes) and the metrics' route labels.
pub static ROUTES: [Route; 9] = [
    get("/"),
    get("/health"),
    get("/health/live"),
    get("/health/ready"),
    get("/model"),
    get("/metrics"),
    Route {
        path: "/predict",
        method: Method::POST,
    },
    get("/openapi.json"),
    get("/docs"),
];

const fn get(path: &'static str) -> Route {
    Route {
        path,
        method: Method::GET,
    }
}

/// The index in [`ROUTES`] of the route a request path names; one trailing
/// slash is allowed, as in warp's own path matching.
pub fn route_index(path: &str) -> Option<usize> {
    let path = match path.strip_suffix('/') {
        Some(trimmed) if !trimmed.is_empty() && !trimmed.ends_with('/') => trimmed,
        _ => path,
    };
    ROUTES.iter().position(|r| r.path == path)
}

/// Every route, with CORS (if configured), errors turned into JSON, and
/// every request logged and counted.
pub fn routes(state: Arc<AppState>) -> BoxedFilter<(Response,)> {
    let predict = warp::path!("predict")
        .and(warp::post())
        .and(warp::query::<HashMap<String, String>>())
        .and(warp::header::headers_cloned())
        .and(warp::body::stream())
        .and(with_state(state.clone()))
        .then(handlers::predict);
    let health = warp::path!("health")
        .and(warp::get())
        .and(with_state(state.clone()))
        .map(handlers::health);
    let live = warp::path!("health" / "live")
        .and(warp::get())
        .map(handlers::live);
    let ready = warp::path!("health" / "ready")
        .and(warp::get())
        .and(with_state(state.clone()))
        .map(handlers::ready);
    let model = warp::path!("model")
        .and(warp::get())
        .and(with_state(state.clone()))
        .map(handlers::model_info);
    let metrics = warp::path!("metrics")
        .and(warp::get())
        .and(with_state(state.clone()))
        .map(handlers::metrics);
    let index = warp::path::end().and(warp::get()).map(handlers::index);
    let openapi = warp::path!("openapi.json")
        .and(warp::get())
        .map(handlers::openapi_json);
    let docs = warp::path!("docs").and(warp::get()).map(handlers::docs);
    // a known path with a method it does not serve: 405 with the allowed one
    let wrong_method = warp::path::full().and(warp::method()).and_then(
        |path: warp::path::FullPath, method: Method| async move {
            match route_index(path.as_str()).map(|i| &ROUTES[i].method) {
                Some(allowed) if *allowed != method => {
                    Ok(handlers::method_not_allowed(allowed.as_str()))
                }
                _ => Err(warp::reject::not_found()),
            }
        },
    );
    // the hot routes first
    let api = predict
        .or(health)
        .unify()
        .or(live)
        .unify()
        .or(ready)
        .unify()
        .or(model)
        .unify()
        .or(metrics)
        .unify()
        .or(index)
        .unify()
        .or(openapi)
        .unify()
        .or(docs)
        .unify()
        .or(wrong_method)
        .unify();
    let log_state = state.clone();
    let log = warp::log::custom(move |info| handlers::log_request(&log_state, info));
    match &state.cors_origins {
        None => api
            .recover(handlers::rejection)
            .unify()
            .with(log)
            .map(Reply::into_response)
            .boxed(),
        Some(origins) => {
            let cors = warp::cors()
                .allow_methods([Method::GET, Method::POST])
                .allow_headers(["content-type", "authorization", "accept"])
                .max_age(3600);
            let cors = if origins.iter().any(|o| o == "*") {
                cors.allow_any_origin()
            } else {
                cors.allow_origins(origins.iter().map(String::as_str))
            };
            api.with(cors)
                .map(Reply::into_response)
                .recover(handlers::rejection)
                .unify()
                .with(log)
                .map(Reply::into_response)
                .boxed()
        }
    }
}

fn with_state(
    state: Arc<AppState>,
) -> impl Filter<Extract = (Arc<AppState>,), Error = std::convert::Infallible> + Clone {
    warp::any().map(move || state.clone())
}
#[cfg(test)]
mod tests {
    use std::time::Duration;

    use classification_model::Model;
    use warp::http::StatusCode;

    use super::*;

    #[test]
    fn route_index_allows_one_trailing_slash() {
        let index = |p| route_index(p).map(|i| ROUTES[i].path);
        assert_eq!(index("/"), Some("/"));
        assert_eq!(index("/health"), Some("/health"));
        assert_eq!(index("/health/"), Some("/health"));
        assert_eq!(index("/health/live/"), Some("/health/live"));
        for unknown in ["//", "/health//", "//health", "/nope", "/predict/x", ""] {
            assert_eq!(index(unknown), None, "{unknown}");
        }
    }

    fn api() -> BoxedFilter<(Response,)> {
        let config = crate::config::Config {
            max_body_bytes: 4096,
            max_batch: 2,
            request_timeout: Duration::from_secs(5),
            ..Default::default()
        };
        routes(Arc::new(AppState::new(Model::embedded().unwrap(), &config)))
    }

    fn json(body: &[u8]) -> serde_json::Value {
        serde_json::from_slice(body).unwrap()
    }

    #[tokio::test]
    async fn health() {
        let r = warp::test::request().path("/health").reply(&api()).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(
            json(r.body())["model_version"],
            classification_model::model_version()
        );
    }

    #[tokio::test]
    async fn predict_routes_to_the_model() {
        let r = warp::test::request()
            .method("POST")
            .path("/predict")
            .header("content-type", "application/json")
            .body(r#"{"inputs": [{"pclass": 3, "sex": "male", "sibsp": 0, "parch": 0}]}"#)
            .reply(&api())
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(json(r.body())["predictions"], serde_json::json!([0]));
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
        let big = "x".repeat(5000);
        let r = warp::test::request()
            .method("POST")
            .path("/predict")
            .header("content-type", "application/json")
            .body(big)
            .reply(&api())
            .await;
        assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    }
}
