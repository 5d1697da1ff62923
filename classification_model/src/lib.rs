//! A trained Titanic survival classifier, embedded in the crate.
//!
//! A faithful port of the scikit-learn + feature_engine course pipeline
//! (categorical imputation, missing indicators, median imputation, cabin
//! letter, rare-label grouping, one-hot encoding, standard scaling, L2
//! logistic regression), trained with linfa and shipped as a versioned JSON
//! artifact inside the crate: no Python, no downloads, no training at run time.
//!
//! Start with [`make_prediction`] and [`Passenger`]; load a retrained artifact
//! with [`Model::load`].

pub mod artifact;
pub mod data_preparation;
pub mod errors;
pub mod metrics;
pub mod passenger;
pub mod pipeline;
pub mod prediction;
pub mod scoring;
pub mod split;
pub mod training;
pub mod transformers;
pub mod validation;

pub use artifact::{Artifact, TrainingConfig, artifact_file_name};
pub use errors::{Error, FieldError, FieldErrors, Result};
pub use passenger::{FieldValue, Passenger};
pub use prediction::{
    Explanation, Model, PredictionResult, explain, make_prediction, model_version,
};
pub use training::train;

#[cfg(test)]
mod tests {
    #[test]
    fn version_file_matches_cargo_version() {
        let v = semver::Version::parse(super::model_version()).expect("VERSION is semver");
        assert_eq!(v.to_string(), env!("CARGO_PKG_VERSION"));
    }
}
