#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs)]

pub mod artifact;
mod checked;
#[cfg(feature = "train")]
mod cross_validation;
mod data_preparation;
#[cfg(any(test, feature = "train"))]
mod dataset;
mod derived;
pub mod drift;
mod errors;
mod fields;
#[cfg(feature = "train")]
mod fitting;
pub mod metrics;
mod passenger;
mod pipeline;
mod prediction;
mod scoring;
#[cfg(feature = "train")]
mod split;
#[cfg(feature = "train")]
mod training;
mod transformers;
#[cfg(feature = "train")]
mod tuning;
mod value;

pub use checked::CheckedBatch;
pub use errors::{Error, FieldError, FieldErrors};
pub use fields::Passenger;
pub use prediction::{
    Contributions, Explanation, Model, PredictOptions, Prediction, PredictionResult,
    make_prediction, model_version,
};
pub use value::FieldValue;

/// The field table and what derives from it: each field's rules
/// ([`schema::FIELDS`]), the JSON Schema of a record, the columns a record
/// may carry, and the checks one record gets.
pub mod schema {
    pub use crate::checked::{Stored, check_passenger};
    pub use crate::fields::{
        Column, FIELDS, FeatureSpec, Field, Kind, N_FIELDS, column_names, feature_specs, features,
    };
    pub use crate::passenger::{
        ExtraKey, KeyProblem, Keyed, explain_json_record, explain_keyed_record,
    };
    pub use crate::schema_json::{field_schema, json_schema};
    pub use crate::value::{Checked, shorten};
}

/// Reading passengers from CSV with the dataset's header.
pub mod csv {
    pub use crate::errors::CsvError;
    pub use crate::passenger::{CsvRows, read_passengers_csv, read_passengers_csv_at_most};
}

/// Training and tuning (feature `train`): what `cargo xtask train` and
/// `tune` use. Prediction needs none of it.
#[cfg(feature = "train")]
#[cfg_attr(docsrs, doc(cfg(feature = "train")))]
pub mod train {
    pub use crate::cross_validation::stratified_folds;
    pub use crate::dataset::{Dataset, read_dataset, read_dataset_from};
    pub use crate::split::train_test_split;
    pub use crate::training::{data_sha256, read_dataset_hashed, train, train_from};
    pub use crate::tuning::{
        C_GRID, CLASS_WEIGHTS, Candidate, TuneProgress, Tuning, tune, tune_observed,
    };
}

mod schema_json;

#[cfg(test)]
mod tests {
    /// The names at the crate root: what a `cargo add` user sees first.
    #[test]
    fn the_root_exports_at_most_twenty_names() {
        let mut names = Vec::new();
        let (mut depth, mut item) = (0i32, String::new());
        for line in include_str!("lib.rs").lines() {
            if depth == 0 && line.starts_with("pub mod ") {
                names.push(line[8..].trim_end_matches([';', '{', ' ']).to_owned());
            }
            if depth == 0 && line.starts_with("pub use ") || !item.is_empty() {
                item.push_str(line);
                if line.contains(';') {
                    let list = item.split_once("::").map_or("", |(_, rest)| rest);
                    for name in list.split(',') {
                        let name = name.trim_matches(|c: char| "{}; ".contains(c));
                        if let Some(last) = name.rsplit("::").next().filter(|n| !n.is_empty()) {
                            names.push(last.to_owned());
                        }
                    }
                    item.clear();
                }
            }
            depth += line.matches('{').count() as i32 - line.matches('}').count() as i32;
        }
        assert!(names.contains(&"make_prediction".to_owned()), "{names:?}");
        assert!(names.len() <= 20, "{} names: {names:?}", names.len());
    }

    #[test]
    fn version_file_matches_cargo_version() {
        let v = semver::Version::parse(super::model_version()).expect("VERSION is semver");
        assert_eq!(v.to_string(), env!("CARGO_PKG_VERSION"));
    }
}
