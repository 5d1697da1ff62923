//! What an Open Inference Protocol (V2) `infer` request brings: its JSON
//! header, the binary tensor data after it (Triton's extension), and the
//! passengers read from its inputs by MLServer's pandas convention (one
//! input per dataset column, `[N]` or `[N, 1]`, `null` for missing).

use std::borrow::Cow;

use serde::Deserialize;
use warp::http::HeaderMap;

use crate::serving::batch::Batch;
use crate::serving::errors::RequestError;
use crate::serving::tensor::datatype::Elements;
use crate::serving::tensor::inputs::{Tensor, TensorData, bad, columns};

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
fn split<'a>(headers: &HeaderMap, body: &'a [u8]) -> Result<(&'a [u8], &'a [u8]), RequestError> {
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

/// Reads an `infer` body (with `headers` for its binary part, if any) of
/// at most `max_rows` rows (413 beyond, before anything is allocated).
pub fn parse(headers: &HeaderMap, body: &[u8], max_rows: usize) -> Result<Infer, RequestError> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serving::tensor::datatype;
    use classification_model::FieldValue;
    use warp::http::HeaderValue;

    fn parse_json(body: &str) -> Result<Infer, RequestError> {
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

    fn message(e: RequestError) -> String {
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
        assert!(matches!(parse_json(huge), Err(RequestError::TooLarge(_))));
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
        datatype::put_int64(&mut body, [1, 3].into_iter());
        datatype::put_bytes(&mut body, ["male", "female"].into_iter());
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
