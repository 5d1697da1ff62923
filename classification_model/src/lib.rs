#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs)]

mod artifact;
#[cfg(feature = "train")]
mod cross_validation;
mod data_preparation;
mod dataset;
mod derived;
mod drift;
mod errors;
mod fields;
#[cfg(feature = "train")]
mod fitting;
mod metrics;
mod passenger;
mod pipeline;
mod prediction;
mod schema;
mod scoring;
#[cfg(feature = "train")]
mod split;
#[cfg(feature = "train")]
mod training;
mod transformers;
#[cfg(feature = "train")]
mod tuning;
mod validation;
mod value;

pub use artifact::{
    Artifact, ColumnSummary, FORMAT_REVISION, MODEL_NAME, Metrics, PipelineSummary, TrainingConfig,
    TrainingData, artifact_file_name,
};
#[cfg(feature = "train")]
#[cfg_attr(docsrs, doc(cfg(feature = "train")))]
pub use cross_validation::stratified_folds;
pub use data_preparation::title;
pub use dataset::{Dataset, read_dataset};
pub use derived::{DerivedFeatures, SWITCHES};
pub use drift::{DriftReference, FeatureBins, MAX_BINS, MISSING_BIN, PSI_ALERT, PSI_FLOOR, psi};
pub use errors::{CsvError, Error, FieldError, FieldErrors, Result};
pub use fields::{
    Column, FIELDS, FeatureSpec, Field, IGNORED_COLUMNS, Kind, LABEL, N_FIELDS, Passenger,
    column_names, feature_specs, features,
};
pub use metrics::{CrossValidation, LiveScores, MeanSd, Scores, SortedScores, accuracy, roc_auc};
pub use passenger::{
    CsvRows, ID_KEY, Identified, KeyProblem, explain_identified_record, explain_json_record,
    read_passengers_csv, read_passengers_csv_at_most,
};
pub use pipeline::{ClassWeight, PipelineConfig};
pub use prediction::{
    Contributions, Explanation, Model, PredictionResult, explain, make_prediction, model_version,
};
pub use schema::{field_schema, json_schema};
#[cfg(feature = "train")]
#[cfg_attr(docsrs, doc(cfg(feature = "train")))]
pub use split::train_test_split;
#[cfg(feature = "train")]
#[cfg_attr(docsrs, doc(cfg(feature = "train")))]
pub use training::{data_sha256, train};
#[cfg(feature = "train")]
#[cfg_attr(docsrs, doc(cfg(feature = "train")))]
pub use tuning::{C_GRID, CLASS_WEIGHTS, Candidate, Tuning, tune};
pub use validation::check_passenger;
pub use value::{Checked, FieldValue};

#[cfg(test)]
mod tests {
    #[test]
    fn version_file_matches_cargo_version() {
        let v = semver::Version::parse(super::model_version()).expect("VERSION is semver");
        assert_eq!(v.to_string(), env!("CARGO_PKG_VERSION"));
    }
}
