//! Validation: raw [`Passenger`]s to prepared [`Record`]s, or every problem
//! with its row and field. Stricter than the reference (PIPELINE.md section 6).

use std::borrow::Cow;

use crate::data_preparation::{Record, cabin_token, title};
use crate::errors::{FieldError, FieldErrors};
use crate::passenger::{FieldValue, Passenger};

/// Inclusive bound on `age`, in years.
pub const MAX_AGE: f64 = 120.0;
/// Inclusive bound on `sibsp` and `parch`.
pub const MAX_RELATIVES: f64 = 20.0;

/// The strings each field accepts, exactly: plain decimals (no sign, no
/// exponent, no leading zeros) within the field's range, with optional
/// surrounding spaces; for optional fields also blank or `?` (missing).
/// The OpenAPI description of the API uses these same patterns.
pub mod patterns {
    /// `pclass`: 1, 2 or 3.
    pub const PCLASS: &str = r"^ *[123](\.0+)? *$";
    /// `sibsp` and `parch`: a whole number from 0 to 20.
    pub const RELATIVES: &str = r"^ *([0-9]|1[0-9]|20)(\.0+)? *$";
    /// `age`: a number from 0 to 120, or missing.
    pub const AGE: &str =
        r"^( *(([0-9]|[1-9][0-9]|1[01][0-9])(\.[0-9]{1,30})?|120(\.0{1,30})?)? *|\?)$";
    /// `fare`: a number of at least 0, or missing.
    pub const FARE: &str = r"^( *((0|[1-9][0-9]{0,30})(\.[0-9]{1,30})?)? *|\?)$";
    /// `sex`: male or female, in any case.
    pub const SEX: &str = r"^ *([Mm][Aa][Ll][Ee]|[Ff][Ee][Mm][Aa][Ll][Ee]) *$";
    /// `embarked`: C, Q or S, in any case, or missing.
    pub const EMBARKED: &str = r"^( *[CcQqSs]? *|\?)$";
}

struct Patterns {
    pclass: regex_lite::Regex,
    relatives: regex_lite::Regex,
    age: regex_lite::Regex,
    fare: regex_lite::Regex,
}

fn compiled() -> &'static Patterns {
    static PATTERNS: std::sync::OnceLock<Patterns> = std::sync::OnceLock::new();
    PATTERNS.get_or_init(|| {
        // the patterns are constants, checked by the tests below
        let re = |p| regex_lite::Regex::new(p).unwrap_or_else(|e| panic!("pattern {p}: {e}"));
        Patterns {
            pclass: re(patterns::PCLASS),
            relatives: re(patterns::RELATIVES),
            age: re(patterns::AGE),
            fare: re(patterns::FARE),
        }
    })
}

/// Validates and prepares every passenger; on failure lists every invalid field.
pub fn validate(passengers: &[Passenger]) -> Result<Vec<Record<'_>>, FieldErrors> {
    let mut records = Vec::with_capacity(passengers.len());
    let mut errors = Vec::new();
    for (row, p) in passengers.iter().enumerate() {
        match validate_one(row, p, &mut errors) {
            Some(r) if errors.is_empty() => records.push(r),
            _ => {}
        }
    }
    if errors.is_empty() {
        Ok(records)
    } else {
        Err(FieldErrors(errors))
    }
}

/// Validates one passenger (row `row`), pushing its problems to `errors`.
/// Returns the prepared record when the passenger is valid.
pub fn validate_one<'a>(
    row: usize,
    p: &'a Passenger,
    errors: &mut Vec<FieldError>,
) -> Option<Record<'a>> {
    let before = errors.len();
    let mut check = |field: &'static str, r: Result<(), String>| {
        if let Err(message) = r {
            errors.push(FieldError::new(row, field, message));
        }
    };
    let re = compiled();
    let mut pclass = 0.0;
    check(
        "pclass",
        required_number(&p.pclass, &re.pclass, "1, 2 or 3").and_then(|v| match v {
            1.0 | 2.0 | 3.0 => {
                pclass = v;
                Ok(())
            }
            _ => Err(format!("must be 1, 2 or 3, got {v}")),
        }),
    );
    let mut sex = None;
    check(
        "sex",
        match &p.sex {
            FieldValue::Text(t) if t.trim_matches(' ').eq_ignore_ascii_case("male") => {
                sex = Some("male");
                Ok(())
            }
            FieldValue::Text(t) if t.trim_matches(' ').eq_ignore_ascii_case("female") => {
                sex = Some("female");
                Ok(())
            }
            FieldValue::Text(t) if !t.trim_matches(' ').is_empty() => Err(format!(
                "must be \"male\" or \"female\", got {:?}",
                shorten(t)
            )),
            FieldValue::Text(_) | FieldValue::Missing => {
                Err("is required: \"male\" or \"female\"".into())
            }
            other => Err(format!(
                "must be \"male\" or \"female\", got {}",
                kind(other)
            )),
        },
    );
    let mut age = None;
    check(
        "age",
        optional_number(&p.age, &re.age, "a number from 0 to 120").and_then(|v| match v {
            Some(a) if !(0.0..=MAX_AGE).contains(&a) => {
                Err(format!("must be between 0 and {MAX_AGE} years, got {a}"))
            }
            _ => {
                age = v;
                Ok(())
            }
        }),
    );
    let mut relatives = [0.0; 2];
    for (i, (field, value)) in [("sibsp", &p.sibsp), ("parch", &p.parch)]
        .into_iter()
        .enumerate()
    {
        check(
            field,
            required_number(value, &re.relatives, "a whole number from 0 to 20").and_then(|v| {
                if (0.0..=MAX_RELATIVES).contains(&v) && v == f64::from(v as u8) {
                    relatives[i] = v;
                    Ok(())
                } else {
                    Err(format!(
                        "must be a whole number from 0 to {MAX_RELATIVES}, got {v}"
                    ))
                }
            }),
        );
    }
    let mut fare = None;
    check(
        "fare",
        optional_number(&p.fare, &re.fare, "a number of at least 0").and_then(|v| match v {
            Some(f) if f < 0.0 => Err(format!("must be 0 or more, got {f}")),
            _ => {
                fare = v;
                Ok(())
            }
        }),
    );
    let mut cabin = None;
    check(
        "cabin",
        match &p.cabin {
            FieldValue::Missing => Ok(()),
            FieldValue::Text(t) => {
                cabin = cabin_token(t).map(Cow::Borrowed);
                Ok(())
            }
            FieldValue::Number(n) => {
                cabin = Some(Cow::Owned(n.to_string()));
                Ok(())
            }
            other => Err(format!("must be text, got {}", kind(other))),
        },
    );
    let mut embarked = None;
    check(
        "embarked",
        match &p.embarked {
            FieldValue::Missing => Ok(()),
            FieldValue::Text(t) => match t.trim_matches(' ') {
                "" => Ok(()),
                e if e.eq_ignore_ascii_case("c") => {
                    embarked = Some("C");
                    Ok(())
                }
                e if e.eq_ignore_ascii_case("q") => {
                    embarked = Some("Q");
                    Ok(())
                }
                e if e.eq_ignore_ascii_case("s") => {
                    embarked = Some("S");
                    Ok(())
                }
                e => Err(format!(
                    "must be \"C\", \"Q\" or \"S\", got {:?}",
                    shorten(e)
                )),
            },
            other => Err(format!(
                "must be \"C\", \"Q\" or \"S\", got {}",
                kind(other)
            )),
        },
    );
    let mut name_title = None;
    check(
        "name",
        match &p.name {
            FieldValue::Missing => Ok(()),
            FieldValue::Text(t) => {
                name_title = Some(title(t));
                Ok(())
            }
            FieldValue::Number(_) => {
                name_title = Some("Other");
                Ok(())
            }
            other => Err(format!("must be text, got {}", kind(other))),
        },
    );
    (errors.len() == before).then_some(Record {
        pclass,
        sex,
        age,
        sibsp: relatives[0],
        parch: relatives[1],
        fare,
        cabin,
        embarked,
        title: name_title,
    })
}

fn kind(v: &FieldValue) -> String {
    match v {
        FieldValue::Missing => "nothing".into(),
        FieldValue::Number(n) => format!("the number {n}"),
        FieldValue::Text(t) => format!("{:?}", shorten(t)),
        FieldValue::Invalid(k) => (*k).into(),
    }
}

/// At most 40 characters of user text, for messages.
fn shorten(t: &str) -> Cow<'_, str> {
    match t.char_indices().nth(40) {
        None => Cow::Borrowed(t),
        Some((i, _)) => Cow::Owned(format!("{}…", &t[..i])),
    }
}

/// A number from a JSON number, or from a string matching `pattern`
/// (`expected` says what it accepts); `None` when missing.
fn optional_number(
    v: &FieldValue,
    pattern: &regex_lite::Regex,
    expected: &str,
) -> Result<Option<f64>, String> {
    let n = match v {
        FieldValue::Missing => return Ok(None),
        FieldValue::Number(n) => *n,
        FieldValue::Text(t) => {
            if !pattern.is_match(t) {
                return Err(format!(
                    "must be {expected}, as a JSON number or a plain decimal string, got {:?}",
                    shorten(t)
                ));
            }
            let t = t.trim_matches(' ');
            if t.is_empty() || t == "?" {
                return Ok(None);
            }
            t.parse::<f64>()
                .map_err(|_| format!("must be {expected}, got {:?}", shorten(t)))?
        }
        other => return Err(format!("must be {expected}, got {}", kind(other))),
    };
    if n.is_finite() {
        Ok(Some(n))
    } else {
        Err(format!("must be a finite number, got {n}"))
    }
}

fn required_number(
    v: &FieldValue,
    pattern: &regex_lite::Regex,
    expected: &str,
) -> Result<f64, String> {
    optional_number(v, pattern, expected)?.ok_or_else(|| format!("is required: {expected}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid() -> Passenger {
        Passenger {
            pclass: 3.into(),
            sex: "male".into(),
            age: 22.into(),
            sibsp: 1.into(),
            parch: 0.into(),
            fare: 7.25.into(),
            ..Default::default()
        }
    }

    fn errors_of(p: Passenger) -> Vec<(usize, String)> {
        match validate(&[valid(), p]) {
            Ok(_) => vec![],
            Err(e) => e.0.into_iter().map(|e| (e.row, e.field)).collect(),
        }
    }

    #[test]
    fn accepts_a_valid_passenger_and_prepares_it() {
        let p = Passenger {
            sex: " FeMale ".into(),
            embarked: "s".into(),
            cabin: "  C22 C26".into(),
            name: "Allison, Mrs. X".into(),
            sibsp: "2".into(),
            ..valid()
        };
        let r = validate(std::slice::from_ref(&p)).unwrap().remove(0);
        assert_eq!(r.sex, Some("female"));
        assert_eq!(r.embarked, Some("S"));
        assert_eq!(r.cabin.as_deref(), Some("C22"));
        assert_eq!(r.title, Some("Mrs"));
        assert_eq!(r.sibsp, 2.0);
    }

    #[test]
    fn missing_optional_fields_stay_missing() {
        let p = Passenger {
            age: "?".into(),
            fare: FieldValue::Missing,
            cabin: " ".into(),
            embarked: "".into(),
            ..valid()
        };
        let r = validate(std::slice::from_ref(&p)).unwrap().remove(0);
        assert_eq!(
            (r.age, r.fare, r.cabin, r.embarked, r.title),
            (None, None, None, None, None)
        );
    }

    #[test]
    fn rejects_each_bad_field_with_row_and_name() {
        let cases: Vec<(Passenger, &str)> = vec![
            (
                Passenger {
                    pclass: 7.into(),
                    ..valid()
                },
                "pclass",
            ),
            (
                Passenger {
                    pclass: 1.5.into(),
                    ..valid()
                },
                "pclass",
            ),
            (
                Passenger {
                    pclass: FieldValue::Missing,
                    ..valid()
                },
                "pclass",
            ),
            (
                Passenger {
                    sex: "Mal".into(),
                    ..valid()
                },
                "sex",
            ),
            (
                Passenger {
                    sex: FieldValue::Missing,
                    ..valid()
                },
                "sex",
            ),
            (
                Passenger {
                    sex: 1.into(),
                    ..valid()
                },
                "sex",
            ),
            (
                Passenger {
                    age: (-5).into(),
                    ..valid()
                },
                "age",
            ),
            (
                Passenger {
                    age: 121.into(),
                    ..valid()
                },
                "age",
            ),
            (
                Passenger {
                    age: f64::NAN.into(),
                    ..valid()
                },
                "age",
            ),
            (
                Passenger {
                    age: "inf".into(),
                    ..valid()
                },
                "age",
            ),
            (
                Passenger {
                    age: "twenty".into(),
                    ..valid()
                },
                "age",
            ),
            (
                Passenger {
                    age: FieldValue::Invalid("a boolean"),
                    ..valid()
                },
                "age",
            ),
            (
                Passenger {
                    sibsp: 21.into(),
                    ..valid()
                },
                "sibsp",
            ),
            (
                Passenger {
                    parch: 0.5.into(),
                    ..valid()
                },
                "parch",
            ),
            (
                Passenger {
                    fare: (-1).into(),
                    ..valid()
                },
                "fare",
            ),
            (
                Passenger {
                    fare: f64::INFINITY.into(),
                    ..valid()
                },
                "fare",
            ),
            (
                Passenger {
                    embarked: "X".into(),
                    ..valid()
                },
                "embarked",
            ),
            (
                Passenger {
                    cabin: FieldValue::Invalid("an array"),
                    ..valid()
                },
                "cabin",
            ),
            (
                Passenger {
                    name: FieldValue::Invalid("an object"),
                    ..valid()
                },
                "name",
            ),
        ];
        for (p, field) in cases {
            assert_eq!(errors_of(p.clone()), [(1, field.to_owned())], "{p:?}");
        }
    }

    #[test]
    fn numeric_strings_follow_the_documented_patterns() {
        let ok = |p: Passenger| validate(std::slice::from_ref(&p)).is_ok();
        for pclass in ["1", " 2 ", "3.0", "3.000"] {
            assert!(
                ok(Passenger {
                    pclass: pclass.into(),
                    ..valid()
                }),
                "{pclass}"
            );
        }
        for pclass in ["0", "4", "01", "1e0", "+1", "-1", "1.5", "\t1", "?", ""] {
            assert!(
                !ok(Passenger {
                    pclass: pclass.into(),
                    ..valid()
                }),
                "{pclass}"
            );
        }
        for age in ["0", "0.5", "29", "119.999", "120", "120.00", "", "  ", "?"] {
            assert!(
                ok(Passenger {
                    age: age.into(),
                    ..valid()
                }),
                "{age}"
            );
        }
        for age in [
            "120.01", "121", "-1", "-0", "1e2", "NaN", "inf", "05", ".5", "5.",
        ] {
            assert!(
                !ok(Passenger {
                    age: age.into(),
                    ..valid()
                }),
                "{age}"
            );
        }
        for sibsp in ["0", "20", "7.0"] {
            assert!(
                ok(Passenger {
                    sibsp: sibsp.into(),
                    ..valid()
                }),
                "{sibsp}"
            );
        }
        for sibsp in ["21", "2.5", "-0", ""] {
            assert!(
                !ok(Passenger {
                    sibsp: sibsp.into(),
                    ..valid()
                }),
                "{sibsp}"
            );
        }
        for fare in ["0", "512.3292", "99999999", " 7.25 "] {
            assert!(
                ok(Passenger {
                    fare: fare.into(),
                    ..valid()
                }),
                "{fare}"
            );
        }
        for fare in ["-0.01", "1e400", "7,25", "0x10"] {
            assert!(
                !ok(Passenger {
                    fare: fare.into(),
                    ..valid()
                }),
                "{fare}"
            );
        }
    }

    #[test]
    fn text_patterns_match_what_validation_accepts() {
        let re = |p| regex_lite::Regex::new(p).unwrap();
        let (sex, embarked) = (re(patterns::SEX), re(patterns::EMBARKED));
        for s in ["male", " FeMale ", "MALE"] {
            assert!(sex.is_match(s));
            assert!(
                validate(&[Passenger {
                    sex: s.into(),
                    ..valid()
                }])
                .is_ok()
            );
        }
        for s in ["m", "males", "\tmale", ""] {
            assert!(!sex.is_match(s));
            assert!(
                validate(&[Passenger {
                    sex: s.into(),
                    ..valid()
                }])
                .is_err()
            );
        }
        for e in ["C", "q", " S ", "", "?"] {
            assert!(embarked.is_match(e));
            assert!(
                validate(&[Passenger {
                    embarked: e.into(),
                    ..valid()
                }])
                .is_ok()
            );
        }
        for e in ["X", "CQ", "\tC"] {
            assert!(!embarked.is_match(e));
            assert!(
                validate(&[Passenger {
                    embarked: e.into(),
                    ..valid()
                }])
                .is_err()
            );
        }
    }

    #[test]
    fn lists_every_problem() {
        let p = Passenger {
            pclass: 0.into(),
            sex: "x".into(),
            age: (-1).into(),
            ..valid()
        };
        assert_eq!(errors_of(p).len(), 3);
    }
}

/// What one input feature accepts: for documentation and `/model`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FeatureSpec {
    /// The dataset's column name.
    pub name: &'static str,
    /// `integer`, `number` or `string`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Whether a value must be given.
    pub required: bool,
    /// The accepted values, where there is a fixed set (strings match any case).
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Vec<serde_json::Value>>))]
    pub allowed_values: Option<Vec<serde_json::Value>>,
    /// Smallest accepted number.
    pub minimum: Option<f64>,
    /// Largest accepted number.
    pub maximum: Option<f64>,
    /// What it is.
    pub description: &'static str,
}

/// The features [`validate`] checks, in the dataset's order.
pub fn feature_specs() -> Vec<FeatureSpec> {
    use serde_json::json;
    let spec =
        |name, kind, required, allowed: Option<Vec<serde_json::Value>>, min, max, description| {
            FeatureSpec {
                name,
                kind,
                required,
                allowed_values: allowed,
                minimum: min,
                maximum: max,
                description,
            }
        };
    vec![
        spec(
            "pclass",
            "integer",
            true,
            Some(vec![json!(1), json!(2), json!(3)]),
            Some(1.0),
            Some(3.0),
            "ticket class",
        ),
        spec(
            "name",
            "string",
            false,
            None,
            None,
            None,
            "full name; its title (Mr, Mrs, Miss, Master, other) is a feature",
        ),
        spec(
            "sex",
            "string",
            true,
            Some(vec![json!("male"), json!("female")]),
            None,
            None,
            "sex (any case)",
        ),
        spec(
            "age",
            "number",
            false,
            None,
            Some(0.0),
            Some(MAX_AGE),
            "age in years",
        ),
        spec(
            "sibsp",
            "integer",
            true,
            None,
            Some(0.0),
            Some(MAX_RELATIVES),
            "siblings and spouses aboard",
        ),
        spec(
            "parch",
            "integer",
            true,
            None,
            Some(0.0),
            Some(MAX_RELATIVES),
            "parents and children aboard",
        ),
        spec("fare", "number", false, None, Some(0.0), None, "fare paid"),
        spec(
            "cabin",
            "string",
            false,
            None,
            None,
            None,
            "cabin; its first letter is a feature; blank means missing",
        ),
        spec(
            "embarked",
            "string",
            false,
            Some(vec![json!("C"), json!("Q"), json!("S")]),
            None,
            None,
            "port of embarkation (any case)",
        ),
    ]
}
