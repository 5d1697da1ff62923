//! The endpoints, each declared once: its handler's `#[utoipa::path]` gives
//! its method, path and documentation, and one line of [`ENDPOINTS`] adds
//! who may call it. The router, the 405 answers, the metrics' route labels
//! and the OpenAPI description (served here) all derive from this table.

use std::future::Future;
use std::sync::{LazyLock, OnceLock};

use utoipa::openapi::path::{HttpMethod, Operation};
use warp::http::Method;
use warp::reply::Response;

pub use crate::http::request::{Access, Reply, Request};
use crate::http::{admin, handlers, openapi, output, web};
use crate::v2;

/// One endpoint.
pub struct Endpoint {
    /// The method it answers.
    pub method: Method,
    /// The path, `{name}` segments matching any one segment.
    pub path: &'static str,
    /// Its trace span's name: the method and the path.
    pub span_name: &'static str,
    /// Who may call it.
    pub access: Access,
    /// What answers it.
    pub handler: fn(Request) -> Reply,
    /// Its OpenAPI operation.
    operation: fn() -> Operation,
    /// Its OpenAPI tags (the `tag` of its `#[utoipa::path]`).
    tags: Vec<&'static str>,
}

impl Endpoint {
    fn new<P>(access: Access, handler: fn(Request) -> Reply) -> Endpoint
    where
        // the tags are read as utoipa's `OpenApi` derive reads them
        P: utoipa::Path + utoipa::__dev::Tags<'static>,
    {
        let method = match P::methods().as_slice() {
            [HttpMethod::Get] => Method::GET,
            [HttpMethod::Post] => Method::POST,
            other => panic!(
                "{}: one GET or POST, not {} methods",
                P::path(),
                other.len()
            ),
        };
        // leaked once per endpoint, at start: labels, routes and spans borrow them
        let path: &'static str = P::path().leak();
        Endpoint {
            span_name: format!("{method} {path}").leak(),
            method,
            path,
            access,
            handler,
            operation: P::operation,
            tags: P::tags(),
        }
    }

    /// Its OpenAPI operation, with its tags.
    pub fn operation(&self) -> Operation {
        let mut operation = (self.operation)();
        let tags = operation.tags.get_or_insert_with(Vec::new);
        for tag in &self.tags {
            if !tags.iter().any(|t| t == tag) {
                tags.push((*tag).to_owned());
            }
        }
        operation
    }

    /// Whether it is served with `HISTORY=off`.
    pub fn needs_history(&self) -> bool {
        matches!(self.access, Access::Admin { always: false })
    }

    /// Whether `path` is this endpoint's path (no allocation: every request
    /// tries the endpoints in turn).
    pub fn matches(&self, path: &str) -> bool {
        let mut pattern = self.path.split('/');
        let mut given = trimmed(path).split('/');
        loop {
            match (pattern.next(), given.next()) {
                (None, None) => return true,
                (Some(p), Some(g)) if p.starts_with('{') && !g.is_empty() => {}
                (Some(p), Some(g)) if p == g => {}
                _ => return false,
            }
        }
    }

    /// The `{name}` segments of `path`, which [`matches`](Self::matches).
    pub fn params(&self, path: &str) -> Vec<String> {
        self.path
            .split('/')
            .zip(trimmed(path).split('/'))
            .filter(|(p, _)| p.starts_with('{'))
            .map(|(_, g)| g.to_owned())
            .collect()
    }
}

/// `path` without one trailing slash, as warp's own path matching allows.
fn trimmed(path: &str) -> &str {
    match path.strip_suffix('/') {
        Some(t) if !t.is_empty() && !t.ends_with('/') => t,
        _ => path,
    }
}

/// Boxes a handler's future.
fn boxed<F: Future<Output = Response> + Send + 'static>(f: F) -> Reply {
    Box::pin(f)
}

/// Every endpoint, the hot ones first.
pub static ENDPOINTS: LazyLock<Vec<Endpoint>> = LazyLock::new(|| {
    use Access::*;
    use handlers::*;
    let admin = Admin { always: false };
    vec![
        Endpoint::new::<__path_predict>(Predict, |r| boxed(predict(r))),
        Endpoint::new::<v2::__path_infer>(Protocol, |r| boxed(v2::infer(r))),
        Endpoint::new::<v2::__path_infer_version>(Protocol, |r| boxed(v2::infer_version(r))),
        Endpoint::new::<__path_health>(Open, |r| boxed(health(r))),
        Endpoint::new::<__path_live>(Open, |r| boxed(live(r))),
        Endpoint::new::<__path_ready>(Open, |r| boxed(ready(r))),
        Endpoint::new::<__path_model_info>(Open, |r| boxed(model_info(r))),
        Endpoint::new::<__path_metrics>(Open, |r| boxed(metrics(r))),
        Endpoint::new::<web::__path_index>(Open, |r| boxed(web::index(r))),
        Endpoint::new::<web::__path_asset>(Open, |r| boxed(web::asset(r))),
        Endpoint::new::<web::__path_report>(Open, |r| boxed(web::report(r))),
        Endpoint::new::<__path_openapi_json>(Open, |r| boxed(openapi_json(r))),
        Endpoint::new::<__path_docs>(Open, |r| boxed(docs(r))),
        Endpoint::new::<admin::__path_list>(admin, |r| boxed(admin::list(r))),
        Endpoint::new::<admin::__path_item>(admin, |r| boxed(admin::item(r))),
        Endpoint::new::<admin::__path_feedback>(admin, |r| boxed(admin::feedback(r))),
        Endpoint::new::<admin::__path_monitoring>(admin, |r| boxed(admin::monitoring(r))),
        Endpoint::new::<admin::__path_admin_reload>(Admin { always: true }, |r| {
            boxed(admin::admin_reload(r))
        }),
        Endpoint::new::<v2::__path_server_metadata>(Open, |r| boxed(v2::server_metadata(r))),
        Endpoint::new::<v2::__path_live>(Open, |r| boxed(v2::live(r))),
        Endpoint::new::<v2::__path_ready>(Open, |r| boxed(v2::ready(r))),
        Endpoint::new::<v2::__path_model_metadata>(Open, |r| boxed(v2::model_metadata(r))),
        Endpoint::new::<v2::__path_model_ready>(Open, |r| boxed(v2::model_ready(r))),
        Endpoint::new::<v2::__path_version_metadata>(Open, |r| boxed(v2::version_metadata(r))),
        Endpoint::new::<v2::__path_version_ready>(Open, |r| boxed(v2::version_ready(r))),
    ]
});

/// The OpenAPI description as JSON (built once per variant): with the
/// history endpoints, or without them for `HISTORY=off`.
pub fn spec_json(history: bool) -> &'static str {
    static WITH: OnceLock<String> = OnceLock::new();
    static WITHOUT: OnceLock<String> = OnceLock::new();
    (if history { &WITH } else { &WITHOUT }).get_or_init(|| {
        openapi::document(
            ENDPOINTS
                .iter()
                .filter(|e| history || !e.needs_history())
                .map(|e| {
                    let method = if e.method == Method::POST {
                        HttpMethod::Post
                    } else {
                        HttpMethod::Get
                    };
                    (e.path, method, e.operation())
                }),
        )
    })
}

/// The Swagger UI page (built once per variant).
pub fn docs_html(history: bool) -> &'static str {
    static WITH: OnceLock<String> = OnceLock::new();
    static WITHOUT: OnceLock<String> = OnceLock::new();
    (if history { &WITH } else { &WITHOUT }).get_or_init(|| openapi::docs_page(spec_json(history)))
}

/// `GET /openapi.json`: the OpenAPI 3.1 description.
#[utoipa::path(get, path = "/openapi.json", tag = "operations",
    responses((status = 200, description = "OpenAPI 3.1", content_type = "application/json", body = Object)))]
pub async fn openapi_json(r: Request) -> Response {
    output::typed(
        Response::new(spec_json(r.state.history.is_some()).into()),
        "application/json",
    )
}

/// `GET /docs`: Swagger UI.
#[utoipa::path(get, path = "/docs", tag = "operations",
    responses((status = 200, description = "Swagger UI", content_type = "text/html", body = String)))]
pub async fn docs(r: Request) -> Response {
    warp::Reply::into_response(warp::reply::html(docs_html(r.state.history.is_some())))
}

/// The index in [`ENDPOINTS`] of the endpoint whose path `path` is.
pub fn route_index(path: &str) -> Option<usize> {
    ENDPOINTS.iter().position(|e| e.matches(path))
}

/// Each endpoint's path pattern and method, as the metrics label them.
pub fn labels() -> Vec<crate::telemetry::metrics::Route> {
    ENDPOINTS
        .iter()
        .map(|e| (e.path, e.method.as_str()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_unique_and_match_with_one_trailing_slash() {
        let mut paths: Vec<&str> = ENDPOINTS.iter().map(|e| e.path).collect();
        paths.sort_unstable();
        paths.dedup();
        assert_eq!(paths.len(), ENDPOINTS.len());
        let index = |p| route_index(p).map(|i| ENDPOINTS[i].path);
        assert_eq!(index("/"), Some("/"));
        assert_eq!(index("/health"), Some("/health"));
        assert_eq!(index("/health/"), Some("/health"));
        assert_eq!(index("/health/live/"), Some("/health/live"));
        assert_eq!(index("/history/abc"), Some("/history/{id}"));
        assert_eq!(index("/history"), Some("/history"));
        for unknown in [
            "//",
            "/health//",
            "//health",
            "/nope",
            "/predict/x",
            "",
            "/history/a/b",
        ] {
            assert_eq!(index(unknown), None, "{unknown}");
        }
        let e = &ENDPOINTS[route_index("/v2/models/m/versions/1.0.0/ready").unwrap()];
        assert_eq!(
            e.params("/v2/models/m/versions/1.0.0/ready/"),
            ["m".to_owned(), "1.0.0".to_owned()]
        );
    }
}
