//! What an Open Inference Protocol (V2) `infer` request brings: its JSON
//! header, the binary tensor data after it (Triton's extension), and the
//! passengers read from its inputs by MLServer's pandas convention (one
//! input per dataset column, `[N]` or `[N, 1]`, `null` for missing).

use std::borrow::Cow;

use classification_model::schema::{Column, FIELDS};
use classification_model::{FieldValue, Passenger};
use serde::Deserialize;
use warp::http::HeaderMap;

use crate::http::errors::{ApiError, ErrorItem, shorten};
use crate::http::ids::{ID_KEY, check_ids};
use crate::http::input::Batch;
use crate::v2::tensor::{self, Datatype, Elements, INPUT_DATATYPES};

/// The header giving the length of the JSON part of a body with binary data.
pub const HEADER_LENGTH: &str = "inference-header-content-length";

/// An `infer` request's JSON part.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct InferRequest<'a> {
    /// An id for the request, echoed in the response.
    #[serde(default)]
    pub id: Option<String>,
    /// `explain: true` adds the explanation outputs; `binary_data_output:
    /// true` answers every output as binary data; others are accepted and
    /// ignored.
    #[serde(default)]
    pub parameters: Parameters,
    /// One input per dataset column, by its name: `pclass`, `sex`, `sibsp`
    /// and `parch` are required; `id` carries each record's own id. Every
    /// input has the same N rows, and its data N values.
    #[schema(min_items = 1)]
    #[serde(borrow)]
    pub inputs: Vec<RequestInput<'a>>,
    /// The outputs to answer, in this order (default: `predictions`,
    /// `probabilities` and `ids`, then with `explain` the explanations).
    #[serde(default)]
    pub outputs: Option<Vec<RequestOutput>>,
}

/// The parameters this service reads; any others are accepted and ignored.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct Parameters {
    /// Request: add the explanation outputs.
    #[serde(default)]
    pub explain: Option<bool>,
    /// Request: answer every output as binary data unless the output says
    /// otherwise.
    #[serde(default)]
    pub binary_data_output: Option<bool>,
    /// Requested output: answer it as binary data.
    #[serde(default)]
    pub binary_data: Option<bool>,
    /// Input: its data is this many bytes of the binary part.
    #[serde(default)]
    pub binary_data_size: Option<u64>,
}

/// One input tensor: one dataset column.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct RequestInput<'a> {
    /// The column's name.
    #[serde(borrow)]
    #[schema(value_type = String)]
    pub name: Cow<'a, str>,
    /// `[N]` or `[N, 1]`.
    #[schema(min_items = 1, max_items = 2)]
    pub shape: Vec<i64>,
    /// `BYTES`, `INT64`, `INT32`, `FP64` or `FP32`.
    #[serde(borrow)]
    #[schema(value_type = String)]
    pub datatype: Cow<'a, str>,
    /// `binary_data_size` when the data is in the binary part.
    #[serde(default)]
    pub parameters: Parameters,
    /// The N values, flat or nested; `null` is missing.
    #[serde(default)]
    #[schema(value_type = Option<Vec<serde_json::Value>>)]
    pub data: Option<Elements>,
}

/// An output the request asks for.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct RequestOutput {
    /// The output's name.
    pub name: String,
    /// `binary_data: true` answers it as binary data.
    #[serde(default)]
    pub parameters: Parameters,
}

/// A parsed request: the records, and what to answer.
#[derive(Debug)]
pub struct Infer {
    /// The passengers and their ids.
    pub batch: Batch,
    /// The request's own `id`, if it gave one.
    pub id: Option<String>,
    /// Whether explanations were asked for.
    pub explain: bool,
    /// Outputs asked for by name, each with whether it goes as binary data;
    /// `None` for the default set.
    pub outputs: Option<Vec<(String, bool)>>,
    /// Whether outputs not asked for by name go as binary data.
    pub binary_output: bool,
}

/// Splits a body into its JSON header and binary part by
/// `Inference-Header-Content-Length` (absent: all JSON).
fn split<'a>(headers: &HeaderMap, body: &'a [u8]) -> Result<(&'a [u8], &'a [u8]), ApiError> {
    let Some(value) = headers.get(HEADER_LENGTH) else {
        return Ok((body, &[]));
    };
    let n = value
        .to_str()
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|n| *n <= body.len())
        .ok_or_else(|| {
            bad(
                "Inference-Header-Content-Length",
                format!(
                    "must be the length of the JSON part, a whole number of at most the body's {} bytes",
                    body.len()
                ),
            )
        })?;
    Ok(body.split_at(n))
}

fn bad(field: &str, message: impl Into<String>) -> ApiError {
    ApiError::BadRequest(vec![ErrorItem::field(field, message)])
}

/// A problem with one input as a whole: `input "age" has ...`.
fn bad_input(name: &str, message: impl std::fmt::Display) -> ApiError {
    ApiError::BadRequest(vec![input_item(name, message)])
}

fn input_item(name: &str, message: impl std::fmt::Display) -> ErrorItem {
    ErrorItem::message(format!("input {:?} {message}", shorten(name)))
}

/// One input tensor, whichever protocol brought it (REST's JSON, or gRPC).
#[derive(Debug)]
pub struct Tensor<'a> {
    /// The input's name: a dataset column, or `id`.
    pub name: Cow<'a, str>,
    /// Its shape: `[N]` or `[N, 1]`.
    pub shape: Vec<i64>,
    /// Its datatype's protocol name.
    pub datatype: Cow<'a, str>,
    /// Its values.
    pub data: TensorData<'a>,
}

/// An input tensor's values, as its protocol carries them.
#[derive(Debug)]
pub enum TensorData<'a> {
    /// Elements (REST's JSON `data`, gRPC's typed `contents`).
    Elements(Elements),
    /// Triton's binary encoding (REST's binary part, gRPC's raw contents).
    Binary(&'a [u8]),
    /// No usable values: what is wrong, said of the input.
    Unusable(String),
}

/// Reads an `infer` body (with `headers` for its binary part, if any) of
/// at most `max_rows` rows (413 beyond, before anything is allocated).
pub fn parse(headers: &HeaderMap, body: &[u8], max_rows: usize) -> Result<Infer, ApiError> {
    let (json, mut binary) = split(headers, body)?;
    let request: InferRequest = serde_json::from_slice(json).map_err(|e| {
        bad(
            "body",
            format!("the body must be an inference request: {e}"),
        )
    })?;
    let InferRequest {
        id,
        parameters,
        inputs,
        outputs,
    } = request;
    let mut tensors = Vec::with_capacity(inputs.len());
    for input in inputs {
        let data = match (input.parameters.binary_data_size, input.data) {
            (Some(_), Some(_)) => {
                TensorData::Unusable("has both data and binary_data_size: send one".into())
            }
            (None, None) => TensorData::Unusable("has no data".into()),
            (Some(size), None) => match usize::try_from(size).ok().filter(|s| *s <= binary.len()) {
                Some(size) => {
                    let (data, rest) = binary.split_at(size);
                    binary = rest;
                    TensorData::Binary(data)
                }
                None => TensorData::Unusable(format!(
                    "declares {size} bytes of binary data, but only {} are left",
                    binary.len()
                )),
            },
            (None, Some(elements)) => TensorData::Elements(elements),
        };
        tensors.push(Tensor {
            name: input.name,
            shape: input.shape,
            datatype: input.datatype,
            data,
        });
    }
    let batch = columns(tensors, max_rows, binary.len())?;
    let binary_output = parameters.binary_data_output == Some(true);
    let outputs = outputs.map(|outputs| {
        outputs
            .into_iter()
            .map(|o| (o.name, o.parameters.binary_data.unwrap_or(binary_output)))
            .collect()
    });
    Ok(Infer {
        batch,
        id,
        explain: parameters.explain == Some(true),
        outputs,
        binary_output,
    })
}

/// The passengers and ids the input tensors give, one tensor per dataset
/// column (and `id`), of at most `max_rows` rows (413 beyond, before
/// anything is allocated). `leftover` counts binary bytes no input took.
pub fn columns(
    tensors: Vec<Tensor<'_>>,
    max_rows: usize,
    leftover: usize,
) -> Result<Batch, ApiError> {
    let n = rows(&tensors)?;
    if n > max_rows {
        return Err(ApiError::TooLarge(ErrorItem::field(
            "inputs",
            format!(
                "have {n} rows, more than the {max_rows} one request may carry: split the batch"
            ),
        )));
    }
    let mut passengers = vec![Passenger::default(); n];
    let mut ids = None;
    // the columns given, as bits (Column::bit), and whether `id` was
    let (mut seen, mut seen_id) = (0u32, false);
    let mut items = Vec::new();
    for input in tensors {
        let name = input.name.as_ref();
        let column = Column::of(name);
        if column.is_none() && name != ID_KEY {
            return Err(bad_input(
                name,
                format!(
                    "is no input of this model: the inputs are the dataset's columns ({}) and {ID_KEY}",
                    classification_model::schema::column_names()
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        let repeated = match column {
            Some(c) => {
                let bit = 1u32 << c.position();
                let before = seen;
                seen |= bit;
                before & bit != 0
            }
            None => std::mem::replace(&mut seen_id, true),
        };
        if repeated {
            return Err(bad_input(name, "is given more than once"));
        }
        let datatype = Datatype::parse(&input.datatype).ok_or_else(|| {
            bad_input(
                name,
                format!(
                    "has datatype {:?}: send {INPUT_DATATYPES}",
                    shorten(&input.datatype)
                ),
            )
        })?;
        if column.is_none() {
            ids = Some(vec![None; n]);
        }
        match input.data {
            TensorData::Unusable(why) => return Err(bad_input(name, why)),
            TensorData::Binary(data) => {
                let values =
                    tensor::binary_values(datatype, n, data).map_err(|e| bad_input(name, e))?;
                for (row, v) in values.into_iter().enumerate() {
                    place(column, row, v, &mut passengers, &mut ids, &mut items);
                }
            }
            TensorData::Elements(Elements(elements)) => {
                if elements.len() != n {
                    return Err(bad_input(
                        name,
                        format!("has {} values for its shape's {n} rows", elements.len()),
                    ));
                }
                for (row, element) in elements.into_iter().enumerate() {
                    match tensor::json_value(datatype, element) {
                        Ok(v) => place(column, row, v, &mut passengers, &mut ids, &mut items),
                        Err(e) => items.push(ErrorItem::at(row, name, e)),
                    }
                }
            }
        }
    }
    if leftover > 0 {
        return Err(bad(
            "body",
            format!(
                "has {leftover} bytes of binary data that no input's binary_data_size accounts for"
            ),
        ));
    }
    if !items.is_empty() {
        return Err(ApiError::BadRequest(items));
    }
    let missing: Vec<ErrorItem> = FIELDS
        .iter()
        .enumerate()
        // a feature field's position among the columns is its index
        .filter(|(i, f)| f.required && seen & (1u32 << i) == 0)
        .map(|(_, f)| f)
        .map(|f| input_item(f.name, format!("is required: {}", f.expected())))
        .collect();
    if !missing.is_empty() {
        return Err(ApiError::BadRequest(missing));
    }
    let ids = check_ids(
        ids.unwrap_or_else(|| vec![None; n])
            .iter()
            .map(Option::as_deref),
    )?;
    Ok(Batch {
        passengers,
        ids,
        lines: None,
    })
}

/// The number of rows every input's shape gives, `[N]` or `[N, 1]` alike.
fn rows(inputs: &[Tensor<'_>]) -> Result<usize, ApiError> {
    let mut n: Option<(usize, &str)> = None;
    for input in inputs {
        let rows = match input.shape.as_slice() {
            [rows] | [rows, 1] => usize::try_from(*rows).ok(),
            _ => None,
        }
        .ok_or_else(|| {
            bad_input(
                &input.name,
                format!(
                    "has shape {:?}: send [N] or [N, 1], N rows of one column",
                    input.shape
                ),
            )
        })?;
        match n {
            Some((first, first_name)) if first != rows => {
                return Err(bad_input(
                    &input.name,
                    format!(
                        "has {rows} rows, but input {first_name:?} has {first}: every input must have the same"
                    ),
                ));
            }
            Some(_) => {}
            None => n = Some((rows, &input.name)),
        }
    }
    n.map(|(rows, _)| rows)
        .ok_or_else(|| bad("inputs", "is empty: send one input per column"))
}

/// Puts one value where its input goes: a passenger's field, a record's
/// id (`column` is `None`: text, or missing for none), or nowhere (an
/// ignored column).
fn place(
    column: Option<Column>,
    row: usize,
    value: FieldValue,
    passengers: &mut [Passenger],
    ids: &mut Option<Vec<Option<String>>>,
    items: &mut Vec<ErrorItem>,
) {
    match column {
        Some(column) => {
            let slot = column
                .field_index()
                .and_then(|i| passengers.get_mut(row).and_then(|p| p.value_mut(i)));
            if let Some(slot) = slot {
                *slot = value;
            }
        }
        None => {
            let id = match value {
                FieldValue::Missing => None,
                FieldValue::Text(t) => Some(t),
                _ => {
                    items.push(ErrorItem::at(
                        row,
                        ID_KEY,
                        "must be text (BYTES): a record's id",
                    ));
                    None
                }
            };
            if let Some(slot) = ids.as_mut().and_then(|ids| ids.get_mut(row)) {
                *slot = id;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use warp::http::HeaderValue;

    fn parse_json(body: &str) -> Result<Infer, ApiError> {
        parse(&HeaderMap::new(), body.as_bytes(), 10)
    }

    const ONE: &str = r#"{"inputs": [
        {"name": "pclass", "shape": [1], "datatype": "INT64", "data": [1]},
        {"name": "sex", "shape": [1, 1], "datatype": "BYTES", "data": [["female"]]},
        {"name": "age", "shape": [1], "datatype": "FP64", "data": [null]},
        {"name": "sibsp", "shape": [1], "datatype": "INT32", "data": [0]},
        {"name": "parch", "shape": [1], "datatype": "INT64", "data": [0]},
        {"name": "ticket", "shape": [1], "datatype": "BYTES", "data": ["24160"]}
    ], "parameters": {"content_type": "pd", "explain": true}}"#;

    #[test]
    fn columns_become_passengers() {
        let infer = parse_json(ONE).unwrap();
        let p = &infer.batch.passengers[0];
        assert_eq!(p.pclass, FieldValue::Number(1.0));
        assert_eq!(p.sex, FieldValue::Text("female".into()));
        assert_eq!(p.age, FieldValue::Missing);
        assert!(infer.explain);
        assert_eq!(infer.batch.ids, vec![None]);
    }

    fn message(e: ApiError) -> String {
        e.items()
            .iter()
            .map(|i| format!("{:?} {:?} {}", i.field, i.row, i.message))
            .collect()
    }

    #[test]
    fn bad_inputs_are_named() {
        let e = message(parse_json(&ONE.replace("\"age\"", "\"Age\"")).unwrap_err());
        assert!(e.starts_with("None None input \"Age\" is no input"), "{e}");
        let e = message(parse_json(&ONE.replace("[null]", "[\"x\"]")).unwrap_err());
        assert_eq!(
            e,
            "Some(\"age\") Some(0) FP64 data must be numbers or null, got a string"
        );
        let e = message(parse_json(&ONE.replace("[1, 1]", "[1, 2]")).unwrap_err());
        assert!(e.contains("has shape [1, 2]"), "{e}");
        let e = message(
            parse_json(&ONE.replace(
                "\"shape\": [1], \"datatype\": \"FP64\"",
                "\"shape\": [2], \"datatype\": \"FP64\"",
            ))
            .unwrap_err(),
        );
        assert!(e.contains("has 2 rows, but input \"pclass\" has 1"), "{e}");
        // a huge N is refused before anything is allocated
        let huge = r#"{"inputs": [{"name": "pclass", "shape": [9223372036854775806], "datatype": "INT64", "data": [1]}]}"#;
        assert!(matches!(parse_json(huge), Err(ApiError::TooLarge(_))));
        let e = message(parse_json(&ONE.replace("\"INT32\"", "\"BOOL\"")).unwrap_err());
        assert!(e.contains("has datatype \"BOOL\""), "{e}");
        let e = message(parse_json(&ONE.replace("\"sex\"", "\"id\"")).unwrap_err());
        assert!(e.contains("input \"sex\" is required"), "{e}");
    }

    #[test]
    fn binary_inputs_follow_the_json_header() {
        let header = r#"{"inputs": [
            {"name": "pclass", "shape": [2], "datatype": "INT64", "parameters": {"binary_data_size": 16}},
            {"name": "sex", "shape": [2], "datatype": "BYTES", "parameters": {"binary_data_size": 18}},
            {"name": "sibsp", "shape": [2], "datatype": "INT32", "data": [0, 1]},
            {"name": "parch", "shape": [2], "datatype": "FP32", "parameters": {"binary_data_size": 8}}
        ]}"#;
        let mut body = header.as_bytes().to_vec();
        tensor::put_int64(&mut body, [1, 3].into_iter());
        tensor::put_bytes(&mut body, ["male", "female"].into_iter());
        body.extend_from_slice(&0f32.to_le_bytes());
        body.extend_from_slice(&f32::NAN.to_le_bytes());
        let mut headers = HeaderMap::new();
        headers.insert(HEADER_LENGTH, HeaderValue::from(header.len()));
        let infer = parse(&headers, &body, 10).unwrap();
        let p = &infer.batch.passengers;
        assert_eq!(p[1].pclass, FieldValue::Number(3.0));
        assert_eq!(p[1].sex, FieldValue::Text("female".into()));
        assert_eq!(p[1].sibsp, FieldValue::Number(1.0));
        assert_eq!(p[1].parch, FieldValue::Missing);
        body.push(0);
        assert!(
            message(parse(&headers, &body, 10).unwrap_err()).contains("1 bytes of binary data")
        );
        headers.insert(HEADER_LENGTH, HeaderValue::from(body.len() + 1));
        assert!(parse(&headers, &body, 10).is_err());
    }
}
