//! What a `/predict` or `/feedback` request brings: its formats (content
//! negotiation), and the records parsed from its body.

use std::cell::Cell;
use std::marker::PhantomData;

use classification_model::Passenger;
use classification_model::csv::read_passengers_csv_at_most;
use classification_model::schema::{check_passenger, explain_keyed_record};
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use warp::http::{HeaderMap, header};

use crate::rest::errors::ApiError;
use crate::serving::batch::Batch;
use crate::serving::errors::{ErrorItem, RequestError};
use crate::serving::ids::{ID_RULE, Identified, RecordId, check_ids, valid_id};

/// `POST /predict` body: the passengers to score.
// The documented shape (utoipa reads `deny_unknown_fields` as
// `additionalProperties: false`); `parse` reads it within `MAX_BATCH`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PredictBody {
    /// The passengers (at least one; at most `MAX_BATCH`, 10,000 by default),
    /// each with an optional `id` of its own.
    #[schema(min_items = 1, value_type = Vec<Passenger>)]
    pub inputs: Vec<Identified>,
}

/// Reads `{"inputs": [T, ...]}` with at most `max` items: at the one past
/// it, sets `too_many` and stops before reading the rest, so that memory is
/// bounded by `max` whatever the body would expand to.
struct Inputs<'f, T> {
    max: usize,
    too_many: &'f Cell<bool>,
    item: PhantomData<T>,
}

impl<'f, T> Inputs<'f, T> {
    fn new(max: usize, too_many: &'f Cell<bool>) -> Self {
        Inputs {
            max,
            too_many,
            item: PhantomData,
        }
    }

    /// Parses the whole of `bytes`.
    fn parse<'de>(self, bytes: &'de [u8]) -> serde_json::Result<Vec<T>>
    where
        T: Deserialize<'de>,
    {
        let mut de = serde_json::Deserializer::from_slice(bytes);
        let items = self.deserialize(&mut de)?;
        de.end()?;
        Ok(items)
    }
}

impl<'de, T: Deserialize<'de>> DeserializeSeed<'de> for Inputs<'_, T> {
    type Value = Vec<T>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Vec<T>, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, T: Deserialize<'de>> Visitor<'de> for Inputs<'_, T> {
    type Value = Vec<T>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an object {\"inputs\": [records]}")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Vec<T>, A::Error> {
        let mut inputs = None;
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            if key != "inputs" {
                return Err(de::Error::unknown_field(&key, &["inputs"]));
            }
            if inputs.is_some() {
                return Err(de::Error::duplicate_field("inputs"));
            }
            inputs = Some(map.next_value_seed(Items(self.max, self.too_many, PhantomData))?);
        }
        inputs.ok_or_else(|| de::Error::missing_field("inputs"))
    }
}

/// The `inputs` list of [`Inputs`].
struct Items<'f, T>(usize, &'f Cell<bool>, PhantomData<T>);

impl<'de, T: Deserialize<'de>> DeserializeSeed<'de> for Items<'_, T> {
    type Value = Vec<T>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Vec<T>, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de, T: Deserialize<'de>> Visitor<'de> for Items<'_, T> {
    type Value = Vec<T>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a list of records")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
        let Items(max, too_many, _) = self;
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(max).min(4096));
        while let Some(item) = seq.next_element()? {
            if items.len() == max {
                too_many.set(true);
                return Err(de::Error::custom(format_args!("more than {max} records")));
            }
            items.push(item);
        }
        Ok(items)
    }
}

/// The 413 for a batch of more than `max` records.
pub fn too_many_records(max: usize) -> RequestError {
    RequestError::TooLarge(ErrorItem::field(
        "inputs",
        format!("has more than the {max} records one request may carry: split the batch"),
    ))
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

/// Parses a body into at most `max_batch` passengers (413 past that, found
/// before the rest is read).
pub fn parse(format: Format, bytes: &[u8], max_batch: usize) -> Result<Batch, RequestError> {
    match format {
        Format::Json => {
            let records = parse_json(bytes, max_batch)?;
            let ids = check_ids(records.iter().map(|r| r.value.as_deref()))?;
            Ok(Batch {
                passengers: records.into_iter().map(|r| r.passenger).collect(),
                ids,
                lines: None,
            })
        }
        Format::Csv => match read_passengers_csv_at_most(bytes, max_batch) {
            Ok(rows) => Ok(Batch {
                ids: vec![None; rows.passengers.len()],
                passengers: rows.passengers,
                lines: Some(rows.lines),
            }),
            Err(classification_model::Error::TooManyRows { max_rows }) => {
                Err(too_many_records(max_rows))
            }
            Err(classification_model::Error::Csv(errors)) => Err(RequestError::Invalid(
                errors.into_iter().map(ErrorItem::from).collect(),
            )),
            Err(e) => Err(RequestError::Invalid(vec![ErrorItem::field(
                "body",
                e.to_string(),
            )])),
        },
    }
}

/// A JSON body: `{"inputs": [records]}`, at most `max` of them.
fn parse_json(bytes: &[u8], max: usize) -> Result<Vec<Identified>, RequestError> {
    let shape = |field: &str, detail: String| {
        RequestError::BadRequest(vec![ErrorItem::field(
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
    let too_many = Cell::new(false);
    if let Ok(fast) = Inputs::<Identified>::new(max, &too_many).parse(bytes) {
        return Ok(fast);
    }
    if too_many.get() {
        return Err(too_many_records(max));
    }
    let raw = Inputs::<&RawValue>::new(max, &too_many)
        .parse(bytes)
        .map_err(|e| {
            if too_many.get() {
                return too_many_records(max);
            }
            // a body that is not JSON at all, or JSON of the wrong shape
            let field = if e.is_data() { "inputs" } else { "body" };
            shape(field, format!(": {e}"))
        })?;
    let mut passengers = Vec::with_capacity(raw.len());
    let mut items = Vec::new();
    for (row, record) in raw.iter().enumerate() {
        match serde_json::from_str::<Identified>(record.get()) {
            Ok(p) => passengers.push((row, p)),
            Err(_) => {
                let (field, message) = explain_keyed_record::<RecordId>(record.get());
                items.push(ErrorItem::at(
                    row,
                    field.unwrap_or_else(|| "inputs".into()),
                    message,
                ));
            }
        }
    }
    if items.is_empty() {
        return Ok(passengers.into_iter().map(|(_, p)| p).collect());
    }
    // also every field problem of the records that did parse
    for (row, p) in &passengers {
        items.extend(
            check_passenger(*row, &p.passenger)
                .into_iter()
                .map(ErrorItem::from),
        );
    }
    items.sort_by_key(|e| e.row);
    Err(RequestError::Invalid(items))
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
}

/// The byte two hex digits give (`u8::from_str_radix` would also take a
/// sign, as in `+f`).
pub fn hex_byte(pair: &[u8]) -> Option<u8> {
    let digit = |b: u8| (b as char).to_digit(16);
    match pair {
        [hi, lo] => Some((digit(*hi)? * 16 + digit(*lo)?) as u8),
        _ => None,
    }
}

/// `POST /feedback` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeedbackBody {
    /// The outcomes (at least one; at most `MAX_BATCH`).
    #[schema(min_items = 1)]
    pub feedback: Vec<FeedbackItem>,
}

/// One outcome.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeedbackItem {
    /// A record's id, as `/predict` returned it.
    #[schema(
        min_length = 1,
        max_length = 128,
        pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$"
    )]
    pub id: String,
    /// 1 if the passenger survived, else 0 (`1.0` and `0.0` too).
    #[schema(value_type = i64, minimum = 0, maximum = 1)]
    pub survived: f64,
}

/// Reads a feedback body: every item's problems, or the (id, survived) pairs.
pub fn feedback(bytes: &[u8], max_batch: usize) -> Result<Vec<(String, i64)>, RequestError> {
    let body: FeedbackBody = serde_json::from_slice(bytes).map_err(|e| {
        RequestError::BadRequest(vec![ErrorItem::field(
            "body",
            format!(
                "the body must be a JSON object {{\"feedback\": [{{\"id\": \"...\", \"survived\": 0 or 1}}]}}: {e}"
            ),
        )])
    })?;
    let n = body.feedback.len();
    if n == 0 {
        return Err(RequestError::Invalid(vec![ErrorItem::field(
            "feedback",
            "is empty: send at least one item",
        )]));
    }
    if n > max_batch {
        return Err(RequestError::TooLarge(ErrorItem::field(
            "feedback",
            format!("has {n} items, more than the {max_batch} one request may carry: split it"),
        )));
    }
    let mut items = Vec::new();
    for (row, item) in body.feedback.iter().enumerate() {
        let at = |field: &str, message: &str| ErrorItem::at(row, field, message);
        if !valid_id(&item.id) {
            items.push(at("id", ID_RULE));
        }
        if item.survived != 0.0 && item.survived != 1.0 {
            items.push(at("survived", "must be 0 or 1"));
        }
    }
    if items.is_empty() {
        Ok(body
            .feedback
            .into_iter()
            .map(|i| (i.id, i.survived as i64))
            .collect())
    } else {
        Err(RequestError::Invalid(items))
    }
}

#[cfg(test)]
mod history_tests {
    use super::*;

    #[test]
    fn feedback_lists_every_bad_item() {
        let e = feedback(
            br#"{"feedback": [{"id": "", "survived": 2}, {"id": "a", "survived": 1}]}"#,
            10,
        )
        .unwrap_err();
        assert_eq!(e.items().len(), 2);
        assert!(feedback(br#"{"feedback": []}"#, 10).is_err());
        assert_eq!(
            feedback(br#"{"feedback": [{"id": "a", "survived": 1}]}"#, 10).unwrap(),
            [("a".to_owned(), 1)]
        );
    }
}
