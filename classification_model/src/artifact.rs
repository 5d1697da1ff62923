//! The trained artifact: a JSON file holding the model version, the config,
//! a hash of the training data, every fitted parameter and the metrics.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

pub use crate::derived::{DerivedFeatures, SWITCHES};
pub use crate::pipeline::{ClassWeight, PipelineConfig};

use crate::data_preparation::{CATEGORICAL_FEATURES, NUMERIC_WITH_MISSING};
use crate::drift::DriftReference;
use crate::errors::{Error, Result};
use crate::metrics::{CrossValidation, Scores};
use crate::pipeline::Pipeline;

/// The artifact format this build reads and writes.
pub const FORMAT_REVISION: u32 = 3;

/// The model's name.
pub const MODEL_NAME: &str = "titanic_classification_model";

/// The artifact's file name for a model version:
/// `titanic_classification_model_output_v{version}.json`.
pub fn artifact_file_name(version: &str) -> String {
    format!("{MODEL_NAME}_output_v{version}.json")
}

/// How a model was trained.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TrainingConfig {
    /// Share of rows held out for testing (0 = fit on all rows in file order).
    pub test_size: f64,
    /// Seed of the scikit-learn-compatible split (`random_state`), and of
    /// the cross-validation folds.
    pub seed: u32,
    /// Stratified cross-validation folds on the training rows (0: none).
    pub folds: u32,
    /// How the pipeline is fitted.
    pub pipeline: PipelineConfig,
}

impl Default for TrainingConfig {
    /// The course's configuration (the reference model), with 5-fold
    /// cross-validation figures.
    fn default() -> Self {
        Self {
            test_size: 0.2,
            seed: 0,
            folds: 5,
            pipeline: PipelineConfig::default(),
        }
    }
}

/// What the model was trained on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TrainingData {
    /// SHA-256 of the training CSV file, lowercase hex.
    pub sha256: String,
    /// Rows in the file with a label: those trained and tested on.
    pub rows: usize,
    /// Rows in the file without a label, left out (absent when none).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub unlabelled_rows: usize,
    /// Rows the pipeline was fitted on.
    pub train_rows: usize,
    /// Rows held out for testing.
    pub test_rows: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// Evaluation metrics from training.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Metrics {
    /// On the training rows.
    pub train: Scores,
    /// On the held-out rows (`None` when there were none).
    pub test: Option<Scores>,
    /// Cross-validation on the training rows (`None` without folds).
    pub cross_validation: Option<CrossValidation>,
}

/// A trained model as stored on disk.
///
/// Every `Artifact` is consistent: one can only be read (and is then
/// checked) or trained, and it is read-only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, try_from = "Unchecked")]
pub struct Artifact {
    pub(crate) format_revision: u32,
    pub(crate) model_name: String,
    pub(crate) model_version: String,
    pub(crate) config: TrainingConfig,
    pub(crate) training_data: TrainingData,
    pub(crate) pipeline: Pipeline,
    pub(crate) metrics: Metrics,
    pub(crate) drift: DriftReference,
}

/// An artifact as parsed, before [`Artifact::check`].
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Unchecked {
    format_revision: u32,
    model_name: String,
    model_version: String,
    config: TrainingConfig,
    training_data: TrainingData,
    pipeline: Pipeline,
    metrics: Metrics,
    drift: DriftReference,
}

impl TryFrom<Unchecked> for Artifact {
    type Error = Error;

    fn try_from(u: Unchecked) -> Result<Self> {
        let artifact = Artifact {
            format_revision: u.format_revision,
            model_name: u.model_name,
            model_version: u.model_version,
            config: u.config,
            training_data: u.training_data,
            pipeline: u.pipeline,
            metrics: u.metrics,
            drift: u.drift,
        };
        artifact.check()?;
        Ok(artifact)
    }
}

/// The fitted pipeline's parameters, readably.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ColumnSummary {
    /// `pclass`, `age_na`, `sex_female`, ...
    pub column: String,
    /// Training mean.
    pub mean: f64,
    /// Training standard deviation (population).
    pub std: f64,
    /// Coefficient on the standardised column.
    pub coefficient: f64,
    /// The input features its contribution is explained under (several
    /// for a derived column, which shares it equally).
    pub features: Vec<String>,
}

#[derive(Deserialize)]
struct Header {
    format_revision: u32,
}

impl Artifact {
    /// The artifact as pretty JSON with a final newline; the same artifact
    /// always gives the same bytes, and floats read back exactly.
    pub fn to_json(&self) -> Result<String> {
        let mut text = serde_json::to_string_pretty(self)
            .map_err(|e| Error::Artifact(format!("cannot be written as JSON: {e}")))?;
        text.push('\n');
        Ok(text)
    }

    /// Parses and checks an artifact: its format revision, its structure and
    /// the consistency of its parameters. Any semver model version is
    /// accepted.
    pub fn from_json(text: &str) -> Result<Self> {
        let header: Header = serde_json::from_str(text).map_err(|e| {
            Error::Artifact(format!("not a model artifact (corrupt or truncated?): {e}"))
        })?;
        if header.format_revision != FORMAT_REVISION {
            return Err(Error::Artifact(format!(
                "format revision {} is not the one this build reads ({FORMAT_REVISION}): \
                 retrain with `cargo xtask train` or use a matching crate version",
                header.format_revision
            )));
        }
        serde_json::from_str(text).map_err(|e| Error::Artifact(format!("invalid artifact: {e}")))
    }

    /// The artifact format revision ([`FORMAT_REVISION`]).
    pub fn format_revision(&self) -> u32 {
        self.format_revision
    }

    /// The model's name ([`MODEL_NAME`]).
    pub fn model_name(&self) -> &str {
        &self.model_name
    }

    /// The model version (semver): the crate's `VERSION` when `cargo xtask
    /// train` wrote it, or the one given with `--version`.
    pub fn model_version(&self) -> &str {
        &self.model_version
    }

    /// How it was trained.
    pub fn config(&self) -> &TrainingConfig {
        &self.config
    }

    /// What it was trained on.
    pub fn training_data(&self) -> &TrainingData {
        &self.training_data
    }

    /// How well it does.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// The drift reference: each feature's bins and training shares.
    pub fn drift(&self) -> &DriftReference {
        &self.drift
    }

    /// The fitted pipeline, readably.
    pub fn summary(&self) -> PipelineSummary {
        let p = &self.pipeline;
        PipelineSummary {
            medians: p
                .median_imputer
                .medians
                .iter()
                .map(|m| (m.variable.clone(), m.value))
                .collect(),
            frequent_labels: p
                .rare_label_encoder
                .frequent
                .iter()
                .map(|v| (v.variable.clone(), v.labels.clone()))
                .collect(),
            columns: p
                .scaler
                .columns
                .iter()
                .zip(&p.scaler.mean)
                .zip(&p.scaler.scale)
                .zip(&p.classifier.coefficients)
                .zip(p.column_features())
                .map(
                    |((((column, mean), scale), coefficient), features)| ColumnSummary {
                        column: column.clone(),
                        mean: *mean,
                        std: 1.0 / scale,
                        coefficient: *coefficient,
                        features: features.into_iter().map(String::from).collect(),
                    },
                )
                .collect(),
            intercept: p.classifier.intercept,
            c: p.classifier.c,
        }
    }

    /// Reads an artifact file (see [`from_json`](Self::from_json)).
    pub fn read(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.to_owned(),
            source,
        })?;
        Self::from_json(&text)
    }

    /// Checks that the parameters fit together and are finite.
    pub(crate) fn check(&self) -> Result<()> {
        fn names(v: &[String]) -> Vec<&str> {
            v.iter().map(String::as_str).collect()
        }
        let fail = |what: String| Err(Error::Artifact(format!("inconsistent artifact: {what}")));
        let p = &self.pipeline;
        if self.model_name != MODEL_NAME {
            return fail(format!(
                "model name {:?}, expected {MODEL_NAME:?}",
                self.model_name
            ));
        }
        if let Err(e) = semver::Version::parse(&self.model_version) {
            return fail(format!("model version {:?}: {e}", self.model_version));
        }
        let expect = |names: Vec<&str>, wanted: &[&str], step: &str| {
            if names == wanted {
                Ok(())
            } else {
                Err(Error::Artifact(format!(
                    "inconsistent artifact: {step} has variables {names:?}, expected {wanted:?}"
                )))
            }
        };
        expect(
            names(&p.categorical_imputer.variables),
            &CATEGORICAL_FEATURES,
            "categorical_imputer",
        )?;
        expect(
            names(&p.missing_indicator.variables),
            &NUMERIC_WITH_MISSING,
            "missing_indicator",
        )?;
        expect(
            p.median_imputer
                .medians
                .iter()
                .map(|m| m.variable.as_str())
                .collect(),
            &NUMERIC_WITH_MISSING,
            "median_imputer",
        )?;
        expect(
            vec![p.cabin_letter.variable.as_str()],
            &["cabin"],
            "cabin_letter",
        )?;
        expect(
            p.rare_label_encoder
                .frequent
                .iter()
                .map(|v| v.variable.as_str())
                .collect(),
            &CATEGORICAL_FEATURES,
            "rare_label_encoder",
        )?;
        expect(
            p.one_hot_encoder
                .categories
                .iter()
                .map(|v| v.variable.as_str())
                .collect(),
            &CATEGORICAL_FEATURES,
            "one_hot_encoder",
        )?;
        if p.derived != self.config.pipeline.derived {
            return fail(format!(
                "the pipeline's derived features ({}) differ from its configuration's ({})",
                p.derived.describe(),
                self.config.pipeline.derived.describe()
            ));
        }
        let width = p.n_columns();
        if p.scaler.columns != p.column_names() {
            return fail(format!(
                "scaler columns {:?} differ from the encoder's {:?}",
                p.scaler.columns,
                p.column_names()
            ));
        }
        for (name, len) in [
            ("scaler.mean", p.scaler.mean.len()),
            ("scaler.scale", p.scaler.scale.len()),
            ("classifier.coefficients", p.classifier.coefficients.len()),
        ] {
            if len != width {
                return fail(format!("{name} has {len} values, expected {width}"));
            }
        }
        let numbers = p
            .median_imputer
            .medians
            .iter()
            .map(|m| m.value)
            .chain(p.scaler.mean.iter().copied())
            .chain(p.scaler.scale.iter().copied())
            .chain(p.classifier.coefficients.iter().copied())
            .chain([p.classifier.intercept]);
        if numbers.into_iter().any(|v| !v.is_finite()) {
            return fail("a fitted parameter is not a finite number".into());
        }
        if p.scaler.scale.iter().any(|s| *s <= 0.0) {
            return fail("a scale is not positive".into());
        }
        self.drift.check(p).or_else(fail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_name_carries_the_version() {
        assert_eq!(
            artifact_file_name("1.2.3"),
            "titanic_classification_model_output_v1.2.3.json"
        );
    }

    #[test]
    fn rejects_garbage_truncation_and_other_revisions() {
        assert!(Artifact::from_json("").is_err());
        assert!(Artifact::from_json("{\"format_revision\": 1").is_err());
        let e = Artifact::from_json("{\"format_revision\": 99}").unwrap_err();
        assert!(e.to_string().contains("format revision 99"), "{e}");
        let e = Artifact::from_json(&format!("{{\"format_revision\": {FORMAT_REVISION}}}"))
            .unwrap_err();
        assert!(e.to_string().contains("invalid artifact"), "{e}");
    }
}
