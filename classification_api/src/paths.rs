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

/// Every route.
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

/// The index in [`ROUTES`] of the route a request path names; one trailing
/// slash is allowed, as in warp's own path matching.
pub fn route_index(path: &str) -> Option<usize> {
    let path = match path.strip_suffix('/') {
        Some(trimmed) if !trimmed.is_empty() && !trimmed.ends_with('/') => trimmed,
        _ => path,
    };
    ROUTES.iter().position(|r| r.path == path)
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
        for unknown in ["//", "/health//", "//health", "/nope", "/predict/x", ""] {
            assert_eq!(index(unknown), None, "{unknown}");
        }
    }
}
