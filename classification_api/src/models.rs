//! Request and response bodies.

use std::collections::BTreeMap;

use classification_model::Explanation;
use classification_model::artifact::{Metrics, TrainingConfig, TrainingData};
use classification_model::validation::FeatureSpec;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use utoipa::ToSchema;

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

/// `POST /predict` body, as documented and as parsed on the fast path.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PredictBody {
    /// The passengers (at least one; at most `MAX_BATCH`, 10,000 by default).
    #[schema(min_items = 1)]
    pub inputs: Vec<classification_model::Passenger>,
}

/// `POST /predict` body with its records kept as raw JSON, so that each can
/// be checked and reported on its own (the slow path, for errors).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PredictRequest<'a> {
    /// The passengers, as objects keyed by the dataset's column names.
    #[serde(borrow)]
    pub inputs: Vec<&'a RawValue>,
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
    /// The input features and what each accepts.
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

/// The fitted pipeline's parameters, readably.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct PipelineSummary {
    /// Imputed for a missing value, per numeric variable.
    pub medians: BTreeMap<String, f64>,
    /// Labels kept per categorical variable (others become `Rare`).
    pub frequent_labels: BTreeMap<String, Vec<String>>,
    /// Per output column: its training mean and standard deviation and the
    /// logistic regression's coefficient (on the standardised column).
    pub columns: Vec<ColumnSummary>,
    /// The logistic regression's intercept.
    pub intercept: f64,
    /// Inverse regularisation strength.
    pub c: f64,
}

/// One output column of the pipeline.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ColumnSummary {
    /// `pclass`, `age_na`, `sex_female`, ...
    pub column: String,
    /// Training mean.
    pub mean: f64,
    /// Training standard deviation (population).
    pub std: f64,
    /// Coefficient on the standardised column.
    pub coefficient: f64,
}

/// Any other error answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ErrorResponse {
    /// What went wrong.
    pub errors: Vec<ErrorItem>,
}
