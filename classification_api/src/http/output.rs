//! What the service answers: the response bodies, and their JSON and CSV
//! renderings.

use std::fmt::Write as _;

use classification_model::{
    Explanation, FieldValue, Model, PredictionResult,
    artifact::{Metrics, PipelineSummary, TrainingConfig, TrainingData},
    schema::FeatureSpec,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use warp::http::StatusCode;
use warp::reply::Response;

use crate::rest::reply::{json, typed};
use crate::serving::errors::ErrorItem;
use crate::serving::models::Models;
use crate::serving::versions::{VersionInfo, versions};

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
    #[schema(example = json!([0.9702146586190085]))]
    pub probabilities: Option<Vec<f64>>,
    /// The model version.
    pub version: String,
    /// Every problem found; `null` on success.
    pub errors: Option<Vec<ErrorItem>>,
    /// With `?explain=true`: per input, the intercept and each feature's
    /// contribution to the log-odds.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub explanations: Option<Vec<Explanation>>,
    /// Each record's id (its own `id`, or one the server made, sorting by
    /// time), in input order; absent on error.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub ids: Option<Vec<String>>,
}

/// One stored prediction.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct HistoryItem {
    /// The record's id.
    pub id: String,
    /// The `X-Request-Id` of the request that carried it.
    pub request_id: String,
    /// When it was served (RFC 3339, UTC).
    pub time: String,
    /// The model version that answered.
    pub version: String,
    /// The validated inputs, keyed by column; `name` holds only the title
    /// unless the server runs with `HISTORY_KEEP_NAMES=true`.
    #[schema(value_type = Object)]
    pub inputs: Inputs,
    /// `P(survived = 1)`.
    pub probability: f64,
    /// The prediction.
    pub prediction: i64,
    /// The ground truth, once sent to `/feedback`.
    pub survived: Option<i64>,
    /// When the ground truth was sent.
    pub feedback_time: Option<String>,
    /// `GET /history/{id}` only: the intercept and each feature's
    /// contribution, recomputed from the stored inputs by the version that
    /// answered; absent when that version is no longer served.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explanation: Option<Explanation>,
}

/// A record's inputs: a JSON object in the field table's order.
#[derive(Debug, Clone, PartialEq)]
pub struct Inputs(pub Vec<(&'static str, serde_json::Value)>);

impl Serialize for Inputs {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

/// `GET /history`: a page, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct HistoryPage {
    /// The records.
    pub items: Vec<HistoryItem>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// `POST /feedback` success.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FeedbackResponse {
    /// Items applied (repeats of a stored value included).
    pub accepted: usize,
}

/// A stored row as the API shows it.
pub fn history_item(row: crate::history::store::StoredRow) -> HistoryItem {
    use crate::history::store::Input;
    let inputs = classification_model::schema::FIELDS
        .iter()
        .zip(row.inputs)
        .map(|(f, v)| {
            let value = match v {
                Input::Null => serde_json::Value::Null,
                Input::Integer(i) => i.into(),
                Input::Number(n) => n.into(),
                Input::Text(t) => t.into(),
            };
            (f.name, value)
        })
        .collect();
    HistoryItem {
        time: crate::clock::format(row.time_us),
        feedback_time: row.feedback_time_us.map(crate::clock::format),
        id: row.id,
        request_id: row.request_id,
        version: row.version,
        inputs: Inputs(inputs),
        probability: row.probability,
        prediction: row.prediction,
        survived: row.survived,
        explanation: None,
    }
}

/// The explanation `model` gives for a stored record's inputs.
pub fn explain_stored(
    model: &Model,
    inputs: &[crate::history::store::Input],
) -> Option<Explanation> {
    use crate::history::store::Input;
    let mut passenger = classification_model::Passenger::default();
    for (i, input) in inputs.iter().enumerate() {
        *passenger.value_mut(i)? = match input {
            Input::Null => FieldValue::Missing,
            Input::Integer(n) => FieldValue::from(*n),
            Input::Number(x) => FieldValue::from(*x),
            Input::Text(t) => FieldValue::from(t.as_str()),
        };
    }
    model.explain(&[passenger]).ok()?.pop()
}

/// The columns of the history as CSV: the dataset's, then what was served.
pub fn history_csv_header() -> String {
    let mut h = String::from("id,time,version");
    for f in &classification_model::schema::FIELDS {
        h.push(',');
        h.push_str(f.name);
    }
    h.push_str(",probability,prediction,survived\n");
    h
}

/// One stored row as a CSV line, through the same writer as the
/// predictions' CSV.
pub fn history_csv_line(row: &crate::history::store::StoredRow, out: &mut Vec<u8>) {
    use crate::history::store::Input;
    let mut line = String::with_capacity(160);
    csv_field(&mut line, &row.id);
    let _ = write!(line, ",{},", crate::clock::format(row.time_us));
    csv_field(&mut line, &row.version);
    for v in &row.inputs {
        line.push(',');
        match v {
            Input::Null => {}
            Input::Integer(i) => {
                let _ = write!(line, "{i}");
            }
            Input::Number(n) => {
                let _ = write!(line, "{n}");
            }
            Input::Text(t) => csv_field(&mut line, t),
        }
    }
    let _ = write!(line, ",{},{},", row.probability, row.prediction);
    if let Some(s) = row.survived {
        let _ = write!(line, "{s}");
    }
    line.push('\n');
    out.extend_from_slice(line.as_bytes());
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
    /// Every version served, oldest first.
    pub versions: Vec<VersionInfo>,
}

/// What `/model` says of `model`, among `models`.
pub fn model_info(model: &Model, models: &Models) -> ModelInfo {
    let a = model.artifact();
    ModelInfo {
        name: a.model_name().to_owned(),
        version: a.model_version().to_owned(),
        format_revision: a.format_revision(),
        features: classification_model::schema::feature_specs(),
        training_data: a.training_data().clone(),
        config: a.config().clone(),
        metrics: a.metrics().clone(),
        pipeline: a.summary(),
        versions: versions(models),
    }
}

/// Appends a CSV field, quoted when it must be (as the `csv` crate's
/// `QuoteStyle::Necessary`): the one CSV writer of the answers.
fn csv_field(out: &mut String, value: &str) {
    if value.contains([',', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&value.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(value);
    }
}

/// Predictions as JSON.
pub fn predictions_json(
    result: PredictionResult,
    explanations: Option<Vec<Explanation>>,
    ids: Vec<String>,
) -> Response {
    json(
        &PredictResponse {
            predictions: Some(result.predictions),
            probabilities: Some(result.probabilities),
            version: result.version,
            errors: None,
            explanations,
            ids: Some(ids),
        },
        StatusCode::OK,
    )
}

/// Predictions as CSV: `row,prediction,probability`, then with explanations
/// `baseline` and one column per feature, in the field table's order, then
/// `id`.
pub fn predictions_csv(
    result: &PredictionResult,
    explanations: Option<&[Explanation]>,
    ids: &[String],
) -> Response {
    let mut out = String::with_capacity(32 * result.probabilities.len() + 64);
    out.push_str("row,prediction,probability");
    if explanations.is_some() {
        out.push_str(",baseline");
        for feature in classification_model::schema::features() {
            out.push(',');
            out.push_str(feature);
        }
    }
    out.push_str(",id\n");
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
        out.push(',');
        csv_field(&mut out, ids.get(row).map_or("", String::as_str));
        out.push('\n');
    }
    typed(Response::new(out.into()), "text/csv; charset=utf-8")
}
