//! An endpoint, declared once: its handler's `#[utoipa::path]` gives its
//! method, path and documentation, and one line of its adapter's table adds
//! who may call it. A [`Table`] of every adapter's endpoints gives the
//! router, the 405 answers, the metrics' route labels and the OpenAPI
//! description.

use std::future::Future;

use utoipa::openapi::path::{HttpMethod, Operation};
use warp::http::Method;
use warp::reply::Response;

use crate::rest::request::{Access, Reply, Request};
use crate::rest::spec::Spec;

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
    /// Its OpenAPI operation, with its tags.
    pub operation: Operation,
}

impl Endpoint {
    /// The endpoint that `doc` (an adapter's derived description of its
    /// handlers' `#[utoipa::path]`s) gives the operation `operation_id` (its
    /// handler's name), answered by `handler` for callers `access` admits.
    /// Panics, at start, for an operation `doc` lacks or one that is not
    /// one GET or POST: the table is the code's, not input.
    pub fn described(
        doc: &utoipa::openapi::OpenApi,
        operation_id: &str,
        access: Access,
        handler: fn(Request) -> Reply,
    ) -> Endpoint {
        let is = |o: &Option<Operation>| {
            o.as_ref()
                .is_some_and(|o| o.operation_id.as_deref() == Some(operation_id))
        };
        let (path, item) = doc
            .paths
            .paths
            .iter()
            .find(|(_, item)| is(&item.get) || is(&item.post))
            .unwrap_or_else(|| panic!("{operation_id}: not among the described paths"));
        let (method, operation) = match (&item.get, &item.post) {
            (Some(op), None) => (Method::GET, op.clone()),
            (None, Some(op)) => (Method::POST, op.clone()),
            _ => panic!("{path}: one GET or POST"),
        };
        // leaked once per endpoint, at start: labels, routes and spans borrow them
        let path: &'static str = path.clone().leak();
        Endpoint {
            span_name: format!("{method} {path}").leak(),
            method,
            path,
            access,
            handler,
            operation,
        }
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

    /// The `{name}` segments of `path`, which [`matches`](Self::matches),
    /// each with its name.
    pub fn params(&self, path: &str) -> Vec<(&'static str, String)> {
        self.path
            .split('/')
            .zip(trimmed(path).split('/'))
            .filter_map(|(p, g)| {
                let name = p.strip_prefix('{')?.strip_suffix('}')?;
                Some((name, g.to_owned()))
            })
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

/// Declares an adapter's endpoints once: each handler (a function with a
/// `#[utoipa::path]`, in scope) with who may call it, the hot ones first.
/// Makes `$doc`, the handlers' OpenAPI paths as utoipa's derive describes
/// them (tags included), and `endpoints()`, the adapter's table.
macro_rules! endpoint_table {
    ($doc:ident { $($handler:ident: $access:expr),* $(,)? }) => {
        #[derive(utoipa::OpenApi)]
        #[openapi(paths($($handler),*))]
        struct $doc;

        /// This adapter's endpoints, the hot ones first.
        pub fn endpoints() -> Vec<$crate::rest::endpoint::Endpoint> {
            let doc = <$doc as utoipa::OpenApi>::openapi();
            vec![$(
                $crate::rest::endpoint::Endpoint::described(
                    &doc,
                    stringify!($handler),
                    $access,
                    |r| $crate::rest::endpoint::boxed($handler(r)),
                )
            ),*]
        }
    };
}

pub(crate) use endpoint_table;

/// Boxes a handler's future.
pub fn boxed<F: Future<Output = Response> + Send + 'static>(f: F) -> Reply {
    Box::pin(f)
}

/// Every endpoint the REST adapters serve, the hot ones first.
pub struct Table {
    /// The endpoints.
    pub endpoints: Vec<Endpoint>,
    /// Their OpenAPI description.
    pub spec: &'static Spec,
}

impl Table {
    /// The endpoint whose path `path` is, and its index.
    pub fn find(&self, path: &str) -> Option<(usize, &Endpoint)> {
        self.endpoints
            .iter()
            .enumerate()
            .find(|(_, e)| e.matches(path))
    }

    /// Each endpoint's path pattern and method, as the metrics label them.
    pub fn labels(&self) -> Vec<crate::telemetry::metrics::Route> {
        self.endpoints
            .iter()
            .map(|e| {
                (
                    e.path,
                    if e.method == Method::POST {
                        "POST"
                    } else {
                        "GET"
                    },
                )
            })
            .collect()
    }

    /// Each endpoint's path, method and OpenAPI operation: all of them, or
    /// those served with `HISTORY=off`.
    pub fn operations(&self, history: bool) -> Vec<(&'static str, HttpMethod, Operation)> {
        self.endpoints
            .iter()
            .filter(|e| history || !e.needs_history())
            .map(|e| {
                let method = if e.method == Method::POST {
                    HttpMethod::Post
                } else {
                    HttpMethod::Get
                };
                (e.path, method, e.operation.clone())
            })
            .collect()
    }
}
