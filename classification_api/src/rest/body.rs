//! Reading a request body within its limits: `MAX_BODY_BYTES` and
//! `REQUEST_TIMEOUT_SECS`.

use bytes::{Buf, Bytes, BytesMut};
use futures_util::{FutureExt, Stream, StreamExt};
use warp::http::{HeaderMap, header};

use crate::serving::errors::{ErrorItem, RequestError};
use crate::serving::state::BodyLimits;

/// How far past the limit an oversized body is read (and dropped) before its
/// 413, so that clients that write their whole body before reading see the
/// answer instead of a reset connection.
pub const DRAIN_FACTOR: u64 = 8;

/// Reads the body within `limits`. An oversized body is read on and dropped
/// up to [`DRAIN_FACTOR`] times the limit before its 413, unless the client
/// waits for `100 Continue` or declared a length beyond that.
pub async fn read_body(
    headers: &HeaderMap,
    body: impl Stream<Item = Result<impl Buf, warp::Error>> + Unpin,
    limits: BodyLimits,
) -> Result<Bytes, RequestError> {
    let mut span = crate::telemetry::traces::Child::start("read body");
    let bytes = read_within(headers, body, limits).await;
    if let Ok(bytes) = &bytes {
        span.set("bytes", bytes.len() as i64);
    }
    bytes
}

async fn read_within(
    headers: &HeaderMap,
    mut body: impl Stream<Item = Result<impl Buf, warp::Error>> + Unpin,
    limits: BodyLimits,
) -> Result<Bytes, RequestError> {
    let limit = limits.max_bytes;
    let too_large = || {
        RequestError::TooLarge(ErrorItem::field(
            "body",
            format!("the body is larger than the {limit} bytes allowed: split the batch"),
        ))
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let drain_bound = (limit as u64).saturating_mul(DRAIN_FACTOR);
    if declared.is_some_and(|n| n > limit as u64) {
        let waits = headers
            .get(header::EXPECT)
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
        if waits || declared.is_some_and(|n| n > drain_bound) {
            return Err(too_large());
        }
    }
    let mut buf =
        BytesMut::with_capacity(declared.map_or(8 * 1024, |n| n.min(limit as u64) as usize));
    let mut seen: u64 = 0;
    // What has already arrived is taken without arming a timer: a small
    // request usually comes whole with its headers.
    loop {
        match body.next().now_or_never() {
            Some(Some(chunk)) => take(chunk, &mut buf, &mut seen, limit)?,
            Some(None) => return finish(buf, seen, limit, too_large),
            None => break,
        }
    }
    let read = async {
        while let Some(chunk) = body.next().await {
            take(chunk, &mut buf, &mut seen, limit)?;
            if seen > drain_bound {
                break;
            }
        }
        Ok(())
    };
    match tokio::time::timeout(limits.timeout, read).await {
        Ok(Ok(())) => finish(buf, seen, limit, too_large),
        Ok(Err(e)) => Err(e),
        // an oversized body that is still coming: its 413 now
        Err(_) if seen > limit as u64 => Err(too_large()),
        Err(_) => Err(RequestError::Timeout(ErrorItem::field(
            "body",
            format!(
                "the body took longer than {} s to arrive",
                limits.timeout.as_secs()
            ),
        ))),
    }
}

/// Keeps one chunk while within `limit`; past it only counts.
fn take(
    chunk: Result<impl Buf, warp::Error>,
    buf: &mut BytesMut,
    seen: &mut u64,
    limit: usize,
) -> Result<(), RequestError> {
    let mut chunk = chunk.map_err(|e| {
        RequestError::BadRequest(vec![ErrorItem::field(
            "body",
            format!("cannot read the body: {e}"),
        )])
    })?;
    let n = chunk.remaining();
    *seen += n as u64;
    if *seen <= limit as u64 {
        while chunk.has_remaining() {
            let part = chunk.chunk();
            let len = part.len();
            buf.extend_from_slice(part);
            chunk.advance(len);
        }
    } else {
        chunk.advance(n);
    }
    Ok(())
}

fn finish(
    buf: BytesMut,
    seen: u64,
    limit: usize,
    too_large: impl Fn() -> RequestError,
) -> Result<Bytes, RequestError> {
    if seen > limit as u64 {
        Err(too_large())
    } else {
        Ok(buf.freeze())
    }
}
