//! The router over the assembled table: every route served, request ids,
//! the admin rule, and errors as JSON with the right status.

use std::sync::Arc;
use std::time::Duration;

use classification_api::rest::auth::Peer;
use classification_api::rest::routes::routes;
use classification_api::server::TABLE;
use classification_api::serving::state::AppState;
use classification_model::Model;
use warp::filters::BoxedFilter;
use warp::http::StatusCode;
use warp::reply::Response;

fn api() -> BoxedFilter<(Response,)> {
    api_with(classification_api::config::Config {
        max_body_bytes: 4096,
        max_batch: 2,
        request_timeout: Duration::from_secs(5),
        ..Default::default()
    })
}

fn api_with(config: classification_api::config::Config) -> BoxedFilter<(Response,)> {
    let (models, _) = classification_api::serving::models::Registry::open(
        classification_api::serving::models::Loaded::embedded().unwrap(),
        None,
        None,
        None,
    )
    .unwrap();
    routes(
        Arc::new(AppState::new(models, &config, &TABLE.labels())),
        &TABLE,
    )
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
    for route in TABLE.endpoints.iter() {
        let path = route
            .path
            .replace("{name}", model.name())
            .replace("{version}", model.version())
            .replace("/app/{file}", "/app/index.html")
            .replace(
                "/reports/{file}",
                &classification_api::serving::reports::report_path(model.name(), model.version())
                    .unwrap(),
            );
        let body = if path.starts_with("/v2/") {
            v2_body
        } else {
            r#"{"inputs": [{"pclass": 3, "sex": "male", "sibsp": 0, "parch": 0}]}"#
        };
        let r = warp::test::request()
            .method(route.method.as_str())
            .path(&path)
            .extension(Peer(([127, 0, 0, 1], 4000).into()))
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
        let peer = Peer(format!("{ip}:4000").parse().unwrap());
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
    let closed = api_with(classification_api::config::Config {
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
