//! The versions served, as `/model`, the V2 metadata and the web app's
//! model card list them.

use classification_model::artifact::{Metrics, TrainingData};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::serving::models::Models;
use crate::serving::reports::report_path;

/// One version served.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct VersionInfo {
    /// The version.
    pub version: String,
    /// `default` (unversioned requests get it), `shadow` (scores every
    /// request too, off the response path) or `other`.
    pub role: String,
    /// `embedded`, or its artifact file.
    pub source: String,
    /// What it was trained on (SHA-256 of the data, row counts).
    pub training_data: TrainingData,
    /// Metrics from training.
    pub metrics: Metrics,
    /// Where its training report is served (`/reports/...`), if the
    /// binary carries one.
    pub report: Option<String>,
}

/// Every version `models` serves, oldest first.
pub fn versions(models: &Models) -> Vec<VersionInfo> {
    models
        .iter()
        .map(|loaded| {
            let a = loaded.model.artifact();
            VersionInfo {
                version: a.model_version().to_owned(),
                role: models.role(a.model_version()).to_owned(),
                source: loaded.source.describe(),
                training_data: a.training_data().clone(),
                metrics: a.metrics().clone(),
                report: report_path(a.model_name(), a.model_version()),
            }
        })
        .collect()
}
