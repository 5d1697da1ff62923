//! Choosing the pipeline's configuration by cross-validation on the
//! training rows only (feature `train`): a grid of `C` and class weights,
//! ranked by mean cross-validated ROC-AUC. The held-out test rows are
//! split off first and never read.

use serde::{Deserialize, Serialize};

use crate::artifact::TrainingConfig;
use crate::cross_validation::cross_validate;
use crate::dataset::read_dataset;
use crate::errors::{Error, Result};
use crate::metrics::CrossValidation;
use crate::pipeline::ClassWeight;
use crate::split::train_test_split;
use crate::validation::validate;

/// The `C` values tried: a log grid from 1e-4 to 1e2, two points a decade.
pub const C_GRID: [f64; 13] = [
    1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0,
];

/// The class weightings tried.
pub const CLASS_WEIGHTS: [ClassWeight; 2] = [ClassWeight::None, ClassWeight::Balanced];

/// One configuration tried, and how it cross-validated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    /// Inverse regularisation strength.
    pub c: f64,
    /// Class weighting.
    pub class_weight: ClassWeight,
    /// Its cross-validation on the training rows.
    pub cross_validation: CrossValidation,
}

/// A search's result: every candidate in grid order and the one chosen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tuning {
    /// The configuration chosen: the base with the best candidate's settings.
    pub config: TrainingConfig,
    /// Rows cross-validated on (the training rows of the base's split).
    pub rows: usize,
    /// Every candidate, class weighting then `C` ascending.
    pub candidates: Vec<Candidate>,
    /// The index of the chosen one: the highest mean ROC-AUC (the first
    /// such in grid order on a tie).
    pub chosen: usize,
}

/// Cross-validates every candidate on the training rows that `base`'s
/// split leaves (its `test_size`, `seed` and `folds`), and chooses one.
/// Deterministic.
pub fn tune(csv_bytes: &[u8], base: &TrainingConfig) -> Result<Tuning> {
    if base.folds < 2 {
        return Err(Error::Training(format!(
            "tuning cross-validates: give at least 2 folds, not {}",
            base.folds
        )));
    }
    let data = read_dataset(csv_bytes)?;
    let records = validate(&data.passengers).map_err(Error::Invalid)?;
    let (train_rows, _test_rows_never_read) =
        train_test_split(records.len(), base.test_size, base.seed);
    let x: Vec<_> = train_rows.iter().map(|&i| records[i].clone()).collect();
    let y: Vec<u8> = train_rows.iter().map(|&i| data.survived[i]).collect();
    let mut candidates = Vec::new();
    for class_weight in CLASS_WEIGHTS {
        for c in C_GRID {
            let mut pipeline = base.pipeline.clone();
            pipeline.c = c;
            pipeline.class_weight = class_weight;
            let cross_validation =
                cross_validate(&x, &y, &pipeline, base.folds as usize, base.seed)?;
            candidates.push(Candidate {
                c,
                class_weight,
                cross_validation,
            });
        }
    }
    let mut chosen = 0;
    for (i, candidate) in candidates.iter().enumerate() {
        if candidate.cross_validation.roc_auc.mean
            > candidates[chosen].cross_validation.roc_auc.mean
        {
            chosen = i;
        }
    }
    let mut config = base.clone();
    config.pipeline.c = candidates[chosen].c;
    config.pipeline.class_weight = candidates[chosen].class_weight;
    Ok(Tuning {
        config,
        rows: y.len(),
        candidates,
        chosen,
    })
}
