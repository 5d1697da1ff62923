//! Prediction: a loaded [`Model`] and the [`make_prediction`] entry point.

use std::path::Path;
use std::sync::OnceLock;

use include_dir::{Dir, include_dir};
use serde::{Deserialize, Serialize};

use crate::artifact::{Artifact, artifact_file_name};
use crate::errors::{Error, FieldErrors, Result};
use crate::passenger::Passenger;
use crate::scoring::Scorer;
use crate::validation::validate_one;

static TRAINED_MODELS: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/trained_models");

/// The model version this crate carries: the content of its `VERSION` file.
pub fn model_version() -> &'static str {
    include_str!("../VERSION").trim()
}

/// Predictions for a batch of passengers, in input order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PredictionResult {
    /// `1` if the passenger is predicted to survive (`P > 0.5`), else `0`.
    pub predictions: Vec<u8>,
    /// `P(survived = 1)` for each passenger.
    pub probabilities: Vec<f64>,
    /// The model version that made them.
    pub version: String,
}

/// A trained model, ready to predict.
#[derive(Debug, Clone)]
pub struct Model {
    artifact: Artifact,
    scorer: Scorer,
}

impl Model {
    /// The model embedded in this crate (loaded once, on first use).
    ///
    /// Fails if the crate carries no valid artifact for its `VERSION`.
    pub fn embedded() -> Result<&'static Model> {
        static EMBEDDED: OnceLock<std::result::Result<Model, String>> = OnceLock::new();
        EMBEDDED
            .get_or_init(|| Self::load_embedded().map_err(|e| e.to_string()))
            .as_ref()
            .map_err(|e| Error::Artifact(e.clone()))
    }

    /// Parses the embedded artifact afresh (what [`embedded`](Self::embedded)
    /// does once).
    pub fn load_embedded() -> Result<Model> {
        let name = artifact_file_name(model_version());
        let file = TRAINED_MODELS.get_file(&name).ok_or_else(|| {
            Error::Artifact(format!(
                "this build embeds no {name}: run `cargo xtask train` and rebuild"
            ))
        })?;
        let text = file
            .contents_utf8()
            .ok_or_else(|| Error::Artifact(format!("{name} is not UTF-8 text")))?;
        Self::from_json(text)
    }

    /// Loads a model from an artifact file (for example one written by
    /// `cargo xtask train --out DIR`).
    pub fn load(path: impl AsRef<Path>) -> Result<Model> {
        Self::from_artifact(Artifact::read(path.as_ref())?)
    }

    /// Loads a model from artifact JSON.
    pub fn from_json(text: &str) -> Result<Model> {
        Self::from_artifact(Artifact::from_json(text)?)
    }

    /// Wraps a checked artifact. Fails unless its model version is this
    /// crate's `VERSION`: a model is only served by the code it was trained with.
    pub fn from_artifact(artifact: Artifact) -> Result<Model> {
        if artifact.model_version != model_version() {
            return Err(Error::Artifact(format!(
                "the artifact is model version {} but this crate is version {}: \
                 retrain with `cargo xtask train`",
                artifact.model_version,
                model_version()
            )));
        }
        Ok(Model {
            scorer: Scorer::new(&artifact.pipeline),
            artifact,
        })
    }

    /// The artifact behind the model.
    pub fn artifact(&self) -> &Artifact {
        &self.artifact
    }

    /// The model version.
    pub fn version(&self) -> &str {
        &self.artifact.model_version
    }

    /// Validates every passenger and predicts them all, or lists every
    /// invalid field (with its row) and predicts none.
    pub fn predict(&self, passengers: &[Passenger]) -> Result<PredictionResult> {
        let mut errors = Vec::new();
        let mut probabilities = Vec::with_capacity(passengers.len());
        for (row, p) in passengers.iter().enumerate() {
            if let Some(record) = validate_one(row, p, &mut errors) {
                if errors.is_empty() {
                    probabilities.push(self.scorer.probability(&record));
                }
            }
        }
        if !errors.is_empty() {
            return Err(Error::Invalid(FieldErrors(errors)));
        }
        Ok(PredictionResult {
            predictions: probabilities.iter().map(|&p| u8::from(p > 0.5)).collect(),
            probabilities,
            version: self.artifact.model_version.clone(),
        })
    }
}

/// Predicts survival for passengers with the model embedded in this crate.
///
/// Every passenger is validated first; if any field is invalid, the error
/// lists every problem with its row and field, and nothing is predicted.
///
/// ```
/// use classification_model::{make_prediction, Passenger};
///
/// let passengers: Vec<Passenger> = serde_json::from_str(r#"[
///     {"pclass": 1, "name": "Allen, Miss. Elisabeth Walton", "sex": "female", "age": 29,
///      "sibsp": 0, "parch": 0, "fare": 211.3375, "cabin": "B5", "embarked": "S"},
///     {"pclass": 3, "sex": "male", "age": "?", "sibsp": 0, "parch": 0, "fare": 8.05}
/// ]"#)?;
/// let result = make_prediction(&passengers)?;
/// assert_eq!(result.predictions, [1, 0]);
/// assert!(result.probabilities[0] > 0.5 && result.probabilities[1] < 0.5);
/// assert_eq!(result.version, classification_model::model_version());
///
/// let bad = Passenger { pclass: 7.into(), sex: "Male".into(), ..passengers[1].clone() };
/// let err = make_prediction(&[bad]).unwrap_err();
/// assert_eq!(err.field_errors().unwrap()[0].field, "pclass");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn make_prediction(passengers: &[Passenger]) -> Result<PredictionResult> {
    Model::embedded()?.predict(passengers)
}
