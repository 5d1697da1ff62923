//! What every handler is given ([`Request`]) and returns ([`Reply`]), and
//! who may call an endpoint ([`Access`]).

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::Stream;
use serde::de::DeserializeOwned;
use warp::http::HeaderMap;
use warp::reply::Response;

use crate::rest::spec::Spec;
use crate::serving::errors::{ErrorItem, RequestError};
use crate::serving::state::AppState;

/// A request body, as its chunks arrive.
pub type Body = Pin<Box<dyn Stream<Item = Result<Bytes, warp::Error>> + Send>>;

/// What a handler is given.
pub struct Request {
    /// The service's state.
    pub state: Arc<AppState>,
    /// The OpenAPI description of the endpoints served.
    pub spec: &'static Spec,
    /// The path's `{name}` segments, in order, each with its name, as sent
    /// (not decoded).
    pub params: Vec<(&'static str, String)>,
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
    /// The path's segments read into `T`, the endpoint's declared path
    /// type (its fields named as the path's `{name}` segments).
    pub fn path<T: DeserializeOwned>(&self) -> Result<T, RequestError> {
        let segments: serde_json::Map<String, serde_json::Value> = self
            .params
            .iter()
            .map(|(name, value)| ((*name).to_owned(), value.as_str().into()))
            .collect();
        serde_json::from_value(segments.into())
            .map_err(|e| RequestError::BadRequest(vec![ErrorItem::field("path", e.to_string())]))
    }

    /// The request's id: its valid `X-Request-Id`, or a new one.
    pub fn request_id(&self) -> String {
        request_id(&self.headers)
    }
}

/// The request's id: its valid `X-Request-Id`, or a new one.
pub fn request_id(headers: &HeaderMap) -> String {
    crate::serving::ids::request_id_or_new(
        headers.get("x-request-id").and_then(|v| v.to_str().ok()),
    )
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
