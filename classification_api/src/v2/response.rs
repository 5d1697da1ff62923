//! What the Open Inference Protocol (V2) routes answer: server and model
//! metadata, and `infer` responses as JSON or, where asked, with binary
//! tensor data after the JSON (Triton's extension).

use classification_model::Model;
use serde::Serialize;
use utoipa::ToSchema;
use warp::http::{HeaderValue, StatusCode};
use warp::reply::Response;

use crate::serving::scoring::Scored;
use crate::serving::tensor::outputs::{Data, outputs as chosen_outputs};
use crate::v2::request::HEADER_LENGTH;

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

/// The answer to an `infer` request, with the outputs [`chosen_outputs`] gives.
pub fn infer_response(
    model: &Model,
    id: &str,
    scored: &Scored,
    outputs: Option<&[(String, bool)]>,
    binary_output: bool,
) -> Response {
    let chosen = chosen_outputs(scored, outputs, binary_output);
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
            return warp::Reply::into_response(
                crate::rest::errors::ApiError::from(crate::serving::errors::RequestError::Internal)
                    .in_protocol(),
            );
        }
    };
    let json_len = body.len();
    let mut response = if binary.is_empty() {
        crate::rest::reply::typed(Response::new(body.into()), "application/json")
    } else {
        body.extend_from_slice(&binary);
        let mut r =
            crate::rest::reply::typed(Response::new(body.into()), "application/octet-stream");
        r.headers_mut()
            .insert(HEADER_LENGTH, HeaderValue::from(json_len));
        r
    };
    *response.status_mut() = StatusCode::OK;
    response
}
