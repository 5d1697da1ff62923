//! The JSON Schema of a record, derived from the field table: exactly what
//! [`Field::check`] accepts, so a schema-driven client or fuzzer and the
//! validator cannot disagree. Text alternatives carry patterns that encode
//! the text rules (`docs/PIPELINE.md`, "Input rules") and each field's range.

use serde_json::{Value, json};

use crate::fields::{FIELDS, Field, IGNORED_COLUMNS, Kind};

const PAD: &str = "[ \\t]*";
/// `-0` written any way the text rules allow.
const NEGATIVE_ZERO: &str = "-(?:0+(?:\\.0*)?|\\.0+)";

/// The JSON Schema of one record, keyed by the dataset's column names.
pub fn json_schema() -> Value {
    let mut properties = serde_json::Map::new();
    for field in &FIELDS {
        properties.insert(field.name.to_owned(), field_schema(field));
    }
    for column in IGNORED_COLUMNS {
        properties.insert(column.to_owned(), json!({"description": "ignored"}));
    }
    let required: Vec<&str> = FIELDS
        .iter()
        .filter(|f| f.required)
        .map(|f| f.name)
        .collect();
    json!({
        "type": "object",
        "description": "One passenger, keyed by the dataset's column names. A missing value may be \
    absent, null, blank or \"?\". Numbers may be JSON numbers or plain decimal strings (no exponent); \
    spaces and tabs around text are ignored. The dataset's other columns are accepted and ignored; \
    any other key is an error.",
        // `required` sits in `allOf`: the same constraint, in a form that
        // schemathesis' coverage phase applies at the right level
        "allOf": [{"required": required}],
        "additionalProperties": false,
        "properties": properties,
        "example": {
            "pclass": 1, "name": "Allen, Miss. Elisabeth Walton", "sex": "female", "age": 29,
            "sibsp": 0, "parch": 0, "fare": 211.3375, "cabin": "B5", "embarked": "S"
        }
    })
}

/// The schema of one field's value.
pub fn field_schema(field: &Field) -> Value {
    let mut alternatives = match field.kind {
        Kind::Integer { min, max } => vec![
            json!({"type": "integer", "minimum": min, "maximum": max}),
            text(field, &integer_pattern(min, max)),
        ],
        Kind::Number { max } => {
            let mut number = json!({"type": "number", "minimum": 0});
            if let Some(max) = max {
                number["maximum"] = json!(max);
            }
            vec![number, text(field, &number_pattern(max))]
        }
        Kind::Choice(labels) => {
            let labels: Vec<String> = labels.iter().map(|l| any_case(l)).collect();
            vec![text(field, &labels.join("|"))]
        }
        Kind::Text => vec![json!({"type": "string"}), json!({"type": "number"})],
    };
    if !field.required {
        alternatives.push(json!({"type": "null"}));
    }
    json!({"description": field.description, "anyOf": alternatives})
}

/// A string schema: `value` padded, or for an optional field also blank or `?`.
fn text(field: &Field, value: &str) -> Value {
    let pattern = if field.required {
        format!("^{PAD}(?:{value}){PAD}$")
    } else {
        format!("^{PAD}(?:{value}|\\?)?{PAD}$")
    };
    json!({"type": "string", "pattern": pattern})
}

/// Plain decimals equal to a whole number from `min` to `max` (`min` >= 0).
fn integer_pattern(min: i64, max: i64) -> String {
    let range = if min == 0 {
        up_to(max)
    } else {
        (min..=max)
            .map(|n| n.to_string())
            .collect::<Vec<_>>()
            .join("|")
    };
    let mut alternatives = vec![format!("\\+?0*(?:{range})(?:\\.0*)?")];
    if min == 0 {
        alternatives.push("\\+?\\.0+".into());
        alternatives.push(NEGATIVE_ZERO.into());
    }
    alternatives.join("|")
}

/// Plain decimals from 0 to `max` (no bound when `None`).
fn number_pattern(max: Option<i64>) -> String {
    let any = "\\+?(?:[0-9]+(?:\\.[0-9]*)?|\\.[0-9]+)".to_owned();
    let Some(max) = max.filter(|m| *m > 0) else {
        return match max {
            None => format!("{any}|{NEGATIVE_ZERO}"),
            Some(_) => integer_pattern(0, 0),
        };
    };
    [
        format!("\\+?0*(?:{})(?:\\.[0-9]*)?", up_to(max - 1)),
        format!("\\+?0*{max}(?:\\.0*)?"),
        "\\+?\\.[0-9]+".to_owned(),
        NEGATIVE_ZERO.to_owned(),
    ]
    .join("|")
}

/// The whole numbers from 0 to `n`, without leading zeros.
fn up_to(n: i64) -> String {
    let digits: Vec<u8> = n.to_string().bytes().map(|b| b - b'0').collect();
    let len = digits.len();
    let mut alternatives = vec!["[0-9]".to_owned()];
    alternatives.extend((2..len).map(|k| format!("[1-9][0-9]{{{}}}", k - 1)));
    if len > 1 {
        for (i, &d) in digits.iter().enumerate() {
            let low = u8::from(i == 0);
            if d > low {
                let prefix: String = digits[..i].iter().map(|d| (b'0' + d) as char).collect();
                let rest = len - i - 1;
                let tail = if rest > 0 {
                    format!("[0-9]{{{rest}}}")
                } else {
                    String::new()
                };
                alternatives.push(format!("{prefix}[{low}-{}]{tail}", d - 1));
            }
        }
        alternatives.push(n.to_string());
    } else {
        alternatives[0] = format!("[0-{n}]");
    }
    alternatives.join("|")
}

/// A label matched in any case (JSON Schema patterns have no flags).
fn any_case(label: &str) -> String {
    label
        .chars()
        .map(|c| {
            if c.is_ascii_alphabetic() {
                format!("[{}{}]", c.to_ascii_uppercase(), c.to_ascii_lowercase())
            } else if c.is_ascii_alphanumeric() {
                c.to_string()
            } else {
                format!("\\{c}")
            }
        })
        .collect()
}

/// A placeholder: utoipa's schema model cannot hold every construct of
/// [`json_schema`], so a service puts [`json_schema`] in place of this in the
/// document it serves.
#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for crate::Passenger {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::RefOr::T(utoipa::openapi::schema::Schema::Object(
            utoipa::openapi::schema::ObjectBuilder::new()
                .description(Some("See `classification_model::schema::json_schema`"))
                .build(),
        ))
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for crate::Passenger {}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(pattern: &str, text: &str) -> bool {
        regex_lite::Regex::new(&format!("^(?:{pattern})$"))
            .unwrap()
            .is_match(text)
    }

    #[test]
    fn up_to_is_exact() {
        for n in [0, 1, 3, 9, 10, 19, 20, 99, 100, 119, 120, 1000] {
            let p = up_to(n);
            for k in 0..=1100 {
                assert_eq!(matches(&p, &k.to_string()), k <= n, "{k} in 0..={n}: {p}");
            }
            assert!(!matches(&p, "01"));
        }
    }

    #[test]
    fn the_schema_names_every_column() {
        let s = json_schema();
        assert_eq!(s["properties"].as_object().unwrap().len(), 14);
        assert_eq!(
            s["allOf"][0]["required"],
            json!(["pclass", "sex", "sibsp", "parch"])
        );
    }

    #[test]
    fn no_required_free_text() {
        // `text` could not express "not blank" for free text; nothing needs it
        assert!(!FIELDS.iter().any(|f| f.required && f.kind == Kind::Text));
    }
}
