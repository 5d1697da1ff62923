//! One raw field value, and the one parser every value goes through: JSON
//! values, CSV cells and the training dataset's cells alike.
//!
//! The text rules (`docs/PIPELINE.md`, "Input rules"):
//! - surrounding spaces and tabs are ignored;
//! - blank text and `?` (the dataset's marker) are missing;
//! - a number in text is a plain decimal: an optional sign, digits with an
//!   optional fraction (`29`, `029`, `+29`, `29.`, `29.50`, `.5`); no exponent,
//!   no `inf` or `nan`, no thousands separators;
//! - a whole-number field takes `3.0` but not `3.5`; `-0` is 0.
//!
//! A JSON number is a number however it is written, so a JSON `1e0` is 1;
//! the same text in a string or a CSV cell is refused, because a pattern
//! could not bound it (the JSON Schema of a record carries exact patterns).

use std::borrow::Cow;
use std::fmt;

use serde::de::{Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// One field of a raw record, as it arrived.
///
/// Reading a field never fails on its type: a value of the wrong kind is kept
/// as [`FieldValue::Invalid`] so that validation can report it with its row
/// and field instead of failing the whole batch.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum FieldValue {
    /// Absent or `null`.
    #[default]
    Missing,
    /// A number.
    Number(f64),
    /// Text (read by the field's rules: a number field parses it).
    Text(String),
    /// A value of a kind no field accepts; the text says which kind.
    Invalid(&'static str),
}

/// A value that passed its field's rules.
#[derive(Debug, Clone, PartialEq)]
pub enum Checked<'a> {
    /// No value (absent, `null`, blank or `?`).
    Missing,
    /// A finite number within the field's range (`-0` is read as 0); for a
    /// free-text field, a JSON number standing for its own text.
    Number(f64),
    /// A [`Kind::Choice`](crate::schema::Kind::Choice) label, as the table writes it.
    Label(&'static str),
    /// Text, as given.
    Text(&'a str),
}

impl FieldValue {
    /// A number from a typed column (a binary V2 tensor, Arrow, NumPy,
    /// pandas), where NaN is how a missing value is written: NaN is
    /// [`Missing`](FieldValue::Missing), any other value a number.
    ///
    /// ```
    /// use classification_model::FieldValue;
    ///
    /// assert_eq!(FieldValue::from_column(f64::NAN), FieldValue::Missing);
    /// assert_eq!(FieldValue::from_column(7.25), FieldValue::Number(7.25));
    /// ```
    pub fn from_column(n: f64) -> Self {
        if n.is_nan() {
            FieldValue::Missing
        } else {
            FieldValue::Number(n)
        }
    }
}

impl From<f64> for FieldValue {
    fn from(v: f64) -> Self {
        FieldValue::Number(v)
    }
}

impl From<i64> for FieldValue {
    fn from(v: i64) -> Self {
        FieldValue::Number(v as f64)
    }
}

impl From<i32> for FieldValue {
    fn from(v: i32) -> Self {
        FieldValue::Number(f64::from(v))
    }
}

impl From<&str> for FieldValue {
    fn from(v: &str) -> Self {
        FieldValue::Text(v.to_owned())
    }
}

impl From<String> for FieldValue {
    fn from(v: String) -> Self {
        FieldValue::Text(v)
    }
}

impl<T: Into<FieldValue>> From<Option<T>> for FieldValue {
    fn from(v: Option<T>) -> Self {
        v.map_or(FieldValue::Missing, Into::into)
    }
}

/// The characters ignored around a value.
pub(crate) const PADDING: [char; 2] = [' ', '\t'];

/// A plain decimal (see the module's rules), or `None`.
pub(crate) fn plain_decimal(t: &str) -> Option<f64> {
    let digits = t.strip_prefix(['+', '-']).unwrap_or(t);
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if int.len() + frac.len() == 0 || !all_digits(int) || !all_digits(frac) {
        return None;
    }
    // only digits, a sign and a point are left: Rust parses every such text
    t.parse::<f64>().ok()
}

/// At most 40 characters of user text, for messages.
pub fn shorten(t: &str) -> Cow<'_, str> {
    match t.char_indices().nth(40) {
        None => Cow::Borrowed(t),
        Some((i, _)) => Cow::Owned(format!("{}…", &t[..i])),
    }
}

struct FieldValueVisitor;

impl<'de> Visitor<'de> for FieldValueVisitor {
    type Value = FieldValue;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a number, a string or null")
    }

    fn visit_bool<E>(self, _: bool) -> Result<FieldValue, E> {
        Ok(FieldValue::Invalid("a boolean"))
    }
    fn visit_i64<E>(self, v: i64) -> Result<FieldValue, E> {
        Ok(FieldValue::Number(v as f64))
    }
    fn visit_u64<E>(self, v: u64) -> Result<FieldValue, E> {
        Ok(FieldValue::Number(v as f64))
    }
    fn visit_f64<E>(self, v: f64) -> Result<FieldValue, E> {
        Ok(FieldValue::Number(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<FieldValue, E> {
        Ok(FieldValue::Text(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<FieldValue, E> {
        Ok(FieldValue::Text(v))
    }
    fn visit_bytes<E>(self, v: &[u8]) -> Result<FieldValue, E> {
        Ok(match std::str::from_utf8(v) {
            Ok(s) => FieldValue::Text(s.to_owned()),
            Err(_) => FieldValue::Invalid("bytes that are not UTF-8"),
        })
    }
    fn visit_none<E>(self) -> Result<FieldValue, E> {
        Ok(FieldValue::Missing)
    }
    fn visit_unit<E>(self) -> Result<FieldValue, E> {
        Ok(FieldValue::Missing)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<FieldValue, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<FieldValue, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(FieldValue::Invalid("an array"))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<FieldValue, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(FieldValue::Invalid("an object"))
    }
}

impl<'de> Deserialize<'de> for FieldValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(FieldValueVisitor)
    }
}

impl Serialize for FieldValue {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            FieldValue::Missing | FieldValue::Invalid(_) => s.serialize_none(),
            FieldValue::Number(v) => s.serialize_f64(*v),
            FieldValue::Text(t) => s.serialize_str(t),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_decimals() {
        for (t, v) in [
            ("1", 1.0),
            ("01", 1.0),
            ("+1", 1.0),
            ("-1", -1.0),
            ("1.", 1.0),
            (".5", 0.5),
            ("1.50", 1.5),
            ("-0", 0.0),
        ] {
            assert_eq!(plain_decimal(t), Some(v), "{t}");
        }
        for t in [
            "", ".", "+", "-", "+-1", "1e0", "1E5", "inf", "NaN", "0x10", "1,5", "1_000", "1.2.3",
            " 1", "١",
        ] {
            assert_eq!(plain_decimal(t), None, "{t}");
        }
    }
}
