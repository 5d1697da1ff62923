//! Python values as raw field values: what a JSON value would be. `None`,
//! NaN, `pandas.NA` and `NaT` are missing (pandas' missing values); a bool
//! is kept as invalid, so that the model crate names its row and field.

use classification_model::FieldValue;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyFloat, PyInt, PyString};

/// `value` as a raw field value.
pub fn field_value(value: &Bound<'_, PyAny>) -> FieldValue {
    if value.is_none() {
        return FieldValue::Missing;
    }
    if let Ok(s) = value.cast::<PyString>() {
        return match s.to_cow() {
            Ok(t) => FieldValue::Text(t.into_owned()),
            Err(_) => FieldValue::Invalid("text that is not valid Unicode"),
        };
    }
    if value.is_instance_of::<PyBool>() {
        return FieldValue::Invalid("a boolean");
    }
    if value.is_instance_of::<PyInt>() {
        // beyond i64 a whole number is still a number (and out of range)
        return match value.extract::<i64>() {
            Ok(n) => FieldValue::Number(n as f64),
            Err(_) => value.extract::<f64>().map_or(
                FieldValue::Invalid("a whole number too large to read"),
                FieldValue::Number,
            ),
        };
    }
    if value.is_instance_of::<PyFloat>() {
        return FieldValue::from_column(value.extract::<f64>().unwrap_or(f64::NAN));
    }
    match type_name(value).as_deref() {
        // pandas' missing markers
        Some("NAType" | "NaTType") => FieldValue::Missing,
        Some(name) if name.starts_with("bool") => FieldValue::Invalid("a boolean"),
        // numpy's scalars (int64, float32, ...): numbers that are not int or float
        Some(name) if is_numpy_number(name) => match value.extract::<f64>() {
            Ok(n) => FieldValue::from_column(n),
            Err(_) => FieldValue::Invalid("a number that cannot be read"),
        },
        Some("list" | "tuple") => FieldValue::Invalid("a list"),
        Some("dict") => FieldValue::Invalid("an object"),
        Some("bytes") => FieldValue::Invalid("bytes"),
        _ => FieldValue::Invalid("a value that is neither a number nor text"),
    }
}

fn type_name(value: &Bound<'_, PyAny>) -> Option<String> {
    value.get_type().name().ok().map(|n| n.to_string())
}

fn is_numpy_number(name: &str) -> bool {
    let digits = |prefix: &str| {
        name.strip_prefix(prefix)
            .is_some_and(|rest| rest.bytes().all(|b| b.is_ascii_digit()))
    };
    digits("int") || digits("uint") || digits("float") || name == "longlong" || name == "ulonglong"
}
