//! What the service answers: the response bodies, and their JSON and CSV
//! renderings.

use std::fmt::Write as _;

use classification_model::{
    Explanation, FeatureSpec, Metrics, PipelineSummary, PredictionResult, TrainingConfig,
    TrainingData,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use warp::Reply;
use warp::http::{HeaderValue, StatusCode, header};
use warp::reply::Response;

use crate::errors::ErrorItem;

/// `GET /health`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct HealthResponse {
    /// The service's name.
    pub name: String,
    /// The API's version (its crate version).
    pub api_version: String,
    /// The served model's version (`VERSION`).
    pub model_version: String,
}

/// `POST /predict` answer, success or failure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PredictResponse {
    /// `1` for predicted survival, per input; `null` on error.
    #[schema(value_type = Option<Vec<i32>>, example = json!([1]))]
    pub predictions: Option<Vec<u8>>,
    /// `P(survived = 1)` per input; `null` on error.
    #[schema(example = json!([0.5598356076663051]))]
    pub probabilities: Option<Vec<f64>>,
    /// The model version.
    pub version: String,
    /// Every problem found; `null` on success.
    pub errors: Option<Vec<ErrorItem>>,
    /// With `?explain=true`: per input, the intercept and each feature's
    /// contribution to the log-odds.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub explanations: Option<Vec<Explanation>>,
}

/// `GET /health/live` and `GET /health/ready`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct StatusResponse {
    /// `alive`, `ready`, or `shutting down`.
    #[schema(example = "ready")]
    pub status: String,
}

/// `GET /model`: what the model is, takes and learned.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ModelInfo {
    /// The model's name.
    pub name: String,
    /// Its version.
    pub version: String,
    /// The artifact format revision.
    pub format_revision: u32,
    /// The input features and what each accepts (the field table).
    pub features: Vec<FeatureSpec>,
    /// What it was trained on (SHA-256 of the data, row counts).
    pub training_data: TrainingData,
    /// How it was trained.
    pub config: TrainingConfig,
    /// Metrics from training (train and held-out test rows).
    pub metrics: Metrics,
    /// The fitted pipeline, readably.
    pub pipeline: PipelineSummary,
}

/// `body` as JSON with `status`.
pub fn json<T: Serialize>(body: &T, status: StatusCode) -> Response {
    warp::reply::with_status(warp::reply::json(body), status).into_response()
}

/// `response` with a fixed content type.
pub fn typed(mut response: Response, content_type: &'static str) -> Response {
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// Predictions as JSON.
pub fn predictions_json(
    result: PredictionResult,
    explanations: Option<Vec<Explanation>>,
) -> Response {
    json(
        &PredictResponse {
            predictions: Some(result.predictions),
            probabilities: Some(result.probabilities),
            version: result.version,
            errors: None,
            explanations,
        },
        StatusCode::OK,
    )
}

/// Predictions as CSV: `row,prediction,probability`, then with explanations
/// `baseline` and one column per feature, in the field table's order.
pub fn predictions_csv(
    result: &PredictionResult,
    explanations: Option<&[Explanation]>,
) -> Response {
    let mut out = String::with_capacity(32 * result.probabilities.len() + 64);
    out.push_str("row,prediction,probability");
    if explanations.is_some() {
        out.push_str(",baseline");
        for feature in classification_model::features() {
            out.push(',');
            out.push_str(feature);
        }
    }
    out.push('\n');
    for (row, (pred, p)) in result
        .predictions
        .iter()
        .zip(&result.probabilities)
        .enumerate()
    {
        // `{}` prints the shortest text that reads back as the same f64
        let _ = write!(out, "{row},{pred},{p}");
        if let Some(e) = explanations.and_then(|e| e.get(row)) {
            let _ = write!(out, ",{}", e.baseline);
            for c in e.contributions.values() {
                let _ = write!(out, ",{c}");
            }
        }
        out.push('\n');
    }
    typed(Response::new(out.into()), "text/csv; charset=utf-8")
}
