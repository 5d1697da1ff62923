//! The raw input record: one passenger as in the dataset.

use std::fmt;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// The dataset columns a [`Passenger`] reads.
pub const FEATURE_FIELDS: [&str; 9] = [
    "pclass", "name", "sex", "age", "sibsp", "parch", "fare", "cabin", "embarked",
];

/// The other dataset columns: accepted as input and ignored.
pub const IGNORED_FIELDS: [&str; 5] = ["survived", "ticket", "boat", "body", "home.dest"];

/// Every key a [`Passenger`] accepts.
pub const ALL_FIELDS: [&str; 14] = [
    "pclass",
    "survived",
    "name",
    "sex",
    "age",
    "sibsp",
    "parch",
    "ticket",
    "fare",
    "cabin",
    "embarked",
    "boat",
    "body",
    "home.dest",
];

/// One field of a raw record, as it arrived.
///
/// Deserialising a field never fails on its type: a value of the wrong kind
/// is kept as [`FieldValue::Invalid`] so that validation can report it with
/// its row and field instead of failing the whole batch.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum FieldValue {
    /// Absent, `null`, or the dataset's missing marker `"?"`.
    #[default]
    Missing,
    /// A number.
    Number(f64),
    /// A string (numeric strings are parsed where a number is expected).
    Text(String),
    /// A value of a kind no field accepts; the text says which kind.
    Invalid(&'static str),
}

impl FieldValue {
    /// Whether the value is missing.
    pub fn is_missing(&self) -> bool {
        matches!(self, FieldValue::Missing)
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
        text_value(v)
    }
}

impl From<String> for FieldValue {
    fn from(v: String) -> Self {
        if v == "?" {
            FieldValue::Missing
        } else {
            FieldValue::Text(v)
        }
    }
}

impl<T: Into<FieldValue>> From<Option<T>> for FieldValue {
    fn from(v: Option<T>) -> Self {
        v.map_or(FieldValue::Missing, Into::into)
    }
}

fn text_value(v: &str) -> FieldValue {
    if v == "?" {
        FieldValue::Missing
    } else {
        FieldValue::Text(v.to_owned())
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
        Ok(text_value(v))
    }
    fn visit_string<E>(self, v: String) -> Result<FieldValue, E> {
        Ok(FieldValue::from(v))
    }
    fn visit_bytes<E>(self, v: &[u8]) -> Result<FieldValue, E> {
        Ok(match std::str::from_utf8(v) {
            Ok(s) => text_value(s),
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

/// One passenger, with the dataset's column names as keys.
///
/// Deserialises from a JSON object or a CSV record. The dataset's other
/// columns (`survived`, `ticket`, `boat`, `body`, `home.dest`) are accepted and
/// ignored; any other key is an error naming it, and so is a key given twice.
/// A missing value may be absent, `null`, or `"?"`. Numbers may be JSON
/// numbers or numeric strings. Values are checked by
/// [`make_prediction`](crate::make_prediction), which reports every invalid
/// field with its row.
///
/// ```
/// use classification_model::{FieldValue, Passenger};
///
/// let p: Passenger = serde_json::from_str(
///     r#"{"pclass": 1, "sex": "female", "age": "29", "sibsp": 0, "parch": 0,
///         "fare": 211.3375, "cabin": "B5", "embarked": "S", "ticket": "24160"}"#,
/// ).unwrap();
/// assert_eq!(p.age, FieldValue::Text("29".into())); // parsed when validated
/// assert_eq!(p.fare, FieldValue::Number(211.3375));
/// assert!(serde_json::from_str::<Passenger>(r#"{"Age": 3}"#).is_err());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Passenger {
    /// Ticket class: 1, 2 or 3.
    pub pclass: FieldValue,
    /// Full name as in the dataset (`"Allen, Miss. Elisabeth Walton"`); optional.
    pub name: FieldValue,
    /// `male` or `female` (any case).
    pub sex: FieldValue,
    /// Age in years, 0 to 120; optional.
    pub age: FieldValue,
    /// Number of siblings and spouses aboard, an integer 0 to 20.
    pub sibsp: FieldValue,
    /// Number of parents and children aboard, an integer 0 to 20.
    pub parch: FieldValue,
    /// Fare paid, at least 0; optional.
    pub fare: FieldValue,
    /// Cabin (`"C22 C26"`); optional, blank means missing.
    pub cabin: FieldValue,
    /// Port of embarkation: `C`, `Q` or `S` (any case); optional.
    pub embarked: FieldValue,
}

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
                ALL_FIELDS.join(", ")
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

impl Passenger {
    /// The slot for a feature key; `None` for ignored and unknown keys.
    fn slot(&mut self, key: &str) -> Option<&mut FieldValue> {
        Some(match key {
            "pclass" => &mut self.pclass,
            "name" => &mut self.name,
            "sex" => &mut self.sex,
            "age" => &mut self.age,
            "sibsp" => &mut self.sibsp,
            "parch" => &mut self.parch,
            "fare" => &mut self.fare,
            "cabin" => &mut self.cabin,
            "embarked" => &mut self.embarked,
            _ => return None,
        })
    }
}

struct PassengerVisitor;

impl<'de> Visitor<'de> for PassengerVisitor {
    type Value = Passenger;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object whose keys are the dataset's column names")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Passenger, A::Error> {
        let mut p = Passenger::default();
        let mut seen = 0u16;
        while let Some(key) = map.next_key::<KeyName<'de>>()? {
            let key = key.as_str();
            let Some(index) = ALL_FIELDS.iter().position(|f| *f == key) else {
                return Err(de::Error::custom(KeyProblem::Unknown(key.to_owned())));
            };
            if seen & (1 << index) != 0 {
                return Err(de::Error::custom(KeyProblem::Duplicate(ALL_FIELDS[index])));
            }
            seen |= 1 << index;
            match p.slot(key) {
                Some(slot) => *slot = map.next_value()?,
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(p)
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
        d.deserialize_struct("Passenger", &ALL_FIELDS, PassengerVisitor)
    }
}

/// Explains why one JSON record does not deserialise as a [`Passenger`]:
/// the field at fault (if there is one) and a message a user can act on.
///
/// Meant for the error path: call it on a record that
/// `serde_json::from_str::<Passenger>` rejected.
pub fn explain_json_record(json: &str) -> (Option<String>, String) {
    /// Walks the keys, leaving the first problem in `found`.
    struct Keys<'a>(&'a mut Option<(String, String)>);
    impl<'de> Visitor<'de> for Keys<'_> {
        type Value = ();
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an object whose keys are the dataset's column names")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            let mut seen = 0u16;
            while let Some(key) = map.next_key::<KeyName<'de>>()? {
                let key = key.as_str();
                let problem = match ALL_FIELDS.iter().position(|f| *f == key) {
                    None => KeyProblem::Unknown(key.to_owned()),
                    Some(i) if seen & (1 << i) != 0 => KeyProblem::Duplicate(ALL_FIELDS[i]),
                    Some(i) => {
                        seen |= 1 << i;
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
    let result = de::Deserializer::deserialize_map(&mut de, Keys(&mut found));
    match (found, result) {
        (Some((field, message)), _) => (Some(field), message),
        (None, Err(e)) => (
            None,
            format!("must be an object keyed by the dataset's column names: {e}"),
        ),
        (None, Ok(())) => (None, "is not a valid passenger record".to_owned()),
    }
}

/// The JSON Schema of a [`Passenger`] record, exactly what validation
/// accepts (the string patterns are [`crate::validation::patterns`]).
pub fn json_schema() -> serde_json::Value {
    use crate::validation::patterns;
    use serde_json::json;
    let nullable = |schemas: Vec<serde_json::Value>| {
        let mut all = schemas;
        all.push(json!({"type": "null"}));
        json!({ "anyOf": all })
    };
    json!({
        "type": "object",
        "description": "One passenger, keyed by the dataset's column names. Missing values may be absent, null or \"?\". Numbers may be JSON numbers or plain decimal strings. The dataset's other columns are accepted and ignored; any other key is an error.",
        // `required` sits in `allOf`: the same constraint, in a form that
        // schemathesis' coverage phase applies at the right level
        "allOf": [{"required": ["pclass", "sex", "sibsp", "parch"]}],
        "additionalProperties": false,
        "properties": {
            "pclass": {
                "description": "Ticket class.",
                "anyOf": [
                    {"type": "integer", "enum": [1, 2, 3]},
                    {"type": "string", "pattern": patterns::PCLASS}
                ]
            },
            "name": nullable(vec![json!({"type": "string"}), json!({"type": "number"})]),
            "sex": {"type": "string", "pattern": patterns::SEX, "description": "male or female, any case"},
            "age": nullable(vec![
                json!({"type": "number", "minimum": 0, "maximum": crate::validation::MAX_AGE}),
                json!({"type": "string", "pattern": patterns::AGE})
            ]),
            "sibsp": {
                "description": "Siblings and spouses aboard.",
                "anyOf": [
                    {"type": "integer", "minimum": 0, "maximum": crate::validation::MAX_RELATIVES},
                    {"type": "string", "pattern": patterns::RELATIVES}
                ]
            },
            "parch": {
                "description": "Parents and children aboard.",
                "anyOf": [
                    {"type": "integer", "minimum": 0, "maximum": crate::validation::MAX_RELATIVES},
                    {"type": "string", "pattern": patterns::RELATIVES}
                ]
            },
            "fare": nullable(vec![
                json!({"type": "number", "minimum": 0}),
                json!({"type": "string", "pattern": patterns::FARE})
            ]),
            "cabin": nullable(vec![json!({"type": "string"}), json!({"type": "number"})]),
            "embarked": nullable(vec![json!({"type": "string", "pattern": patterns::EMBARKED})]),
            "survived": {"description": "ignored"},
            "ticket": {"description": "ignored"},
            "boat": {"description": "ignored"},
            "body": {"description": "ignored"},
            "home.dest": {"description": "ignored"}
        },
        "example": {
            "pclass": 1, "name": "Allen, Miss. Elisabeth Walton", "sex": "female", "age": 29,
            "sibsp": 0, "parch": 0, "fare": 211.3375, "cabin": "B5", "embarked": "S"
        }
    })
}

/// A placeholder: utoipa's schema model cannot hold every construct of
/// [`json_schema`], so a service puts [`json_schema`] in place of this in the
/// document it serves.
#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for Passenger {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::RefOr::T(utoipa::openapi::schema::Schema::Object(
            utoipa::openapi::schema::ObjectBuilder::new()
                .description(Some("See `passenger::json_schema`"))
                .build(),
        ))
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for Passenger {}

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
        assert_eq!(p.fare, FieldValue::Missing);
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
    fn reads_csv_records() {
        let data = "pclass,survived,name,sex,age,cabin\n3,1,\"Doe, Mr. J\",male,?,\n";
        let mut r = csv::Reader::from_reader(data.as_bytes());
        let p: Passenger = r.deserialize().next().unwrap().unwrap();
        assert_eq!(p.pclass, FieldValue::Number(3.0));
        assert_eq!(p.age, FieldValue::Missing);
        assert_eq!(p.name, FieldValue::Text("Doe, Mr. J".into()));
    }
}
