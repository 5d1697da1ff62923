//! Stratified k-fold cross-validation on training rows (feature `train`).

use crate::data_preparation::Record;
use crate::errors::{Error, Result};
use crate::metrics::{CrossValidation, Scores};
use crate::pipeline::{Pipeline, PipelineConfig};
use crate::scoring::Scorer;
use crate::split::numpy_permutation;

/// `k` folds of the row indices of `labels`, each class spread evenly: each
/// class's rows, shuffled by `numpy_permutation(n_class, seed)`, are dealt
/// to the folds in turn (the count carrying on from one class to the next),
/// and each fold lists its rows in ascending order. Deterministic.
pub fn stratified_folds(labels: &[u8], k: usize, seed: u32) -> Vec<Vec<usize>> {
    let k = k.max(1);
    let mut folds = vec![Vec::new(); k];
    let mut turn = 0;
    for class in [0u8, 1] {
        let rows: Vec<usize> = (0..labels.len())
            .filter(|&i| u8::from(labels[i] == 1) == class)
            .collect();
        for j in numpy_permutation(rows.len(), seed) {
            folds[turn % k].push(rows[j]);
            turn += 1;
        }
    }
    for fold in &mut folds {
        fold.sort_unstable();
    }
    folds
}

/// Fits `config` on all folds but one and scores the one left out, for each
/// of `k` stratified folds of `records`.
pub fn cross_validate(
    records: &[Record<'_>],
    labels: &[u8],
    config: &PipelineConfig,
    k: usize,
    seed: u32,
) -> Result<CrossValidation> {
    if k < 2 || k > labels.len() {
        return Err(Error::Training(format!(
            "cross-validation needs from 2 to {} folds, got {k}",
            labels.len()
        )));
    }
    let folds = stratified_folds(labels, k, seed);
    let mut scores = Vec::with_capacity(k);
    for held in &folds {
        let mut keep = vec![true; labels.len()];
        for &i in held {
            keep[i] = false;
        }
        let fit: Vec<usize> = (0..labels.len()).filter(|&i| keep[i]).collect();
        let x: Vec<Record<'_>> = fit.iter().map(|&i| records[i].clone()).collect();
        let y: Vec<u8> = fit.iter().map(|&i| labels[i]).collect();
        let scorer = Scorer::new(&Pipeline::fit(&x, &y, config)?)?;
        let p: Vec<f64> = held
            .iter()
            .map(|&i| scorer.score(&records[i]).probability())
            .collect();
        let y: Vec<u8> = held.iter().map(|&i| labels[i]).collect();
        scores.push(Scores::compute(&y, &p));
    }
    Ok(CrossValidation::of(&scores))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_partition_the_rows_and_keep_the_class_balance() {
        let labels: Vec<u8> = (0..103).map(|i| u8::from(i % 3 == 0)).collect();
        let folds = stratified_folds(&labels, 5, 7);
        let mut all: Vec<usize> = folds.concat();
        all.sort_unstable();
        assert_eq!(all, (0..103).collect::<Vec<_>>());
        for fold in &folds {
            assert!((20..=21).contains(&fold.len()), "{}", fold.len());
            let positives = fold.iter().filter(|&&i| labels[i] == 1).count();
            assert!((6..=7).contains(&positives), "{positives}");
        }
        assert_eq!(folds, stratified_folds(&labels, 5, 7));
        assert_ne!(folds, stratified_folds(&labels, 5, 8));
    }
}
