//! Routing: which request goes to which handler.

use std::convert::Infallible;
use std::sync::Arc;

use warp::http::Method;
use warp::{Filter, Reply};

use crate::handlers::{self, AppState};

/// Every route, with errors turned into JSON and every request logged.
pub fn routes(
    state: Arc<AppState>,
) -> impl Filter<Extract = (impl Reply,), Error = Infallible> + Clone {
    let health = warp::path!("health")
        .and(warp::get())
        .and(with_state(state.clone()))
        .map(handlers::health);
    let index = warp::path::end().and(warp::get()).map(handlers::index);
    let predict = warp::path!("predict")
        .and(warp::post())
        .and(warp::header::headers_cloned())
        .and(warp::body::stream())
        .and(with_state(state))
        .then(handlers::predict);
    // a known path with a method it does not serve: 405 with the allowed one
    let wrong_method = warp::path!("health")
        .map(|| Method::GET)
        .or(warp::path::end().map(|| Method::GET))
        .unify()
        .or(warp::path!("predict").map(|| Method::POST))
        .unify()
        .and(warp::method())
        .and_then(|allowed: Method, method: Method| async move {
            if method == allowed {
                Err(warp::reject::not_found())
            } else {
                Ok(handlers::method_not_allowed(allowed.as_str()))
            }
        });
    health
        .or(index)
        .or(predict)
        .or(wrong_method)
        .recover(handlers::rejection)
        .with(warp::log::custom(handlers::log_request))
}

fn with_state(
    state: Arc<AppState>,
) -> impl Filter<Extract = (Arc<AppState>,), Error = Infallible> + Clone {
    warp::any().map(move || state.clone())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use classification_model::Model;
    use warp::http::StatusCode;

    use super::*;

    fn api() -> impl Filter<Extract = (impl Reply,), Error = Infallible> + Clone {
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
