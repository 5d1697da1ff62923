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
    /// Its OpenAPI operation.
    operation: fn() -> Operation,
    /// Its OpenAPI tags (the `tag` of its `#[utoipa::path]`).
    tags: Vec<&'static str>,
}

impl Endpoint {
    /// The endpoint `P` (a `#[utoipa::path]`) declares, answered by
    /// `handler` for callers `access` admits.
    pub fn new<P>(access: Access, handler: fn(Request) -> Reply) -> Endpoint
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
                (e.path, method, e.operation())
            })
            .collect()
    }
}
