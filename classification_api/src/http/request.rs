//! What every handler is given ([`Request`]) and returns ([`Reply`]), and
//! who may call an endpoint ([`Access`]).

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::Stream;
use warp::http::HeaderMap;
use warp::reply::Response;

use crate::http::state::AppState;

/// A request body, as its chunks arrive.
pub type Body = Pin<Box<dyn Stream<Item = Result<Bytes, warp::Error>> + Send>>;

/// What a handler is given.
pub struct Request {
    /// The service's state.
    pub state: Arc<AppState>,
    /// The path's `{name}` segments, in order, as sent (not decoded).
    pub params: Vec<String>,
    /// The query string, without its `?`.
    pub query: Option<String>,
    /// The request's headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Body,
    /// The client's address, when the server knows it.
    pub peer: Option<SocketAddr>,
}

impl Request {
    /// Path segment number `i`'s text (empty past the last).
    pub fn param(&self, i: usize) -> &str {
        self.params.get(i).map_or("", String::as_str)
    }
}

/// What a handler returns.
pub type Reply = Pin<Box<dyn Future<Output = Response> + Send>>;

/// Who may call an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone.
    Open,
    /// With `API_KEY` set, its bearer token; errors in `/predict`'s shape.
    Predict,
    /// As [`Access::Predict`], with errors in the inference protocol's shape.
    Protocol,
    /// The admin key, or (without one) a local client; absent with
    /// `HISTORY=off` unless `always` (the reload, which has no history).
    Admin {
        /// Served with `HISTORY=off` too.
        always: bool,
    },
}
