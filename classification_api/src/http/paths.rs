//! The route table: every path the service serves and its one method. The
//! 405 answers, the metrics' route labels and the router's tests derive from it.

use warp::http::Method;

/// A route the service serves, with the one method it answers there.
#[derive(Debug, Clone)]
pub struct Route {
    /// The path, e.g. `/predict`.
    pub path: &'static str,
    /// The method it answers.
    pub method: Method,
}

const fn get(path: &'static str) -> Route {
    Route {
        path,
        method: Method::GET,
    }
}

const fn post(path: &'static str) -> Route {
    Route {
        path,
        method: Method::POST,
    }
}

/// Every route. A `{name}` segment matches any one segment.
pub static ROUTES: [Route; 25] = [
    get("/"),
    get("/app/{file}"),
    get("/reports/{file}"),
    get("/health"),
    get("/health/live"),
    get("/health/ready"),
    get("/model"),
    get("/metrics"),
    post("/predict"),
    get("/openapi.json"),
    get("/docs"),
    get("/history"),
    get("/history/{id}"),
    post("/feedback"),
    get("/monitoring"),
    post("/admin/reload"),
    get("/v2"),
    get("/v2/health/live"),
    get("/v2/health/ready"),
    get("/v2/models/{name}"),
    get("/v2/models/{name}/ready"),
    post("/v2/models/{name}/infer"),
    get("/v2/models/{name}/versions/{version}"),
    get("/v2/models/{name}/versions/{version}/ready"),
    post("/v2/models/{name}/versions/{version}/infer"),
];

/// Each route's path pattern and method, as the metrics label them.
pub fn labels() -> Vec<crate::telemetry::metrics::Route> {
    ROUTES.iter().map(|r| (r.path, r.method.as_str())).collect()
}

/// The admin routes: absent with `HISTORY=off`, guarded by `ADMIN_API_KEY`
/// or loopback.
pub const ADMIN_PREFIXES: [&str; 3] = ["/history", "/feedback", "/monitoring"];

/// The index in [`ROUTES`] of the route a request path names; one trailing
/// slash is allowed, as in warp's own path matching.
pub fn route_index(path: &str) -> Option<usize> {
    let path = match path.strip_suffix('/') {
        Some(trimmed) if !trimmed.is_empty() && !trimmed.ends_with('/') => trimmed,
        _ => path,
    };
    ROUTES.iter().position(|r| matches(r.path, path))
}

fn matches(pattern: &str, path: &str) -> bool {
    let mut p = pattern.split('/');
    let mut q = path.split('/');
    loop {
        match (p.next(), q.next()) {
            (None, None) => return true,
            (Some(a), Some(b)) if a.starts_with('{') && !b.is_empty() => {}
            (Some(a), Some(b)) if a == b => {}
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_index_allows_one_trailing_slash() {
        let index = |p| route_index(p).map(|i| ROUTES[i].path);
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
    }
}
