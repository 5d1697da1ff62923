//! Training (feature `train`): read the data, prepare it, split it, fit the
//! pipeline, score it.

use crate::artifact::{
    Artifact, FORMAT_REVISION, MODEL_NAME, Metrics, TrainingConfig, TrainingData,
};
use crate::cross_validation::cross_validate;
use crate::dataset::{Dataset, read_dataset_from};
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
    train_from(csv_bytes, config, version)
}

/// [`train`] on a training file read from `source` (a file) as it arrives:
/// its text is hashed and parsed on the way, never held whole.
pub fn train_from(
    source: impl std::io::Read,
    config: &TrainingConfig,
    version: &semver::Version,
) -> Result<Artifact> {
    if !(0.0..1.0).contains(&config.test_size) {
        return Err(Error::Training(format!(
            "test size must be at least 0 and below 1, got {}",
            config.test_size
        )));
    }
    let (data, sha256) = read_dataset_hashed(source)?;
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
            sha256,
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
/// A training file read from `source` as [`read_dataset_from`] does, and
/// the SHA-256 of its bytes (lowercase hex, as `training_data.sha256`).
pub fn read_dataset_hashed(source: impl std::io::Read) -> Result<(Dataset, String)> {
    use sha2::Digest as _;
    /// A reader that hashes what passes through it.
    struct Hashing<R> {
        inner: R,
        hasher: sha2::Sha256,
    }
    impl<R: std::io::Read> std::io::Read for Hashing<R> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.inner.read(buf)?;
            self.hasher.update(&buf[..n]);
            Ok(n)
        }
    }
    let mut hashing = Hashing {
        inner: source,
        hasher: sha2::Sha256::new(),
    };
    let data = read_dataset_from(&mut hashing)?;
    // whatever the CSV reader left unread (nothing, normally) is the file's too
    std::io::copy(&mut hashing, &mut std::io::sink())
        .map_err(|e| Error::Data(format!("cannot read the training data: {e}")))?;
    Ok((data, hex(&hashing.hasher.finalize())))
}

/// Lowercase hex.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `training_data.sha256` of the CSV file trained on.
pub fn data_sha256(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    hex(&sha2::Sha256::digest(bytes))
}
