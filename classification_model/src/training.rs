//! Training (feature `train`): read the data, prepare it, split it, fit the
//! pipeline, score it.

use crate::artifact::{
    Artifact, FORMAT_REVISION, MODEL_NAME, Metrics, TrainingConfig, TrainingData,
};
use crate::cross_validation::cross_validate;
use crate::dataset::read_dataset;
use crate::drift::DriftReference;
use crate::errors::{Error, Result};
use crate::metrics::Scores;
use crate::pipeline::Pipeline;
use crate::scoring::Scorer;
use crate::split::train_test_split;

/// Trains the model on a labelled CSV file's bytes and returns the artifact
/// for model version `version`. Deterministic: the same bytes, config and
/// version give the same artifact.
pub fn train(
    csv_bytes: &[u8],
    config: &TrainingConfig,
    version: &semver::Version,
) -> Result<Artifact> {
    if !(0.0..1.0).contains(&config.test_size) {
        return Err(Error::Training(format!(
            "test size must be at least 0 and below 1, got {}",
            config.test_size
        )));
    }
    let data = read_dataset(csv_bytes)?;
    let records = data.records();
    let (train_rows, test_rows) = train_test_split(records.len(), config.test_size, config.seed);
    if train_rows.is_empty() {
        return Err(Error::Training("the split leaves no training rows".into()));
    }
    let pick = |rows: &[usize]| {
        (
            rows.iter().map(|&i| records[i].clone()).collect::<Vec<_>>(),
            rows.iter().map(|&i| data.survived[i]).collect::<Vec<_>>(),
        )
    };
    let (train_x, train_y) = pick(&train_rows);
    let pipeline = Pipeline::fit(&train_x, &train_y, &config.pipeline)?;
    let drift = DriftReference::fit(&pipeline, &train_x)?;
    // the metrics come from the code that serves
    let scorer = Scorer::new(&pipeline)?;
    let score = |rows: &[usize]| {
        let p: Vec<f64> = rows
            .iter()
            .map(|&i| scorer.score(&records[i]).probability())
            .collect();
        let y: Vec<u8> = rows.iter().map(|&i| data.survived[i]).collect();
        Scores::compute(&y, &p)
    };
    let cross_validation = match config.folds {
        0 => None,
        k => Some(cross_validate(
            &train_x,
            &train_y,
            &config.pipeline,
            k as usize,
            config.seed,
        )?),
    };
    let metrics = Metrics {
        train: score(&train_rows),
        test: (!test_rows.is_empty()).then(|| score(&test_rows)),
        cross_validation,
    };
    let artifact = Artifact {
        format_revision: FORMAT_REVISION,
        model_name: MODEL_NAME.into(),
        model_version: version.to_string(),
        config: config.clone(),
        training_data: TrainingData {
            sha256: data_sha256(csv_bytes),
            rows: records.len(),
            unlabelled_rows: data.unlabelled,
            train_rows: train_rows.len(),
            test_rows: test_rows.len(),
        },
        pipeline,
        metrics,
        drift,
    };
    artifact.check()?;
    Ok(artifact)
}

/// SHA-256 of some bytes, as lowercase hex: the artifact's
/// `training_data.sha256` of the CSV file trained on.
pub fn data_sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
