//! Request bodies for `cargo xtask loadtest --v2`: the same passengers as
//! `/predict` records, as V2 JSON tensors, and as V2 binary tensors (one
//! input per field; each value as its field reads it).

use classification_model::{
    Passenger,
    schema::{Checked, FIELDS, Kind},
};
use serde_json::{Value, json};

use crate::wrk::Body;

/// A field's values, typed as its kind reads them.
fn column(passengers: &[Passenger], i: usize) -> Vec<Value> {
    passengers
        .iter()
        .map(|p| match FIELDS[i].check(p.values()[i]) {
            Ok(Checked::Number(n)) if matches!(FIELDS[i].kind, Kind::Integer { .. }) => {
                json!(n as i64)
            }
            Ok(Checked::Number(n)) if matches!(FIELDS[i].kind, Kind::Number { .. }) => json!(n),
            Ok(Checked::Number(n)) => json!(n.to_string()),
            Ok(Checked::Label(l)) => json!(l),
            Ok(Checked::Text(t)) => json!(t),
            Ok(Checked::Missing) | Err(_) => Value::Null,
        })
        .collect()
}

fn datatype(i: usize) -> &'static str {
    match FIELDS[i].kind {
        Kind::Integer { .. } => "INT64",
        Kind::Number { .. } => "FP64",
        Kind::Choice(_) | Kind::Text => "BYTES",
    }
}

/// `{"inputs": [records]}` for `/predict`.
pub fn records(name: &str, passengers: &[Passenger]) -> Body {
    let columns: Vec<Vec<Value>> = (0..FIELDS.len()).map(|i| column(passengers, i)).collect();
    let records: Vec<Value> = (0..passengers.len())
        .map(|row| {
            Value::Object(
                FIELDS
                    .iter()
                    .zip(&columns)
                    .map(|(f, c)| (f.name.to_owned(), c[row].clone()))
                    .collect(),
            )
        })
        .collect();
    Body {
        name: name.to_owned(),
        content_type: "application/json",
        bytes: json!({ "inputs": records }).to_string().into_bytes(),
        header_length: None,
    }
}

/// A V2 request with JSON tensors (`null` for missing).
pub fn json(name: &str, passengers: &[Passenger]) -> Body {
    let n = passengers.len();
    let inputs: Vec<Value> = (0..FIELDS.len())
        .map(|i| {
            json!({"name": FIELDS[i].name, "shape": [n], "datatype": datatype(i),
                   "data": column(passengers, i)})
        })
        .collect();
    Body {
        name: name.to_owned(),
        content_type: "application/json",
        bytes: json!({ "inputs": inputs }).to_string().into_bytes(),
        header_length: None,
    }
}

/// A V2 request with binary tensors in and out (a missing number is NaN,
/// missing text is empty; the whole-number fields are all required).
pub fn binary(name: &str, passengers: &[Passenger]) -> Body {
    let n = passengers.len();
    let mut data = Vec::new();
    let mut inputs = Vec::new();
    for (i, field) in FIELDS.iter().enumerate() {
        let start = data.len();
        for v in column(passengers, i) {
            match datatype(i) {
                "INT64" => data.extend_from_slice(&v.as_i64().unwrap_or(0).to_le_bytes()),
                "FP64" => data.extend_from_slice(&v.as_f64().unwrap_or(f64::NAN).to_le_bytes()),
                _ => {
                    let text = v.as_str().unwrap_or_default();
                    data.extend_from_slice(&(text.len() as u32).to_le_bytes());
                    data.extend_from_slice(text.as_bytes());
                }
            }
        }
        inputs.push(
            json!({"name": field.name, "shape": [n], "datatype": datatype(i),
                           "parameters": {"binary_data_size": data.len() - start}}),
        );
    }
    let header = json!({"inputs": inputs, "parameters": {"binary_data_output": true}}).to_string();
    let mut bytes = header.clone().into_bytes();
    bytes.extend_from_slice(&data);
    Body {
        name: name.to_owned(),
        content_type: "application/octet-stream",
        bytes,
        header_length: Some(header.len()),
    }
}
