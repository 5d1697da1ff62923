//! Reading passengers: JSON records (serde) and CSV files, keyed by the
//! dataset's column names from the field table.

use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};

use crate::errors::{CsvError, Error};
pub use crate::fields::Passenger;
use crate::fields::{Column, FIELDS, column_names};
use crate::value::FieldValue;

/// Why a JSON object or CSV record is not a [`Passenger`] at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyProblem {
    /// A key that is not a dataset column.
    Unknown(String),
    /// A key given more than once.
    Duplicate(&'static str),
}

impl KeyProblem {
    /// The key at fault.
    pub fn field(&self) -> &str {
        match self {
            KeyProblem::Unknown(k) => k,
            KeyProblem::Duplicate(k) => k,
        }
    }

    /// A message a user can act on.
    pub fn message(&self) -> String {
        match self {
            KeyProblem::Unknown(k) => format!(
                "unknown field {k:?}: expected one of {} (keys are case-sensitive)",
                column_names().collect::<Vec<_>>().join(", ")
            ),
            KeyProblem::Duplicate(k) => format!("field {k:?} is given more than once"),
        }
    }
}

impl fmt::Display for KeyProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

/// A key a caller adds to the dataset's columns (a record's id, say), read
/// in the same pass as the passenger's fields: see [`Keyed`].
pub trait ExtraKey {
    /// The key.
    const KEY: &'static str;
}

/// A passenger record that may also carry the caller's extra key `K::KEY`,
/// whose value must be a string (its own rules are the caller's).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Keyed<K> {
    /// The extra key's value, if given.
    pub value: Option<String>,
    /// The passenger.
    pub passenger: Passenger,
    key: PhantomData<K>,
}

/// Reads a record's keys; with `extra`, also that key (as a string).
struct PassengerVisitor {
    extra: Option<&'static str>,
}

impl<'de> Visitor<'de> for PassengerVisitor {
    type Value = (Option<String>, Passenger);

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object whose keys are the dataset's column names")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut p = Passenger::default();
        let mut extra = None;
        let mut seen = 0u32;
        while let Some(key) = map.next_key::<KeyName<'de>>()? {
            let key = key.as_str();
            if let Some(name) = self.extra.filter(|name| *name == key) {
                if extra.is_some() {
                    return Err(de::Error::custom(KeyProblem::Duplicate(name)));
                }
                extra = Some(map.next_value::<String>()?);
                continue;
            }
            let Some(column) = Column::of(key) else {
                return Err(de::Error::custom(KeyProblem::Unknown(key.to_owned())));
            };
            if seen & column.bit() != 0 {
                return Err(de::Error::custom(KeyProblem::Duplicate(column.name())));
            }
            seen |= column.bit();
            match column.field_index().and_then(|i| p.value_mut(i)) {
                Some(slot) => *slot = map.next_value()?,
                None => map.next_value::<IgnoredAny>().map(drop)?,
            }
        }
        Ok((extra, p))
    }
}

/// A map key, borrowed when the input allows it.
enum KeyName<'de> {
    Borrowed(&'de str),
    Owned(String),
}

impl KeyName<'_> {
    fn as_str(&self) -> &str {
        match self {
            KeyName::Borrowed(s) => s,
            KeyName::Owned(s) => s,
        }
    }
}

impl<'de> Deserialize<'de> for KeyName<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = KeyName<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a field name")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<KeyName<'de>, E> {
                Ok(KeyName::Borrowed(v))
            }
            fn visit_str<E>(self, v: &str) -> Result<KeyName<'de>, E> {
                Ok(KeyName::Owned(v.to_owned()))
            }
            fn visit_string<E>(self, v: String) -> Result<KeyName<'de>, E> {
                Ok(KeyName::Owned(v))
            }
            fn visit_borrowed_bytes<E: de::Error>(self, v: &'de [u8]) -> Result<KeyName<'de>, E> {
                std::str::from_utf8(v)
                    .map(KeyName::Borrowed)
                    .map_err(|_| E::custom("a field name is not UTF-8"))
            }
            fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<KeyName<'de>, E> {
                std::str::from_utf8(v)
                    .map(|s| KeyName::Owned(s.to_owned()))
                    .map_err(|_| E::custom("a field name is not UTF-8"))
            }
        }
        d.deserialize_str(V)
    }
}

impl<'de> Deserialize<'de> for Passenger {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(PassengerVisitor { extra: None })
            .map(|(_, p)| p)
    }
}

impl<'de, K: ExtraKey> Deserialize<'de> for Keyed<K> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let (value, passenger) = d.deserialize_map(PassengerVisitor {
            extra: Some(K::KEY),
        })?;
        Ok(Keyed {
            value,
            passenger,
            key: PhantomData,
        })
    }
}

/// Explains why one JSON record does not deserialise as a [`Passenger`]:
/// the field at fault (if there is one) and a message a user can act on.
///
/// Meant for the error path: call it on a record that
/// `serde_json::from_str::<Passenger>` rejected.
pub fn explain_json_record(json: &str) -> (Option<String>, String) {
    explain_record(json, None)
}

/// [`explain_json_record`] for a [`Keyed`] record.
pub fn explain_keyed_record<K: ExtraKey>(json: &str) -> (Option<String>, String) {
    explain_record(json, Some(K::KEY))
}

fn explain_record(json: &str, extra: Option<&'static str>) -> (Option<String>, String) {
    /// Walks the keys, leaving the first problem in `found`.
    struct Keys<'a>(&'a mut Option<(String, String)>, Option<&'static str>);
    impl<'de> Visitor<'de> for Keys<'_> {
        type Value = ();
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an object whose keys are the dataset's column names")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            let mut seen = 0u32;
            let mut extra_seen = false;
            while let Some(key) = map.next_key::<KeyName<'de>>()? {
                let key = key.as_str();
                if let Some(name) = self.1.filter(|name| *name == key) {
                    let problem = if extra_seen {
                        "is given more than once".to_owned()
                    } else if let Err(e) = map.next_value::<String>() {
                        format!("must be a string: {e}")
                    } else {
                        extra_seen = true;
                        continue;
                    };
                    *self.0 = Some((name.to_owned(), problem));
                    return Err(de::Error::custom("stop"));
                }
                let problem = match Column::of(key) {
                    None => KeyProblem::Unknown(key.to_owned()),
                    Some(c) if seen & c.bit() != 0 => KeyProblem::Duplicate(c.name()),
                    Some(c) => {
                        seen |= c.bit();
                        if let Err(e) = map.next_value::<FieldValue>() {
                            *self.0 = Some((key.to_owned(), e.to_string()));
                            return Err(e);
                        }
                        continue;
                    }
                };
                *self.0 = Some((problem.field().to_owned(), problem.message()));
                return Err(de::Error::custom("stop"));
            }
            Ok(())
        }
    }
    let mut found = None;
    let mut de = serde_json::Deserializer::from_str(json);
    let result = de::Deserializer::deserialize_map(&mut de, Keys(&mut found, extra));
    match (found, result) {
        (Some((field, message)), _) => (Some(field), message),
        (None, Err(e)) => (
            None,
            format!("must be an object keyed by the dataset's column names: {e}"),
        ),
        (None, Ok(())) => (None, "is not a valid passenger record".to_owned()),
    }
}

/// Rows read from CSV: the passengers, the line each starts on (the header is
/// line 1), and the label column's raw values when one was asked for.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CsvRows {
    /// The passengers, in file order.
    pub passengers: Vec<Passenger>,
    /// The 1-based line each record starts on (a quoted field may span lines).
    pub lines: Vec<u64>,
    /// The label column's raw values (empty unless asked for).
    pub labels: Vec<FieldValue>,
}

/// Reads passengers from CSV with the dataset's header: any of its columns,
/// in any order, including the required features. Every cell goes through
/// the same rules as a JSON string (they are read when checked).
///
/// Fails with every problem of the header, or every malformed record, each
/// naming its line.
///
/// ```
/// let csv = "pclass,sex,sibsp,parch,age\n1,female,0,0,29\n3,male,1,0,\n";
/// let rows = classification_model::csv::read_passengers_csv(csv.as_bytes())?;
/// assert_eq!(rows.lines, [2, 3]);
/// let result = classification_model::make_prediction(&rows.passengers)?;
/// assert_eq!(result.predictions.len(), 2);
/// # Ok::<(), classification_model::Error>(())
/// ```
pub fn read_passengers_csv(bytes: &[u8]) -> Result<CsvRows, Error> {
    read_csv(bytes, None, usize::MAX)
}

/// [`read_passengers_csv`] that stops with [`Error::TooManyRows`] as soon as
/// the data holds more than `max_rows` records, before reading them: memory
/// stays bounded by `max_rows`, whatever the bytes would expand to.
///
/// ```
/// let csv = "pclass,sex,sibsp,parch\n1,female,0,0\n3,male,1,0\n";
/// let e = classification_model::csv::read_passengers_csv_at_most(csv.as_bytes(), 1).unwrap_err();
/// assert!(matches!(e, classification_model::Error::TooManyRows { max_rows: 1 }));
/// ```
pub fn read_passengers_csv_at_most(bytes: &[u8], max_rows: usize) -> Result<CsvRows, Error> {
    read_csv(bytes, None, max_rows)
}

/// [`read_passengers_csv_at_most`], also reading the `label` column, which
/// must be there.
pub(crate) fn read_csv(
    source: impl std::io::Read,
    label: Option<&str>,
    max_rows: usize,
) -> Result<CsvRows, Error> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::Headers)
        .from_reader(source);
    let header_error = |field: &str, message: String| CsvError::new(1, None, field, message);
    let headers = reader
        .headers()
        .map_err(|e| Error::Csv(vec![header_error("header", e.to_string())]))?
        .clone();
    let mut errors = Vec::new();
    let mut columns = Vec::with_capacity(headers.len());
    let mut seen = 0u32;
    for (i, name) in headers.iter().enumerate() {
        let column = Column::of(name);
        columns.push(column);
        match column {
            None => errors.push(header_error(
                name,
                format!(
                    "column {} is not a dataset column (expected some of: {})",
                    i + 1,
                    column_names().collect::<Vec<_>>().join(", ")
                ),
            )),
            Some(c) if seen & c.bit() != 0 => errors.push(header_error(
                name,
                "the header names this column twice".into(),
            )),
            Some(c) => seen |= c.bit(),
        }
    }
    let required = FIELDS.iter().filter(|f| f.required).map(|f| f.name);
    for name in required.chain(label) {
        if !headers.iter().any(|h| h == name) {
            errors.push(header_error(
                name,
                "the header has no such column, and it is required".into(),
            ));
        }
    }
    if !errors.is_empty() {
        return Err(Error::Csv(errors));
    }
    let label_index = label.and_then(|l| headers.iter().position(|h| h == l));
    let mut rows = CsvRows::default();
    for (row, record) in reader.records().enumerate() {
        if row == max_rows {
            return Err(Error::TooManyRows { max_rows });
        }
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                errors.push(CsvError::new(line, Some(row), "row", e.to_string()));
                continue;
            }
        };
        let mut p = Passenger::default();
        for (cell, column) in record.iter().zip(&columns) {
            if let Some(i) = column.and_then(Column::field_index) {
                if let Some(slot) = p.value_mut(i) {
                    *slot = FieldValue::Text(cell.to_owned());
                }
            }
        }
        if let Some(i) = label_index {
            rows.labels.push(FieldValue::Text(
                record.get(i).unwrap_or_default().to_owned(),
            ));
        }
        rows.passengers.push(p);
        rows.lines.push(record.position().map_or(0, |p| p.line()));
    }
    if errors.is_empty() {
        Ok(rows)
    } else {
        Err(Error::Csv(errors))
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_numbers_strings_and_missing_markers() {
        let p: Passenger = serde_json::from_str(
            r#"{"pclass": "1", "sex": "male", "age": null, "fare": "?", "sibsp": 1, "parch": 0.0,
                "cabin": "", "embarked": "s", "boat": 5, "home.dest": "x"}"#,
        )
        .unwrap();
        assert_eq!(p.pclass, FieldValue::Text("1".into()));
        assert_eq!(p.age, FieldValue::Missing);
        assert_eq!(p.fare, FieldValue::Text("?".into()));
        assert_eq!(p.sibsp, FieldValue::Number(1.0));
        assert_eq!(p.name, FieldValue::Missing);
        assert_eq!(p.cabin, FieldValue::Text(String::new()));
    }

    #[test]
    fn keeps_wrong_kinds_for_validation() {
        let p: Passenger =
            serde_json::from_str(r#"{"age": true, "sex": [1, [2]], "fare": {"a": {}}}"#).unwrap();
        assert_eq!(p.age, FieldValue::Invalid("a boolean"));
        assert_eq!(p.sex, FieldValue::Invalid("an array"));
        assert_eq!(p.fare, FieldValue::Invalid("an object"));
    }

    #[test]
    fn rejects_unknown_and_duplicate_keys() {
        let e = serde_json::from_str::<Passenger>(r#"{"Age": 3}"#).unwrap_err();
        assert!(e.to_string().contains("\"Age\""), "{e}");
        let e = serde_json::from_str::<Passenger>(r#"{"age": 3, "age": 4}"#).unwrap_err();
        assert!(e.to_string().contains("more than once"), "{e}");
        assert!(serde_json::from_str::<Passenger>("[1]").is_err());
    }

    #[test]
    fn explains_the_field_at_fault() {
        let field = |json| explain_json_record(json).0;
        assert_eq!(field(r#"{"age": 1, "Sex": "m"}"#).as_deref(), Some("Sex"));
        assert_eq!(
            field(r#"{"age": 1, "ticket": 2, "ticket": 3}"#).as_deref(),
            Some("ticket")
        );
        assert_eq!(
            field(r#"{"sex": "m", "age": 1e999}"#).as_deref(),
            Some("age")
        );
        let (field, message) = explain_json_record("[1]");
        assert_eq!(field, None);
        assert!(message.contains("invalid type"), "{message}");
    }

    #[test]
    fn reads_csv_records_with_their_lines() {
        let data = "pclass,survived,name,sex,age,cabin,sibsp,parch\n3,1,\"Doe,\nMr. J\",male,?,,0,0\n1,0,x,female,1,,0,0\n";
        let rows = read_csv(data.as_bytes(), Some("survived"), usize::MAX).unwrap();
        let p = &rows.passengers[0];
        assert_eq!(p.pclass, FieldValue::Text("3".into()));
        assert_eq!(p.age, FieldValue::Text("?".into()));
        assert_eq!(p.name, FieldValue::Text("Doe,\nMr. J".into()));
        assert_eq!(rows.lines, [2, 4]);
        assert_eq!(rows.labels, [FieldValue::from("1"), FieldValue::from("0")]);
    }

    #[test]
    fn csv_header_problems_are_all_named() {
        let Err(Error::Csv(errors)) = read_passengers_csv(b"pclass,Sex,pclass,sibsp\n") else {
            panic!("accepted");
        };
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["Sex", "pclass", "sex", "parch"]);
        assert!(errors.iter().all(|e| e.line == 1 && e.row.is_none()));
    }
}
