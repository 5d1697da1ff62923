//! Answers every REST adapter gives alike: JSON and typed bodies, the
//! request id header, the liveness and readiness answers, a scoring
//! request's answer, and bodies streamed rather than held.

use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use warp::Reply;
use warp::http::{HeaderValue, StatusCode, header};
use warp::reply::Response;

use crate::rest::errors::ApiError;
use crate::serving::scoring::count_failure;
use crate::serving::state::AppState;

/// `GET /health/live` and `GET /health/ready`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct StatusResponse {
    /// `alive`, `ready`, or `shutting down`.
    #[schema(example = "ready")]
    pub status: String,
}

/// The liveness answer.
pub fn alive() -> Response {
    status("alive", StatusCode::OK)
}

/// The readiness answer: 503 once shutdown has begun, or while the history
/// store is down.
pub fn readiness(state: &AppState) -> Response {
    match state.unready() {
        Some(why) => status(&why, StatusCode::SERVICE_UNAVAILABLE),
        None => status("ready", StatusCode::OK),
    }
}

fn status(status: &str, code: StatusCode) -> Response {
    json(
        &StatusResponse {
            status: status.into(),
        },
        code,
    )
}

/// A scoring request's answer, tagged with its request id: the response, or
/// the error (its invalid fields counted in the metrics) in the endpoint's
/// own error shape.
pub fn answer(
    state: &AppState,
    request_id: &str,
    result: Result<Response, ApiError>,
    shape: impl FnOnce(ApiError) -> Response,
) -> Response {
    let response = result.unwrap_or_else(|error| {
        if let ApiError::Request(e) = &error {
            count_failure(state, e);
        }
        shape(error)
    });
    tag_request(response, request_id)
}

/// The response, with its request's id in `X-Request-Id`.
pub fn tag_request(mut response: Response, request_id: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(request_id) {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}

/// `body` as JSON with `status`.
pub fn json<T: Serialize>(body: &T, status: StatusCode) -> Response {
    warp::reply::with_status(warp::reply::json(body), status).into_response()
}

/// `response` with a fixed content type.
pub fn typed(mut response: Response, content_type: &'static str) -> Response {
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// A body too large to hold, sent as its stream yields it. Warp's replies
/// hold whole bodies, so the stream rides in the response's extensions and
/// the server sends it ([`unstream`]).
#[derive(Clone)]
pub struct StreamedBody(Arc<Mutex<Option<BodyStream>>>);

type BodyStream = futures_util::stream::BoxStream<'static, Result<bytes::Bytes, std::io::Error>>;

/// A response whose body is `stream`.
pub fn streamed(
    stream: impl futures_util::Stream<Item = Result<bytes::Bytes, std::io::Error>> + Send + 'static,
    content_type: &'static str,
) -> Response {
    let mut response = Response::new(Default::default());
    response
        .extensions_mut()
        .insert(StreamedBody(Arc::new(Mutex::new(Some(Box::pin(stream))))));
    typed(response, content_type)
}

/// The body a response is sent with: its own, or its [`StreamedBody`].
pub type SentBody<B> = http_body_util::Either<
    B,
    http_body_util::StreamBody<
        futures_util::stream::Map<
            BodyStream,
            fn(
                Result<bytes::Bytes, std::io::Error>,
            ) -> Result<hyper::body::Frame<bytes::Bytes>, std::io::Error>,
        >,
    >,
>;

/// Swaps in a response's [`StreamedBody`], if it has one.
pub fn unstream<B>(mut response: warp::http::Response<B>) -> warp::http::Response<SentBody<B>> {
    use futures_util::StreamExt;
    let stream = response
        .extensions_mut()
        .remove::<StreamedBody>()
        .and_then(|s| s.0.lock().ok().and_then(|mut s| s.take()));
    match stream {
        None => response.map(http_body_util::Either::Left),
        Some(stream) => {
            let frame: fn(Result<bytes::Bytes, std::io::Error>) -> _ =
                |r| r.map(hyper::body::Frame::data);
            response.map(|_| {
                http_body_util::Either::Right(http_body_util::StreamBody::new(stream.map(frame)))
            })
        }
    }
}
