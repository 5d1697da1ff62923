//! gRPC messages to and from the protocol's common form: a request's input
//! tensors become [`Tensor`]s for [`columns`] (typed `contents` as
//! elements, `raw_input_contents` as Triton's binary encoding), a scored
//! batch becomes `raw_output_contents`, and a [`RequestError`] a
//! [`tonic::Status`] with the same message REST gives.

use std::borrow::Cow;

use bytes::Bytes;
use classification_model::Model;
use tonic::Code;

use crate::grpc::inference::infer_parameter::ParameterChoice;
use crate::grpc::inference::model_infer_response::InferOutputTensor;
use crate::grpc::inference::{
    InferParameter, InferTensorContents, ModelInferRequest, ModelInferResponse,
};
use crate::serving::batch::Batch;
use crate::serving::errors::{ErrorItem, RequestError};
use crate::serving::scoring::Scored;
use crate::serving::tensor::datatype::{Datatype, Element, Elements};
use crate::serving::tensor::inputs::{Tensor, TensorData, columns};
use crate::serving::tensor::outputs::{self, explained};

/// A `ModelInfer` request, read.
#[derive(Debug)]
pub struct Infer {
    /// The passengers and their ids.
    pub batch: Batch,
    /// The request's own `id` (empty if none).
    pub id: String,
    /// Whether explanations were asked for (the `explain` parameter, or an
    /// explanation output).
    pub explain: bool,
    /// The outputs asked for by name; `None` for the default set.
    pub outputs: Option<Vec<(String, bool)>>,
}

/// Reads a `ModelInfer` request of at most `max_rows` rows.
pub fn infer_request(request: ModelInferRequest, max_rows: usize) -> Result<Infer, RequestError> {
    let ModelInferRequest {
        id,
        parameters,
        inputs,
        outputs,
        raw_input_contents: raw,
        ..
    } = request;
    if !raw.is_empty() && raw.len() != inputs.len() {
        return Err(RequestError::BadRequest(vec![ErrorItem::field(
            "raw_input_contents",
            format!(
                "has {} entries for {} inputs: send one per input, in the inputs' order",
                raw.len(),
                inputs.len()
            ),
        )]));
    }
    let tensors = inputs
        .into_iter()
        .enumerate()
        .map(|(i, input)| {
            let data = match (raw.get(i), input.contents) {
                (Some(_), Some(_)) => TensorData::Unusable(
                    "has contents, and the request raw_input_contents: send one".into(),
                ),
                (Some(raw), None) => TensorData::Binary(raw),
                (None, Some(contents)) => typed(&input.datatype, contents),
                (None, None) => TensorData::Unusable(
                    "has no contents, and the request no raw_input_contents".into(),
                ),
            };
            Tensor {
                name: Cow::Owned(input.name),
                shape: input.shape,
                datatype: Cow::Owned(input.datatype),
                data,
            }
        })
        .collect();
    let batch = columns(tensors, max_rows, 0)?;
    let outputs: Option<Vec<(String, bool)>> =
        (!outputs.is_empty()).then(|| outputs.into_iter().map(|o| (o.name, true)).collect());
    let asked = match parameters.get("explain") {
        None => false,
        Some(InferParameter {
            parameter_choice: Some(ParameterChoice::BoolParam(explain)),
        }) => *explain,
        Some(other) => {
            let given = match other.parameter_choice {
                Some(ParameterChoice::StringParam(_)) => "a string_param",
                Some(ParameterChoice::Int64Param(_)) => "an int64_param",
                Some(ParameterChoice::DoubleParam(_)) => "a double_param",
                Some(ParameterChoice::Uint64Param(_)) => "a uint64_param",
                Some(ParameterChoice::BoolParam(_)) | None => "no value",
            };
            return Err(RequestError::BadRequest(vec![ErrorItem::field(
                "parameters.explain",
                format!("must be a bool_param (true or false), got {given}"),
            )]));
        }
    };
    let explain = explained(asked, outputs.as_deref())?;
    Ok(Infer {
        batch,
        id,
        explain,
        outputs,
    })
}

/// Typed contents as elements: those of the field `datatype` reads (the
/// others must be empty). NaN is missing, as in the binary encoding.
fn typed(datatype: &str, contents: InferTensorContents) -> TensorData<'static> {
    let Some(datatype) = Datatype::parse(datatype) else {
        // `columns` names the datatype before it reads any value
        return TensorData::Elements(Elements::default());
    };
    let InferTensorContents {
        bool_contents,
        int_contents,
        int64_contents,
        uint_contents,
        uint64_contents,
        fp32_contents,
        fp64_contents,
        bytes_contents,
    } = contents;
    let float = |f: f64| {
        if f.is_nan() {
            Element::Null
        } else {
            Element::Float(f)
        }
    };
    let (field, elements): (&str, Vec<Element>) = match datatype {
        Datatype::Int32 => (
            "int_contents",
            int_contents
                .iter()
                .map(|&v| Element::Int(v.into()))
                .collect(),
        ),
        Datatype::Int64 => (
            "int64_contents",
            int64_contents
                .iter()
                .map(|&v| Element::Int(v.into()))
                .collect(),
        ),
        Datatype::Fp32 => (
            "fp32_contents",
            fp32_contents.iter().map(|&v| float(v.into())).collect(),
        ),
        Datatype::Fp64 => (
            "fp64_contents",
            fp64_contents.iter().map(|&v| float(v)).collect(),
        ),
        Datatype::Bytes => (
            "bytes_contents",
            bytes_contents
                .iter()
                .map(|b| match std::str::from_utf8(b) {
                    Ok(text) => Element::Text(text.to_owned()),
                    Err(_) => Element::Other("bytes that are not UTF-8 text"),
                })
                .collect(),
        ),
    };
    let others = [
        ("bool_contents", bool_contents.len()),
        ("int_contents", int_contents.len()),
        ("int64_contents", int64_contents.len()),
        ("uint_contents", uint_contents.len()),
        ("uint64_contents", uint64_contents.len()),
        ("fp32_contents", fp32_contents.len()),
        ("fp64_contents", fp64_contents.len()),
        ("bytes_contents", bytes_contents.len()),
    ];
    if let Some((other, _)) = others.iter().find(|(name, n)| *name != field && *n > 0) {
        return TensorData::Unusable(format!(
            "has datatype {}, whose values go in {field}, but sends {other}",
            datatype.name()
        ));
    }
    TensorData::Elements(Elements(elements))
}

/// The `ModelInfer` answer: every output as raw contents (what
/// `tritonclient[grpc]` reads), in the order asked for or the default one.
pub fn infer_response(
    model: &Model,
    id: &str,
    scored: &Scored,
    outputs: Option<&[(String, bool)]>,
) -> ModelInferResponse {
    let chosen = outputs::outputs(scored, outputs, true);
    let n = i64::try_from(scored.ids.len()).unwrap_or(i64::MAX);
    let mut tensors = Vec::with_capacity(chosen.len());
    let mut raw = Vec::with_capacity(chosen.len());
    for output in chosen {
        let mut bytes = Vec::new();
        output.data.put(&mut bytes);
        raw.push(Bytes::from(bytes));
        tensors.push(InferOutputTensor {
            name: output.name,
            datatype: output.datatype.name().to_owned(),
            shape: vec![n],
            parameters: Default::default(),
            contents: None,
        });
    }
    ModelInferResponse {
        model_name: model.name().to_owned(),
        model_version: model.version().to_owned(),
        id: id.to_owned(),
        parameters: Default::default(),
        outputs: tensors,
        raw_output_contents: raw,
    }
}

/// The gRPC status of an error, with the message REST's protocol routes
/// give.
pub fn status(error: &RequestError) -> tonic::Status {
    let code = match error {
        RequestError::BadRequest(_) | RequestError::Invalid(_) => Code::InvalidArgument,
        RequestError::Unauthorized => {
            return tonic::Status::unauthenticated(
                "send the API key as `authorization: Bearer <key>` metadata",
            );
        }
        RequestError::Forbidden(_) => Code::PermissionDenied,
        RequestError::NotFound(_) => Code::NotFound,
        RequestError::Timeout(_) => Code::DeadlineExceeded,
        RequestError::TooLarge(_) => Code::ResourceExhausted,
        RequestError::Conflict(_) => Code::AlreadyExists,
        RequestError::Busy | RequestError::StoreUnavailable(_) => Code::Unavailable,
        RequestError::Internal => Code::Internal,
    };
    tonic::Status::new(code, error.to_string())
}

/// A status code's name, as gRPC writes it (`INVALID_ARGUMENT`).
pub fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grpc::inference::model_infer_request::InferInputTensor;

    fn input(name: &str, datatype: &str, contents: InferTensorContents) -> InferInputTensor {
        InferInputTensor {
            name: name.into(),
            datatype: datatype.into(),
            shape: vec![1],
            parameters: Default::default(),
            contents: Some(contents),
        }
    }

    fn request(inputs: Vec<InferInputTensor>) -> ModelInferRequest {
        ModelInferRequest {
            inputs,
            ..Default::default()
        }
    }

    fn required() -> Vec<InferInputTensor> {
        let int = |v| InferTensorContents {
            int64_contents: vec![v],
            ..Default::default()
        };
        vec![
            input("pclass", "INT64", int(1)),
            input(
                "sex",
                "BYTES",
                InferTensorContents {
                    bytes_contents: vec![Bytes::from_static(b"female")],
                    ..Default::default()
                },
            ),
            input("sibsp", "INT64", int(0)),
            input("parch", "INT64", int(0)),
        ]
    }

    #[test]
    fn typed_contents_become_passengers() {
        let mut inputs = required();
        inputs.push(input(
            "age",
            "FP32",
            InferTensorContents {
                fp32_contents: vec![f32::NAN],
                ..Default::default()
            },
        ));
        let infer = infer_request(request(inputs), 10).unwrap();
        let p = &infer.batch.passengers[0];
        assert_eq!(p.pclass, classification_model::FieldValue::Number(1.0));
        assert_eq!(p.age, classification_model::FieldValue::Missing);
        assert!(!infer.explain && infer.outputs.is_none());
    }

    #[test]
    fn contents_must_sit_in_their_datatypes_field() {
        let mut inputs = required();
        inputs[0].contents = Some(InferTensorContents {
            int_contents: vec![1],
            ..Default::default()
        });
        let e = infer_request(request(inputs), 10).unwrap_err();
        assert_eq!(status(&e).code(), Code::InvalidArgument);
        assert!(
            status(&e)
                .message()
                .contains("input \"pclass\" has datatype INT64, whose values go in int64_contents, but sends int_contents"),
            "{}",
            status(&e).message()
        );
    }

    #[test]
    fn raw_contents_must_match_the_inputs() {
        let mut r = request(required());
        r.raw_input_contents = vec![Bytes::new()];
        let e = infer_request(r, 10).unwrap_err();
        assert!(status(&e).message().contains("has 1 entries for 4 inputs"));
        let mut r = request(required());
        for input in &mut r.inputs {
            input.shape = vec![20];
        }
        let e = infer_request(r, 10).unwrap_err();
        assert_eq!(status(&e).code(), Code::ResourceExhausted);
    }
}
