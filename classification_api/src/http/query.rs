//! Each endpoint's query string, as a typed struct: serde reads it (an
//! unknown or repeated parameter is an error), utoipa documents it from the
//! same declaration (`IntoParams`), and a value's rule lives in its field's
//! type. A bad query is a 400 naming the parameter.

use serde::Deserialize;
use serde::de::{self, DeserializeOwned, Deserializer};
use utoipa::IntoParams;

use crate::history::store::{Cursor, Filter};
use crate::http::input::hex_byte;
use crate::serving::errors::{ErrorItem, RequestError, shorten};
use crate::serving::ids::MAX_ID_CHARS;

/// Largest `/history` page.
pub const MAX_PAGE: usize = 1000;

/// Default `/history` page.
pub const DEFAULT_PAGE: usize = 100;

/// Reads a query string (without its `?`) into `T`: an unknown or
/// repeated parameter, or a bad value, is a 400 naming it.
pub fn parse<T: DeserializeOwned>(query: Option<&str>) -> Result<T, RequestError> {
    let pairs = form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .map(|(k, v)| (k.into_owned(), Text(v.into_owned())));
    let de = de::value::MapDeserializer::<_, QueryError>::new(pairs);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let (field, message) = match e.into_inner() {
            QueryError::Unknown { field, expected } => (
                field,
                format!("unknown query parameter: expected {}", one_of(expected)),
            ),
            QueryError::Repeated(field) => (field.to_owned(), "is given more than once".to_owned()),
            QueryError::Value(message) => (path, message),
        };
        RequestError::BadRequest(vec![ErrorItem::field(shorten(&field), message)])
    })
}

/// What is wrong with a query, as the declared query type finds it.
#[derive(Debug)]
enum QueryError {
    /// A parameter the type does not declare.
    Unknown {
        field: String,
        expected: &'static [&'static str],
    },
    /// A parameter given twice.
    Repeated(&'static str),
    /// A bad value (its parameter is the error's path).
    Value(String),
}

impl std::fmt::Display for QueryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            QueryError::Unknown { field, expected } => {
                write!(f, "unknown field `{field}`, expected {}", one_of(expected))
            }
            QueryError::Repeated(field) => write!(f, "duplicate field `{field}`"),
            QueryError::Value(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for QueryError {}

impl de::Error for QueryError {
    fn custom<T: std::fmt::Display>(message: T) -> Self {
        QueryError::Value(message.to_string())
    }

    fn unknown_field(field: &str, expected: &'static [&'static str]) -> Self {
        QueryError::Unknown {
            field: field.to_owned(),
            expected,
        }
    }

    fn duplicate_field(field: &'static str) -> Self {
        QueryError::Repeated(field)
    }
}

/// A parameter's value: text, which an `Option` field reads as present.
struct Text(String);

impl<'de> de::IntoDeserializer<'de, QueryError> for Text {
    type Deserializer = Self;

    fn into_deserializer(self) -> Self {
        self
    }
}

impl<'de> Deserializer<'de> for Text {
    type Error = QueryError;

    fn deserialize_any<V: de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, QueryError> {
        visitor.visit_string(self.0)
    }

    fn deserialize_option<V: de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, QueryError> {
        visitor.visit_some(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

/// The parameters a query takes, as serde lists expected fields.
fn one_of(names: &[&str]) -> String {
    match names {
        [] => "none".to_owned(),
        [one] => format!("`{one}`"),
        [a, b] => format!("`{a}` or `{b}`"),
        more => format!(
            "one of {}",
            more.iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// `POST /predict`'s query.
#[derive(Debug, Default, Clone, PartialEq, Eq, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PredictQuery {
    /// Add per-passenger explanations: the intercept (baseline) and each
    /// feature's contribution to the log-odds (`true`/`false`, `1`/`0`).
    #[serde(default, deserialize_with = "flag")]
    #[param(value_type = Option<bool>)]
    pub explain: bool,
    /// The model version to score with (`GET /model` lists them; default:
    /// the default version).
    pub version: Option<String>,
}

/// `GET /model`'s query.
#[derive(Debug, Default, Clone, PartialEq, Eq, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ModelQuery {
    /// A version served (default: the default version).
    pub version: Option<String>,
}

/// `GET /history`'s query: which rows, and for the JSON answer which page.
#[derive(Debug, Default, Clone, PartialEq, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// Page size, 1 to 1000 (default 100); JSON only.
    #[serde(default, deserialize_with = "limit")]
    #[param(value_type = Option<usize>, minimum = 1, maximum = 1000)]
    pub limit: Option<usize>,
    /// The `next_cursor` of the previous page; JSON only.
    #[serde(default, deserialize_with = "cursor")]
    #[param(value_type = Option<String>, pattern = r"^[0-9]{1,18}-([0-9a-fA-F]{2}){0,512}$")]
    pub cursor: Option<Cursor>,
    /// From this RFC 3339 time on.
    #[serde(default, deserialize_with = "time")]
    #[param(value_type = Option<String>, format = DateTime)]
    pub since: Option<i64>,
    /// Before this RFC 3339 time.
    #[serde(default, deserialize_with = "time")]
    #[param(value_type = Option<String>, format = DateTime)]
    pub until: Option<i64>,
    /// Only this model version.
    #[serde(default, deserialize_with = "version")]
    #[param(value_type = Option<String>, pattern = r"^(0|[1-9][0-9]{0,8})\.(0|[1-9][0-9]{0,8})\.(0|[1-9][0-9]{0,8})$")]
    pub version: Option<String>,
    /// Only this prediction, 0 or 1.
    #[serde(default, deserialize_with = "prediction")]
    #[param(value_type = Option<u8>, minimum = 0, maximum = 1)]
    pub prediction: Option<i64>,
    /// Only records with (true) or without (false) feedback.
    #[serde(default, deserialize_with = "some_flag")]
    #[param(value_type = Option<bool>)]
    pub has_feedback: Option<bool>,
}

impl HistoryQuery {
    /// The rows asked for.
    pub fn filter(&self) -> Filter {
        Filter {
            since: self.since,
            until: self.until,
            version: self.version.clone(),
            prediction: self.prediction,
            has_feedback: self.has_feedback,
        }
    }

    /// The page size asked for, or the default.
    pub fn page(&self) -> usize {
        self.limit.unwrap_or(DEFAULT_PAGE)
    }

    /// For the CSV export, which has no pages: 400 naming a page parameter.
    pub fn without_pages(&self) -> Result<(), RequestError> {
        let given = [
            ("limit", self.limit.is_some()),
            ("cursor", self.cursor.is_some()),
        ];
        match given.iter().find(|(_, set)| *set) {
            Some((name, _)) => Err(RequestError::BadRequest(vec![ErrorItem::field(
                *name,
                "is for JSON pages: the CSV export has every matching record",
            )])),
            None => Ok(()),
        }
    }
}

/// `GET /monitoring`'s query: which rows, served by which version.
#[derive(Debug, Default, Clone, PartialEq, Eq, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MonitoringQuery {
    /// From this RFC 3339 time on.
    #[serde(default, deserialize_with = "time")]
    #[param(value_type = Option<String>, format = DateTime)]
    pub since: Option<i64>,
    /// Before this RFC 3339 time.
    #[serde(default, deserialize_with = "time")]
    #[param(value_type = Option<String>, format = DateTime)]
    pub until: Option<i64>,
    /// The version whose records are measured, against its own training
    /// data (default: the default version).
    #[serde(default, deserialize_with = "version")]
    #[param(value_type = Option<String>, pattern = r"^(0|[1-9][0-9]{0,8})\.(0|[1-9][0-9]{0,8})\.(0|[1-9][0-9]{0,8})$")]
    pub version: Option<String>,
}

impl MonitoringQuery {
    /// The rows asked for.
    pub fn filter(&self) -> Filter {
        Filter {
            since: self.since,
            until: self.until,
            version: self.version.clone(),
            ..Filter::default()
        }
    }
}

/// A query value, without the spaces around it.
fn text<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(String::deserialize(d)?.trim().to_owned())
}

fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    let v = text(d)?;
    match v.as_str() {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err(de::Error::custom(format!(
            "must be true or false, got {:?}",
            shorten(&v)
        ))),
    }
}

fn some_flag<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    flag(d).map(Some)
}

fn limit<'de, D: Deserializer<'de>>(d: D) -> Result<Option<usize>, D::Error> {
    text(d)?
        .parse::<usize>()
        .ok()
        .filter(|n| (1..=MAX_PAGE).contains(n))
        .map(Some)
        .ok_or_else(|| de::Error::custom(format!("must be a whole number from 1 to {MAX_PAGE}")))
}

fn cursor<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Cursor>, D::Error> {
    parse_cursor(&text(d)?)
        .map(Some)
        .ok_or_else(|| de::Error::custom("is not a cursor this service gave (next_cursor)"))
}

fn time<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    crate::clock::parse(&text(d)?)
        .map(Some)
        .map_err(de::Error::custom)
}

fn version<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let v = text(d)?;
    match semver::Version::parse(&v) {
        Ok(_) => Ok(Some(v)),
        Err(_) => Err(de::Error::custom("must be a model version such as 0.1.0")),
    }
}

fn prediction<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    match text(d)?.as_str() {
        "0" => Ok(Some(0)),
        "1" => Ok(Some(1)),
        _ => Err(de::Error::custom("must be 0 or 1")),
    }
}

/// A cursor as `/history` gives it: the time in microseconds, `-`, the id
/// in hex.
pub fn cursor_text(time_us: i64, id: &str) -> String {
    let mut out = format!("{time_us}-");
    for b in id.as_bytes() {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

fn parse_cursor(text: &str) -> Option<Cursor> {
    let (time, hex) = text.split_once('-').filter(|(t, _)| !t.is_empty())?;
    let time = time.parse().ok()?;
    if hex.len() % 2 != 0 || hex.len() > 2 * 4 * MAX_ID_CHARS {
        return None;
    }
    let bytes = hex
        .as_bytes()
        .chunks(2)
        .map(hex_byte)
        .collect::<Option<Vec<u8>>>()?;
    // any position is a valid place to start; ids are text, so bytes that
    // are not UTF-8 cannot match one exactly and are read lossily
    Some((time, String::from_utf8_lossy(&bytes).into_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field<T: DeserializeOwned + std::fmt::Debug>(query: &str) -> String {
        let e = parse::<T>(Some(query)).unwrap_err();
        e.items()[0].field.clone().unwrap_or_default()
    }

    #[test]
    fn predict_queries() {
        assert_eq!(parse::<PredictQuery>(None), Ok(PredictQuery::default()));
        assert_eq!(parse::<PredictQuery>(Some("")), Ok(PredictQuery::default()));
        assert!(parse::<PredictQuery>(Some("explain=1")).unwrap().explain);
        assert!(
            !parse::<PredictQuery>(Some("explain=false"))
                .unwrap()
                .explain
        );
        assert_eq!(
            parse::<PredictQuery>(Some("version=0.2.0"))
                .unwrap()
                .version
                .as_deref(),
            Some("0.2.0")
        );
        assert_eq!(field::<PredictQuery>("explain=yes"), "explain");
        assert_eq!(field::<PredictQuery>("x=1"), "x");
        assert_eq!(field::<PredictQuery>("explain=1&explain=0"), "explain");
        let e = parse::<PredictQuery>(Some("x=1")).unwrap_err();
        assert_eq!(
            e.items()[0].message,
            "unknown query parameter: expected `explain` or `version`"
        );
    }

    #[test]
    fn history_queries_name_the_bad_parameter() {
        assert_eq!(parse::<HistoryQuery>(None).unwrap().page(), DEFAULT_PAGE);
        assert_eq!(
            parse::<HistoryQuery>(Some("limit=1000")).unwrap().page(),
            1000
        );
        let q = parse::<HistoryQuery>(Some(
            "prediction=1&has_feedback=true&since=2026-01-01T00:00:00Z",
        ))
        .unwrap();
        assert_eq!(q.filter().prediction, Some(1));
        assert_eq!(q.filter().has_feedback, Some(true));
        assert!(q.filter().since.is_some());
        for (k, v) in [
            ("limit", "0"),
            ("limit", "1001"),
            ("since", "today"),
            ("prediction", "2"),
            ("cursor", "x"),
            ("version", "1.0"),
            ("has_feedback", "maybe"),
            ("bogus", "1"),
        ] {
            assert_eq!(field::<HistoryQuery>(&format!("{k}={v}")), k, "{k}={v}");
        }
        assert_eq!(field::<MonitoringQuery>("limit=5"), "limit");
        assert!(
            parse::<HistoryQuery>(Some("cursor=1-00"))
                .unwrap()
                .without_pages()
                .is_err()
        );
    }

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        for id in ["0193f0a2-7c1e-7c3e-8f00-000000000000", "a-b:c", "é"] {
            assert_eq!(parse_cursor(&cursor_text(5, id)), Some((5, id.to_owned())));
        }
        assert_eq!(parse_cursor("1-ff"), Some((1, "\u{fffd}".to_owned())));
        for bad in ["", "-", "12", "x-00", "1-0", "1-zz", "1-+f", "1--1"] {
            assert_eq!(parse_cursor(bad), None, "{bad}");
        }
    }
}
