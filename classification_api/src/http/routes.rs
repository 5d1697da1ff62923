//! Routing: which request goes to which handler, with authentication, CORS,
//! JSON errors, and one access-log line and metrics per request.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;

use warp::filters::BoxedFilter;
use warp::http::Method;
use warp::reply::Response;
use warp::{Filter, Reply};

use crate::http::errors::{ApiError, ErrorItem};
use crate::http::paths::{ROUTES, route_index};
use crate::http::state::AppState;
use crate::http::{admin, auth, handlers, openapi, web};
use crate::v2;

/// Every route, with CORS (if configured), errors turned into JSON, and
/// every request logged and counted.
pub fn routes(state: Arc<AppState>) -> BoxedFilter<(Response,)> {
    // fixed for the life of the process (DEFAULT_MODEL_VERSION)
    let version: Arc<str> = state.models.current().default_model().version().into();
    let predict = warp::path!("predict")
        .and(warp::post())
        .and(
            auth::bearer(state.api_key.clone())
                // a refused key, in `/predict`'s response shape
                .or_else(move |r: warp::Rejection| {
                    let version = version.clone();
                    async move {
                        match r.find::<ApiError>() {
                            Some(e) => Err(warp::reject::custom(e.clone().in_prediction(&version))),
                            None => Err(r),
                        }
                    }
                }),
        )
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
        .and(warp::query::<HashMap<String, String>>())
        .and(with_state(state.clone()))
        .map(handlers::model_info);
    let metrics = warp::path!("metrics")
        .and(warp::get())
        .and(with_state(state.clone()))
        .map(handlers::metrics);
    let index = warp::path::end().and(warp::get()).map(web::index);
    let asset = warp::path!("app" / String)
        .and(warp::get())
        .map(|file: String| answer(web::asset(&file)));
    let report = warp::path!("reports" / String)
        .and(warp::get())
        .map(|file: String| answer(web::report(&file)));
    let spec = warp::path!("openapi.json")
        .and(warp::get())
        .and(with_state(state.clone()))
        .map(openapi::openapi_json);
    let docs = warp::path!("docs")
        .and(warp::get())
        .and(with_state(state.clone()))
        .map(openapi::docs);
    // the Open Inference Protocol (V2)
    let v2_key = auth::bearer(state.api_key.clone())
        // a refused key, in the protocol's error shape
        .or_else(|r: warp::Rejection| async move {
            match r.find::<ApiError>() {
                Some(e) => Err(warp::reject::custom(e.clone().in_protocol())),
                None => Err(r),
            }
        });
    let infer = warp::path!("v2" / "models" / String / "infer")
        .and(warp::post())
        .and(v2_key.clone())
        .and(warp::any().map(|| None))
        .and(warp::header::headers_cloned())
        .and(warp::body::stream())
        .and(with_state(state.clone()))
        .then(v2::infer);
    let infer_version = warp::path!("v2" / "models" / String / "versions" / String / "infer")
        .and(warp::post())
        .and(v2_key)
        .and(warp::header::headers_cloned())
        .and(warp::body::stream())
        .and(with_state(state.clone()))
        .then(v2::infer_version);
    let v2_server = warp::path!("v2").and(warp::get()).map(v2::server_metadata);
    let v2_live = warp::path!("v2" / "health" / "live")
        .and(warp::get())
        .map(v2::live);
    let v2_ready = warp::path!("v2" / "health" / "ready")
        .and(warp::get())
        .and(with_state(state.clone()))
        .map(v2::ready);
    let v2_model = warp::path!("v2" / "models" / String)
        .and(warp::get())
        .and(warp::any().map(|| None))
        .and(with_state(state.clone()))
        .map(v2::model_metadata);
    let v2_version = warp::path!("v2" / "models" / String / "versions" / String)
        .and(warp::get())
        .and(with_state(state.clone()))
        .map(v2::version_metadata);
    let v2_model_ready = warp::path!("v2" / "models" / String / "ready")
        .and(warp::get())
        .and(warp::any().map(|| None))
        .and(with_state(state.clone()))
        .map(v2::model_ready);
    let v2_version_ready = warp::path!("v2" / "models" / String / "versions" / String / "ready")
        .and(warp::get())
        .and(with_state(state.clone()))
        .map(v2::version_ready);
    let guard = auth::admin(state.admin_key.clone());
    let admin_reload = warp::path!("admin" / "reload")
        .and(warp::post())
        .and(guard.clone())
        .and(with_state(state.clone()))
        .then(admin::admin_reload);
    let history = warp::path!("history")
        .and(warp::get())
        .and(guard.clone())
        .and(warp::query::<HashMap<String, String>>())
        .and(warp::header::headers_cloned())
        .and(with_state(state.clone()))
        .then(admin::list)
        .map(answer);
    let item = warp::path!("history" / String)
        .and(warp::get())
        .and(guard.clone())
        .and(with_state(state.clone()))
        .then(admin::item)
        .map(answer);
    let feedback = warp::path!("feedback")
        .and(warp::post())
        .and(guard.clone())
        .and(warp::header::headers_cloned())
        .and(warp::body::stream())
        .and(with_state(state.clone()))
        .then(admin::feedback)
        .map(answer);
    let monitoring = warp::path!("monitoring")
        .and(warp::get())
        .and(guard)
        .and(warp::query::<HashMap<String, String>>())
        .and(with_state(state.clone()))
        .then(admin::monitoring)
        .map(answer);
    // a known path with a method it does not serve: 405 with the allowed one
    let wrong_method = warp::path::full().and(warp::method()).and_then(
        |path: warp::path::FullPath, method: Method| async move {
            match route_index(path.as_str()).map(|i| &ROUTES[i].method) {
                Some(allowed) if *allowed != method => Err(warp::reject::custom(
                    ApiError::MethodNotAllowed(allowed.as_str()),
                )),
                _ => Err::<Response, _>(warp::reject::not_found()),
            }
        },
    );
    // groups are boxed: one long chain of `or`s makes a type that takes
    // rustc minutes to compile
    let v2_routes = infer_version
        .or(v2_server)
        .unify()
        .or(v2_live)
        .unify()
        .or(v2_ready)
        .unify()
        .or(v2_model)
        .unify()
        .or(v2_version)
        .unify()
        .or(v2_model_ready)
        .unify()
        .or(v2_version_ready)
        .unify()
        .boxed();
    let admin_routes = history
        .or(item)
        .unify()
        .or(feedback)
        .unify()
        .or(monitoring)
        .unify()
        .or(admin_reload)
        .unify()
        .boxed();
    let operations = health
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
        .or(asset)
        .unify()
        .or(report)
        .unify()
        .or(spec)
        .unify()
        .or(docs)
        .unify()
        .boxed();
    // the hot routes first
    let api = predict
        .or(infer)
        .unify()
        .or(operations)
        .unify()
        .or(v2_routes)
        .unify()
        .or(admin_routes)
        .unify()
        .or(wrong_method)
        .unify();
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

/// Every response carries an `X-Request-Id`: `/predict` sets the one it
/// stored; others echo the client's (if valid) or a new one.
fn echo_request_id(given: Option<warp::http::HeaderValue>, mut response: Response) -> Response {
    if !response.headers().contains_key("x-request-id") {
        let value = given
            .filter(|v| crate::http::input::request_id(Some(v)).is_some())
            .or_else(|| warp::http::HeaderValue::from_str(&crate::http::input::new_id()).ok());
        if let Some(value) = value {
            response.headers_mut().insert("x-request-id", value);
        }
    }
    response
}

fn answer(result: Result<Response, ApiError>) -> Response {
    result.unwrap_or_else(Reply::into_response)
}

fn with_state(
    state: Arc<AppState>,
) -> impl Filter<Extract = (Arc<AppState>,), Error = Infallible> + Clone {
    warp::any().map(move || state.clone())
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
    );
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use classification_model::Model;
    use warp::http::StatusCode;

    use super::*;

    fn api() -> BoxedFilter<(Response,)> {
        let config = crate::config::Config {
            max_body_bytes: 4096,
            max_batch: 2,
            request_timeout: Duration::from_secs(5),
            ..Default::default()
        };
        let (models, _) = crate::serving::models::Registry::open(
            crate::serving::models::Loaded::embedded().unwrap(),
            None,
            None,
            None,
        )
        .unwrap();
        routes(Arc::new(AppState::new(models, &config)))
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
        for route in &ROUTES {
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
            let expected = if crate::http::paths::ADMIN_PREFIXES
                .iter()
                .any(|p| route.path.starts_with(p))
            {
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
