//! Choosing the pipeline's configuration by cross-validation on the
//! training rows only (feature `train`): a grid of `C` and class weights for
//! each set of derived features that forward selection tries, ranked by
//! mean cross-validated ROC-AUC. The held-out test rows are split off first
//! and never read.

use serde::{Deserialize, Serialize};

use crate::artifact::TrainingConfig;
use crate::cross_validation::cross_validate;
use crate::data_preparation::Record;
use crate::dataset::read_dataset;
use crate::derived::{DerivedFeatures, SWITCHES};
use crate::errors::{Error, Result};
use crate::metrics::CrossValidation;
use crate::pipeline::ClassWeight;
use crate::split::train_test_split;

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
    /// Derived features (absent: none).
    #[serde(default, skip_serializing_if = "DerivedFeatures::is_none")]
    pub derived: DerivedFeatures,
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
    /// Every candidate in the order tried: per set of derived features,
    /// class weighting then `C` ascending.
    pub candidates: Vec<Candidate>,
    /// The index of the chosen one: the highest mean ROC-AUC (the first
    /// such in grid order on a tie).
    pub chosen: usize,
}

/// Cross-validates every candidate on the training rows that `base`'s
/// split leaves (its `test_size`, `seed` and `folds`), and chooses one.
///
/// Derived features are chosen by forward selection: the grid runs with
/// none, then with each switch added to the best set so far; the switch
/// whose grid scores best joins the set if that beats the set without it,
/// and the search stops when no switch does. Deterministic.
pub fn tune(csv_bytes: &[u8], base: &TrainingConfig) -> Result<Tuning> {
    tune_observed(csv_bytes, base, |_| {})
}

/// How far [`tune`] has come: given after each candidate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TuneProgress {
    /// Candidates cross-validated so far.
    pub done: usize,
    /// The most there can be: forward selection may stop before.
    pub most: usize,
    /// The best mean cross-validated ROC-AUC so far.
    pub best_roc_auc: f64,
}

/// [`tune`], telling `progress` after each candidate (for a progress bar).
pub fn tune_observed(
    csv_bytes: &[u8],
    base: &TrainingConfig,
    mut progress: impl FnMut(TuneProgress),
) -> Result<Tuning> {
    if base.folds < 2 {
        return Err(Error::Training(format!(
            "tuning cross-validates: give at least 2 folds, not {}",
            base.folds
        )));
    }
    let data = read_dataset(csv_bytes)?;
    let records = data.records();
    let (train_rows, _test_rows_never_read) =
        train_test_split(records.len(), base.test_size, base.seed);
    let x: Vec<_> = train_rows.iter().map(|&i| records[i].clone()).collect();
    let y: Vec<u8> = train_rows.iter().map(|&i| data.survived[i]).collect();
    // a grid with the base's switches, then at most one per switch left in
    // each round of forward selection
    let left = base
        .pipeline
        .derived
        .set()
        .iter()
        .filter(|on| !**on)
        .count();
    let most = CLASS_WEIGHTS.len() * C_GRID.len() * (1 + left * (left + 1) / 2);
    let mut observe = |candidates: &[Candidate]| {
        progress(TuneProgress {
            done: candidates.len(),
            most,
            best_roc_auc: candidates
                .iter()
                .map(|c| c.cross_validation.roc_auc.mean)
                .fold(f64::NEG_INFINITY, f64::max),
        })
    };
    let mut candidates = Vec::new();
    let mut chosen = grid(
        &mut candidates,
        &x,
        &y,
        base,
        base.pipeline.derived,
        &mut observe,
    )?;
    let mut set = base.pipeline.derived;
    loop {
        let mut round: Option<usize> = None;
        for switch in 0..SWITCHES.len() {
            let mut on = set.set();
            if on[switch] {
                continue;
            }
            on[switch] = true;
            let best_here = grid(
                &mut candidates,
                &x,
                &y,
                base,
                DerivedFeatures::from_set(on),
                &mut observe,
            )?;
            if round.is_none_or(|r| auc(&candidates, best_here) > auc(&candidates, r)) {
                round = Some(best_here);
            }
        }
        match round {
            Some(r) if auc(&candidates, r) > auc(&candidates, chosen) => {
                chosen = r;
                set = candidates[r].derived;
            }
            _ => break,
        }
    }
    let mut config = base.clone();
    config.pipeline.c = candidates[chosen].c;
    config.pipeline.class_weight = candidates[chosen].class_weight;
    config.pipeline.derived = candidates[chosen].derived;
    Ok(Tuning {
        config,
        rows: y.len(),
        candidates,
        chosen,
    })
}

/// Cross-validates the grid of `C` and class weights with `derived` on,
/// appending to `candidates`; the index of its best.
fn grid(
    candidates: &mut Vec<Candidate>,
    x: &[Record<'_>],
    y: &[u8],
    base: &TrainingConfig,
    derived: DerivedFeatures,
    observe: &mut dyn FnMut(&[Candidate]),
) -> Result<usize> {
    let first = candidates.len();
    for class_weight in CLASS_WEIGHTS {
        for c in C_GRID {
            let mut pipeline = base.pipeline.clone();
            pipeline.c = c;
            pipeline.class_weight = class_weight;
            pipeline.derived = derived;
            let cross_validation = cross_validate(x, y, &pipeline, base.folds as usize, base.seed)?;
            candidates.push(Candidate {
                c,
                class_weight,
                derived,
                cross_validation,
            });
            observe(candidates);
        }
    }
    Ok(best(candidates, first))
}

fn auc(candidates: &[Candidate], i: usize) -> f64 {
    candidates[i].cross_validation.roc_auc.mean
}

/// The candidate from `first` on with the highest mean ROC-AUC (the first
/// such on a tie).
fn best(candidates: &[Candidate], first: usize) -> usize {
    (first..candidates.len()).fold(first, |b, i| {
        if auc(candidates, i) > auc(candidates, b) {
            i
        } else {
            b
        }
    })
}
