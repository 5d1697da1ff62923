//! Request and response bodies.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::errors::ErrorItem;

/// `GET /health`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HealthResponse {
    /// The service's name.
    pub name: String,
    /// The API's version (its crate version).
    pub api_version: String,
    /// The served model's version (`VERSION`).
    pub model_version: String,
}

/// `POST /predict` body: `{"inputs": [{...}, ...]}`. Records are kept as
/// raw JSON so that each can be checked and reported on its own.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PredictRequest<'a> {
    /// The passengers, as objects keyed by the dataset's column names.
    #[serde(borrow)]
    pub inputs: Vec<&'a RawValue>,
}

/// `POST /predict` answer, success or failure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PredictResponse {
    /// `1` for predicted survival, per input; `null` on error.
    pub predictions: Option<Vec<u8>>,
    /// `P(survived = 1)` per input; `null` on error.
    pub probabilities: Option<Vec<f64>>,
    /// The model version.
    pub version: String,
    /// Every problem found; `null` on success.
    pub errors: Option<Vec<ErrorItem>>,
}

/// Any other error answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorResponse {
    /// What went wrong.
    pub errors: Vec<ErrorItem>,
}
