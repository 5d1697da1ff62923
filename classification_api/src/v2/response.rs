//! What the Open Inference Protocol (V2) routes answer: server and model
//! metadata, and `infer` responses as JSON or, where asked, with binary
//! tensor data after the JSON (Triton's extension).

use classification_model::{
    Model,
    schema::{FIELDS, Kind, features},
};
use serde::Serialize;
use utoipa::ToSchema;
use warp::http::{HeaderValue, StatusCode};
use warp::reply::Response;

use crate::http::errors::{ApiError, ErrorItem, shorten};
use crate::http::output::VersionInfo;
use crate::http::scoring::Scored;
use crate::serving::models::Models;
use crate::v2::request::HEADER_LENGTH;
use crate::v2::tensor::{self, Datatype};

/// `GET /v2`.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, ToSchema)]
pub struct ServerMetadata {
    /// The server's name.
    pub name: String,
    /// The API's version.
    pub version: String,
    /// Protocol extensions supported: `binary_tensor_data`.
    pub extensions: Vec<String>,
}

/// The server's name in its metadata.
pub const SERVER_NAME: &str = "classification_api";

/// The server's metadata (`GET /v2`, gRPC's `ServerMetadata`).
pub fn server_metadata() -> ServerMetadata {
    ServerMetadata {
        name: SERVER_NAME.into(),
        version: env!("CARGO_PKG_VERSION").into(),
        extensions: vec!["binary_tensor_data".into()],
    }
}

/// An input or output as model metadata lists it.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, ToSchema)]
pub struct TensorMetadata {
    /// Its name.
    pub name: String,
    /// Its datatype (inputs also take the others of their kind: see the docs).
    pub datatype: String,
    /// `[-1]`: any number of rows.
    pub shape: Vec<i64>,
}

/// `GET /v2/models/{name}[/versions/{version}]`.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, ToSchema)]
pub struct ModelMetadata {
    /// The model's name.
    pub name: String,
    /// Every version served, oldest first.
    pub versions: Vec<String>,
    /// Each version's role, source, training data and metrics (an addition
    /// to the protocol's fields).
    pub version_details: Vec<VersionInfo>,
    /// What runs it.
    pub platform: String,
    /// One input per dataset column.
    pub inputs: Vec<TensorMetadata>,
    /// Every output (the explanations only with `explain`).
    pub outputs: Vec<TensorMetadata>,
}

/// The outputs every answer can carry, before the explanations.
const OUTPUTS: [(&str, Datatype); 3] = [
    ("predictions", Datatype::Int64),
    ("probabilities", Datatype::Fp64),
    ("ids", Datatype::Bytes),
];

/// The baseline output's name.
const BASELINE: &str = "baseline";

/// The explanation output of a feature's contribution.
fn contribution(feature: &str) -> String {
    format!("contribution_{feature}")
}

/// Whether an output name is one of the explanations.
fn is_explanation(name: &str) -> bool {
    name == BASELINE || contribution_index(name).is_some()
}

/// The index in [`features`] of the feature a `contribution_<feature>`
/// output names.
fn contribution_index(name: &str) -> Option<usize> {
    let feature = name.strip_prefix("contribution_")?;
    features().iter().position(|f| *f == feature)
}

/// Every output name, in the default order.
fn output_names() -> Vec<String> {
    OUTPUTS
        .iter()
        .map(|(n, _)| (*n).to_owned())
        .chain([BASELINE.to_owned()])
        .chain(features().iter().map(|f| contribution(f)))
        .collect()
}

/// The metadata of `model`, among `models`.
pub fn model_metadata(model: &Model, models: &Models) -> ModelMetadata {
    let tensor = |name: &str, datatype: Datatype| TensorMetadata {
        name: name.to_owned(),
        datatype: datatype.name().to_owned(),
        shape: vec![-1],
    };
    ModelMetadata {
        name: model.name().to_owned(),
        versions: models.names(),
        version_details: crate::http::output::versions(models),
        platform: "linfa-logistic".to_owned(),
        inputs: FIELDS
            .iter()
            .map(|f| {
                let datatype = match f.kind {
                    Kind::Integer { .. } => Datatype::Int64,
                    Kind::Number { .. } => Datatype::Fp64,
                    Kind::Choice(_) | Kind::Text => Datatype::Bytes,
                };
                tensor(f.name, datatype)
            })
            .collect(),
        outputs: output_names()
            .iter()
            .map(|name| {
                let datatype = OUTPUTS
                    .iter()
                    .find(|(n, _)| n == name)
                    .map_or(Datatype::Fp64, |(_, d)| *d);
                tensor(name, datatype)
            })
            .collect(),
    }
}

/// Whether an answer carries the explanations: asked for with the `explain`
/// parameter, or by naming an explanation output. Every output named must
/// exist.
pub fn explained(explain: bool, outputs: Option<&[(String, bool)]>) -> Result<bool, ApiError> {
    check_outputs(outputs)?;
    Ok(explain
        || outputs
            .into_iter()
            .flatten()
            .any(|(name, _)| is_explanation(name)))
}

/// Checks that every output asked for exists.
fn check_outputs(outputs: Option<&[(String, bool)]>) -> Result<(), ApiError> {
    let Some(outputs) = outputs else {
        return Ok(());
    };
    let names = output_names();
    let unknown: Vec<ErrorItem> = outputs
        .iter()
        .filter(|(name, _)| !names.contains(name))
        .map(|(name, _)| {
            ErrorItem::message(format!(
                "output {:?} is no output of this model: the outputs are {}",
                shorten(name),
                names.join(", ")
            ))
        })
        .collect();
    if unknown.is_empty() {
        Ok(())
    } else {
        Err(ApiError::BadRequest(unknown))
    }
}

/// An `infer` response's JSON part.
#[derive(Debug, Serialize, ToSchema)]
pub struct InferResponse<'a> {
    /// The model's name.
    pub model_name: &'a str,
    /// The version that answered.
    pub model_version: &'a str,
    /// The request's `id`, or its `X-Request-Id`.
    pub id: &'a str,
    /// The outputs.
    pub outputs: Vec<ResponseOutput<'a>>,
}

/// One output tensor.
#[derive(Debug, Serialize, ToSchema)]
pub struct ResponseOutput<'a> {
    /// Its name.
    pub name: &'a str,
    /// `INT64`, `FP64` or `BYTES`.
    pub datatype: &'static str,
    /// `[N]`.
    pub shape: [usize; 1],
    /// `binary_data_size`, when the data is in the binary part.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub parameters: Option<BinarySize>,
    /// The N values, when not in the binary part.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<serde_json::Value>>)]
    pub data: Option<&'a Data<'a>>,
}

/// `{"binary_data_size": n}`.
#[derive(Debug, Serialize)]
pub struct BinarySize {
    binary_data_size: usize,
}

/// An output's values, borrowed from the scored batch.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Data<'a> {
    /// Predictions.
    Classes(&'a [u8]),
    /// Probabilities.
    Numbers(&'a [f64]),
    /// Explanation values, gathered per output.
    Owned(Vec<f64>),
    /// Ids.
    Texts(&'a [String]),
}

impl Data<'_> {
    /// Appends the values in Triton's binary encoding.
    pub fn put(&self, out: &mut Vec<u8>) {
        match self {
            Data::Classes(v) => tensor::put_int64(out, v.iter().map(|&c| i64::from(c))),
            Data::Numbers(v) => tensor::put_fp64(out, v.iter().copied()),
            Data::Owned(v) => tensor::put_fp64(out, v.iter().copied()),
            Data::Texts(v) => tensor::put_bytes(out, v.iter().map(String::as_str)),
        }
    }
}

/// One output of an answer.
#[derive(Debug)]
pub struct Output<'a> {
    /// Its name.
    pub name: String,
    /// Its datatype.
    pub datatype: Datatype,
    /// Its values.
    pub data: Data<'a>,
    /// Whether it goes as binary data.
    pub binary: bool,
}

/// The outputs an answer carries, in order: those asked for (`outputs`,
/// each with whether it goes as binary data), or the default set, where
/// `binary_output` says how the default set goes.
pub fn outputs<'a>(
    scored: &'a Scored,
    outputs: Option<&[(String, bool)]>,
    binary_output: bool,
) -> Vec<Output<'a>> {
    let chosen: Vec<(String, bool)> = match (outputs, &scored.explanations) {
        (Some(o), _) => o.to_vec(),
        (None, None) => OUTPUTS
            .iter()
            .map(|(n, _)| ((*n).to_owned(), binary_output))
            .collect(),
        (None, Some(_)) => output_names()
            .into_iter()
            .map(|n| (n, binary_output))
            .collect(),
    };
    chosen
        .into_iter()
        .map(|(name, binary)| {
            let (datatype, data) = match name.as_str() {
                "predictions" => (Datatype::Int64, Data::Classes(&scored.result.predictions)),
                "probabilities" => (Datatype::Fp64, Data::Numbers(&scored.result.probabilities)),
                "ids" => (Datatype::Bytes, Data::Texts(&scored.ids)),
                other => (Datatype::Fp64, Data::Owned(explanation(scored, other))),
            };
            Output {
                name,
                datatype,
                data,
                binary,
            }
        })
        .collect()
}

/// The answer to an `infer` request, with [`outputs`]' arguments.
pub fn infer_response(
    model: &Model,
    id: &str,
    scored: &Scored,
    outputs: Option<&[(String, bool)]>,
    binary_output: bool,
) -> Response {
    let chosen = self::outputs(scored, outputs, binary_output);
    let n = scored.ids.len();
    let mut binary = Vec::new();
    let mut tensors = Vec::with_capacity(chosen.len());
    for output in &chosen {
        let (parameters, data) = if output.binary {
            let start = binary.len();
            output.data.put(&mut binary);
            (
                Some(BinarySize {
                    binary_data_size: binary.len() - start,
                }),
                None,
            )
        } else {
            (None, Some(&output.data))
        };
        tensors.push(ResponseOutput {
            name: &output.name,
            datatype: output.datatype.name(),
            shape: [n],
            parameters,
            data,
        });
    }
    let response = InferResponse {
        model_name: model.name(),
        model_version: model.version(),
        id,
        outputs: tensors,
    };
    let mut body = match serde_json::to_vec(&response) {
        Ok(body) => body,
        Err(e) => {
            tracing::error!(error = %e, "infer response failed");
            return warp::Reply::into_response(ApiError::Internal.in_protocol());
        }
    };
    let json_len = body.len();
    let mut response = if binary.is_empty() {
        crate::http::output::typed(Response::new(body.into()), "application/json")
    } else {
        body.extend_from_slice(&binary);
        let mut r =
            crate::http::output::typed(Response::new(body.into()), "application/octet-stream");
        r.headers_mut()
            .insert(HEADER_LENGTH, HeaderValue::from(json_len));
        r
    };
    *response.status_mut() = StatusCode::OK;
    response
}

/// An explanation output's values (the request was explained: the outputs
/// were checked and an explanation output turns explanations on).
fn explanation(scored: &Scored, name: &str) -> Vec<f64> {
    let Some(explanations) = &scored.explanations else {
        return Vec::new();
    };
    if name == BASELINE {
        return explanations.iter().map(|e| e.baseline).collect();
    }
    let index = contribution_index(name).unwrap_or_default();
    explanations
        .iter()
        .map(|e| e.contributions.values().nth(index).unwrap_or_default())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explanation_outputs_are_known() {
        assert!(is_explanation("baseline"));
        assert!(is_explanation("contribution_title"));
        assert!(!is_explanation("contribution_name"));
        assert!(check_outputs(Some(&[("predictions".into(), true)])).is_ok());
        assert!(check_outputs(Some(&[("nope".into(), true)])).is_err());
    }
}
