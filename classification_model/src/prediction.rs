//! Prediction: a loaded [`Model`] and the [`make_prediction`] entry point.

use std::fmt;
use std::path::Path;
use std::sync::OnceLock;

use include_dir::{Dir, include_dir};
use serde::{Deserialize, Serialize};

use crate::artifact::{Artifact, artifact_file_name};
use crate::checked::CheckedBatch;
use crate::errors::{Error, Result};
use crate::fields::{N_FIELDS, features};
use crate::passenger::Passenger;
use crate::scoring::{Score, Scorer};

static TRAINED_MODELS: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/trained_models");

/// The model version this crate carries: the content of its `VERSION` file.
pub fn model_version() -> &'static str {
    include_str!("../VERSION").trim()
}

/// Predictions for a batch of passengers, in input order, in the course's
/// shape (what [`make_prediction`] returns and its JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PredictionResult {
    /// `1` if the passenger is predicted to survive (`P > 0.5`), else `0`.
    pub predictions: Vec<u8>,
    /// `P(survived = 1)` for each passenger.
    pub probabilities: Vec<f64>,
    /// The model version that made them.
    pub version: String,
}

/// Why the model scored one passenger as it did, in log-odds.
///
/// `baseline + sum(contributions)`, summing the contributions in their order,
/// is exactly the log-odds behind the served probability, `ln(p / (1 - p))`.
/// Each feature's contribution is its coefficient times its scaled value,
/// summed over its own column, its missing indicator and its one-hot dummies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Explanation {
    /// The intercept: the log-odds before any feature's contribution.
    pub baseline: f64,
    /// Each feature's contribution to the log-odds, in the field table's order.
    #[cfg_attr(feature = "openapi", schema(value_type = std::collections::BTreeMap<String, f64>))]
    pub contributions: Contributions,
}

impl Explanation {
    /// `baseline + sum(contributions)`: the log-odds of survival.
    pub fn log_odds(&self) -> f64 {
        self.baseline + self.contributions.values().sum::<f64>()
    }
}

/// Each feature's contribution, in [`features`] order; a JSON object in that order.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Contributions([f64; N_FIELDS]);

impl Contributions {
    /// The features and their contributions, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, f64)> + '_ {
        features().into_iter().zip(self.0)
    }

    /// The contributions, in order.
    pub fn values(&self) -> impl Iterator<Item = f64> + '_ {
        self.0.iter().copied()
    }

    /// One feature's contribution.
    pub fn get(&self, feature: &str) -> Option<f64> {
        self.iter().find(|(f, _)| *f == feature).map(|(_, c)| c)
    }

    /// The number of features.
    pub fn len(&self) -> usize {
        N_FIELDS
    }

    /// Always false: every feature has a contribution.
    pub fn is_empty(&self) -> bool {
        false
    }
}

impl Serialize for Contributions {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(N_FIELDS))?;
        for (feature, c) in self.iter() {
            map.serialize_entry(feature, &c)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Contributions {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Contributions;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "an object with a number for each of {:?}", features())
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<Contributions, A::Error> {
                let mut values = [None; N_FIELDS];
                while let Some((key, value)) = map.next_entry::<String, f64>()? {
                    let i = features().iter().position(|f| *f == key).ok_or_else(|| {
                        serde::de::Error::custom(format!("unknown feature {key:?}"))
                    })?;
                    values[i] = Some(value);
                }
                let mut out = [0.0; N_FIELDS];
                for (i, v) in values.into_iter().enumerate() {
                    out[i] = v.ok_or_else(|| {
                        serde::de::Error::custom(format!("no {:?}", features()[i]))
                    })?;
                }
                Ok(Contributions(out))
            }
        }
        d.deserialize_map(V)
    }
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
        let model = Self::from_json(text)?;
        if model.version() != model_version() {
            return Err(Error::Artifact(format!(
                "{name} holds model version {}, not this crate's {}: \
                 run `cargo xtask train` and rebuild",
                model.version(),
                model_version()
            )));
        }
        Ok(model)
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

    /// Wraps an artifact of any model version: every `Artifact` was checked
    /// when it was read or trained, and its format revision fixes how it is
    /// scored, so a model trained by another crate version scores here as it
    /// did there.
    pub fn from_artifact(artifact: Artifact) -> Result<Model> {
        Ok(Model {
            scorer: Scorer::new(&artifact.pipeline)?,
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

    /// The model's name.
    pub fn name(&self) -> &str {
        &self.artifact.model_name
    }

    /// Checks every passenger and predicts them all, or lists every invalid
    /// field (with its row) and predicts none: one [`Prediction`] per
    /// passenger, in order, labelled at 0.5.
    pub fn predict(&self, passengers: &[Passenger]) -> Result<Vec<Prediction>> {
        self.predict_with(passengers, &PredictOptions::default())
    }

    /// [`predict`](Self::predict) with options: explanations, a threshold.
    pub fn predict_with(
        &self,
        passengers: &[Passenger],
        options: &PredictOptions,
    ) -> Result<Vec<Prediction>> {
        Ok(self.score(&CheckedBatch::new(passengers)?, options))
    }

    /// Scores a checked batch (checking nothing again).
    pub fn score(&self, batch: &CheckedBatch<'_>, options: &PredictOptions) -> Vec<Prediction> {
        self.scores(batch)
            .map(|score| {
                let probability = score.probability();
                Prediction {
                    label: options.label(probability),
                    probability,
                    explanation: options.explain.then(|| Explanation {
                        baseline: self.scorer.baseline(),
                        contributions: Contributions(score.contributions),
                    }),
                }
            })
            .collect()
    }

    /// The course's shape of a checked batch's predictions, straight from
    /// the scores (no [`Prediction`] in between).
    fn result(&self, batch: &CheckedBatch<'_>, options: &PredictOptions) -> PredictionResult {
        let probabilities: Vec<f64> = self.scores(batch).map(|s| s.probability()).collect();
        PredictionResult {
            predictions: probabilities.iter().map(|&p| options.label(p)).collect(),
            probabilities,
            version: self.version().to_owned(),
        }
    }

    /// Each record's score, in order: the one scoring loop.
    fn scores<'b>(&'b self, batch: &'b CheckedBatch<'_>) -> impl Iterator<Item = Score> + 'b {
        batch.records().map(|record| self.scorer.score(&record))
    }

    /// Explains every passenger (see [`Explanation`]).
    pub fn explain(&self, passengers: &[Passenger]) -> Result<Vec<Explanation>> {
        let options = PredictOptions {
            explain: true,
            ..PredictOptions::default()
        };
        Ok(self
            .predict_with(passengers, &options)?
            .into_iter()
            .filter_map(|p| p.explanation)
            .collect())
    }

    /// Each checked passenger's drift bin per feature (indices into
    /// [`FeatureBins::bins`](crate::drift::FeatureBins), in
    /// [`features`](crate::schema::features) order).
    pub fn drift_bins(&self, batch: &CheckedBatch<'_>) -> Vec<[u8; N_FIELDS]> {
        batch
            .records()
            .map(|record| {
                self.artifact
                    .drift
                    .bins_of(&self.artifact.pipeline, &record)
            })
            .collect()
    }
}

/// One passenger's prediction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    /// `1` if the passenger is predicted to survive (probability above the
    /// threshold, 0.5 by default), else `0`.
    pub label: u8,
    /// `P(survived = 1)`.
    pub probability: f64,
    /// Why, when asked for ([`PredictOptions::explain`]).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub explanation: Option<Explanation>,
}

/// How [`Model::predict_with`] and [`Model::score`] predict.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PredictOptions {
    /// Add each passenger's [`Explanation`].
    pub explain: bool,
    /// A passenger whose probability is above it is labelled 1 (default 0.5,
    /// the course's).
    pub threshold: f64,
}

impl Default for PredictOptions {
    fn default() -> Self {
        PredictOptions {
            explain: false,
            threshold: 0.5,
        }
    }
}

impl PredictOptions {
    /// A probability's label: 1 above the threshold, else 0. The one rule.
    pub fn label(&self, probability: f64) -> u8 {
        u8::from(probability > self.threshold)
    }
}

impl PredictionResult {
    /// The course's shape of `predictions` made by `version`.
    pub fn new(predictions: &[Prediction], version: &str) -> Self {
        PredictionResult {
            predictions: predictions.iter().map(|p| p.label).collect(),
            probabilities: predictions.iter().map(|p| p.probability).collect(),
            version: version.to_owned(),
        }
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
    // the model's one scoring loop and its one threshold
    let model = Model::embedded()?;
    Ok(model.result(&CheckedBatch::new(passengers)?, &PredictOptions::default()))
}
