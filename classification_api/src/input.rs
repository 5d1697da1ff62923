//! What a request brings: its body (read within limits), its formats
//! (content negotiation), and the passengers parsed from it.

use std::collections::HashMap;

use bytes::{Buf, Bytes, BytesMut};
use classification_model::{Passenger, check_passenger, explain_json_record, read_passengers_csv};
use futures_util::{FutureExt, Stream, StreamExt};
use serde::Deserialize;
use serde_json::value::RawValue;
use warp::http::{HeaderMap, header};

use crate::errors::{ApiError, ErrorItem};
use crate::state::BodyLimits;

/// How far past the limit an oversized body is read (and dropped) before its
/// 413, so that clients that write their whole body before reading see the
/// answer instead of a reset connection.
pub const DRAIN_FACTOR: u64 = 8;

/// `POST /predict` body, as documented and as parsed on the fast path.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PredictBody {
    /// The passengers (at least one; at most `MAX_BATCH`, 10,000 by default).
    #[schema(min_items = 1)]
    pub inputs: Vec<Passenger>,
}

/// `POST /predict` body with its records kept as raw JSON, so that each can
/// be checked and reported on its own (the slow path, for errors).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBody<'a> {
    #[serde(borrow)]
    inputs: Vec<&'a RawValue>,
}

/// The body formats `/predict` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `application/json`: `{"inputs": [records]}`.
    Json,
    /// `text/csv`: the dataset's header and rows.
    Csv,
}

/// The format of the body, from `Content-Type`.
pub fn body_format(headers: &HeaderMap) -> Result<Format, ApiError> {
    let essence = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or_default().trim());
    match essence {
        Some(e) if e.eq_ignore_ascii_case("application/json") => Ok(Format::Json),
        Some(e) if e.eq_ignore_ascii_case("text/csv") => Ok(Format::Csv),
        _ => Err(ApiError::UnsupportedMediaType(ErrorItem::field(
            "Content-Type",
            "send JSON (Content-Type: application/json) or CSV (Content-Type: text/csv)",
        ))),
    }
}

/// The format of the answer, from `Accept`: CSV only when asked for before JSON.
pub fn answer_format(headers: &HeaderMap) -> Format {
    let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
        return Format::Json;
    };
    let position = |media: &str| {
        accept.split(',').position(|m| {
            m.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .eq_ignore_ascii_case(media)
        })
    };
    match (position("text/csv"), position("application/json")) {
        (Some(csv), Some(json)) if csv < json => Format::Csv,
        (Some(_), None) => Format::Csv,
        _ => Format::Json,
    }
}

/// `/predict`'s query: only `explain` (`true`/`false`, `1`/`0`).
pub fn explain_flag(query: &HashMap<String, String>) -> Result<bool, ApiError> {
    let bad =
        |field: &str, message: String| ApiError::BadRequest(vec![ErrorItem::field(field, message)]);
    if let Some(other) = query.keys().find(|k| k.as_str() != "explain") {
        return Err(bad(
            other,
            "unknown query parameter: the only one is `explain`".into(),
        ));
    }
    match query.get("explain").map(String::as_str) {
        None | Some("false" | "0") => Ok(false),
        Some("true" | "1") => Ok(true),
        Some(v) => Err(bad(
            "explain",
            format!(
                "must be true or false, got {:?}",
                v.chars().take(40).collect::<String>()
            ),
        )),
    }
}

/// Passengers parsed from a body, with the CSV line of each where the body
/// was CSV.
#[derive(Debug, Default)]
pub struct Batch {
    /// The passengers, in order.
    pub passengers: Vec<Passenger>,
    /// For CSV, the line each record starts on.
    pub lines: Option<Vec<u64>>,
}

impl Batch {
    /// Adds the CSV line to errors that name a row.
    pub fn locate(&self, mut items: Vec<ErrorItem>) -> Vec<ErrorItem> {
        if let Some(lines) = &self.lines {
            for item in &mut items {
                item.line = item.row.and_then(|r| lines.get(r).copied());
            }
        }
        items
    }
}

/// Parses a body into passengers.
pub fn parse(format: Format, bytes: &[u8]) -> Result<Batch, ApiError> {
    match format {
        Format::Json => parse_json(bytes).map(|passengers| Batch {
            passengers,
            lines: None,
        }),
        Format::Csv => match read_passengers_csv(bytes) {
            Ok(rows) => Ok(Batch {
                passengers: rows.passengers,
                lines: Some(rows.lines),
            }),
            Err(classification_model::Error::Csv(errors)) => Err(ApiError::Invalid(
                errors.into_iter().map(ErrorItem::from).collect(),
            )),
            Err(e) => Err(ApiError::Invalid(vec![ErrorItem::field(
                "body",
                e.to_string(),
            )])),
        },
    }
}

/// A JSON body: `{"inputs": [records]}`.
fn parse_json(bytes: &[u8]) -> Result<Vec<Passenger>, ApiError> {
    let shape = |field: &str, detail: String| {
        ApiError::BadRequest(vec![ErrorItem::field(
            field,
            format!("the body must be a JSON object {{\"inputs\": [records]}}{detail}"),
        )])
    };
    // serde would also read a struct from a JSON array: only an object will do
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(shape("body", String::new()));
    }
    // Fast path: the body parses straight into passengers. Otherwise parse it
    // record by record (as raw JSON) to say what is wrong with each.
    if let Ok(fast) = serde_json::from_slice::<PredictBody>(bytes) {
        return Ok(fast.inputs);
    }
    let raw: RawBody<'_> = serde_json::from_slice(bytes).map_err(|e| {
        // a body that is not JSON at all, or JSON of the wrong shape
        let field = if e.is_data() { "inputs" } else { "body" };
        shape(field, format!(": {e}"))
    })?;
    let mut passengers = Vec::with_capacity(raw.inputs.len());
    let mut items = Vec::new();
    for (row, record) in raw.inputs.iter().enumerate() {
        match serde_json::from_str::<Passenger>(record.get()) {
            Ok(p) => passengers.push((row, p)),
            Err(_) => {
                let (field, message) = explain_json_record(record.get());
                items.push(ErrorItem {
                    row: Some(row),
                    line: None,
                    field: Some(field.unwrap_or_else(|| "inputs".into())),
                    message,
                });
            }
        }
    }
    if items.is_empty() {
        return Ok(passengers.into_iter().map(|(_, p)| p).collect());
    }
    // also every field problem of the records that did parse
    for (row, p) in &passengers {
        items.extend(check_passenger(*row, p).into_iter().map(ErrorItem::from));
    }
    items.sort_by_key(|e| e.row);
    Err(ApiError::Invalid(items))
}

/// Reads the body within `limits`. An oversized body is read on and dropped
/// up to [`DRAIN_FACTOR`] times the limit before its 413, unless the client
/// waits for `100 Continue` or declared a length beyond that.
pub async fn read_body(
    headers: &HeaderMap,
    mut body: impl Stream<Item = Result<impl Buf, warp::Error>> + Unpin,
    limits: BodyLimits,
) -> Result<Bytes, ApiError> {
    let limit = limits.max_bytes;
    let too_large = || {
        ApiError::TooLarge(ErrorItem::field(
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
        Err(_) => Err(ApiError::Timeout(ErrorItem::field(
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
) -> Result<(), ApiError> {
    let mut chunk = chunk.map_err(|e| {
        ApiError::BadRequest(vec![ErrorItem::field(
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
    too_large: impl Fn() -> ApiError,
) -> Result<Bytes, ApiError> {
    if seen > limit as u64 {
        Err(too_large())
    } else {
        Ok(buf.freeze())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use warp::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn negotiation() {
        assert_eq!(
            body_format(&headers(&[(
                "content-type",
                "Application/JSON; charset=utf-8"
            )])),
            Ok(Format::Json)
        );
        assert_eq!(
            body_format(&headers(&[("content-type", "text/csv")])),
            Ok(Format::Csv)
        );
        assert!(body_format(&headers(&[("content-type", "text/plain")])).is_err());
        assert!(body_format(&headers(&[])).is_err());
        for (accept, format) in [
            ("text/csv", Format::Csv),
            ("text/csv, application/json", Format::Csv),
            ("application/json, text/csv", Format::Json),
            ("*/*", Format::Json),
        ] {
            assert_eq!(
                answer_format(&headers(&[("accept", accept)])),
                format,
                "{accept}"
            );
        }
    }

    #[test]
    fn query() {
        let q = |pairs: &[(&str, &str)]| {
            explain_flag(
                &pairs
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            )
        };
        assert_eq!(q(&[]), Ok(false));
        assert_eq!(q(&[("explain", "1")]), Ok(true));
        assert!(q(&[("explain", "yes")]).is_err());
        assert!(q(&[("x", "1")]).is_err());
    }
}
