//! Evaluation metrics, as scikit-learn computes them.

use serde::{Deserialize, Serialize};

/// ROC-AUC and accuracy of one set of rows.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Scores {
    /// Number of rows scored.
    pub rows: usize,
    /// Area under the ROC curve (ties count one half), as `roc_auc_score`.
    pub roc_auc: f64,
    /// Share of rows whose prediction (`P > 0.5`) equals the label.
    pub accuracy: f64,
}

impl Scores {
    /// Scores probabilities of the positive class against 0/1 labels.
    pub fn compute(labels: &[u8], probabilities: &[f64]) -> Self {
        Self {
            rows: labels.len(),
            roc_auc: roc_auc(labels, probabilities),
            accuracy: accuracy(labels, probabilities),
        }
    }
}

/// Area under the ROC curve by the rank-sum (Mann-Whitney) statistic with
/// average ranks for ties, which equals scikit-learn's `roc_auc_score`.
/// `NaN` when one class is absent. Labels other than 1 count as 0; pairs
/// beyond the shorter slice are ignored.
pub fn roc_auc(labels: &[u8], scores: &[f64]) -> f64 {
    let n = labels.len().min(scores.len());
    let (labels, scores) = (&labels[..n], &scores[..n]);
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let mut rank_sum_pos = 0.0;
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && scores[order[j + 1]] == scores[order[i]] {
            j += 1;
        }
        let avg_rank = (i + j) as f64 / 2.0 + 1.0;
        for &k in &order[i..=j] {
            if labels[k] == 1 {
                rank_sum_pos += avg_rank;
            }
        }
        i = j + 1;
    }
    let n_pos = labels.iter().filter(|&&l| l == 1).count() as f64;
    let n_neg = labels.len() as f64 - n_pos;
    (rank_sum_pos - n_pos * (n_pos + 1.0) / 2.0) / (n_pos * n_neg)
}

/// Share of rows where `P > 0.5` agrees with the label.
pub fn accuracy(labels: &[u8], probabilities: &[f64]) -> f64 {
    let correct = labels
        .iter()
        .zip(probabilities)
        .filter(|(l, p)| u8::from(**p > 0.5) == **l)
        .count();
    correct as f64 / labels.len().min(probabilities.len()) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_abs_diff_eq;

    #[test]
    fn auc_matches_hand_computation() {
        // sklearn: roc_auc_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == 0.75
        assert_abs_diff_eq!(roc_auc(&[0, 0, 1, 1], &[0.1, 0.4, 0.35, 0.8]), 0.75);
        // ties count one half: roc_auc_score([0, 1], [0.5, 0.5]) == 0.5
        assert_abs_diff_eq!(roc_auc(&[0, 1], &[0.5, 0.5]), 0.5);
        assert!(roc_auc(&[1, 1], &[0.2, 0.3]).is_nan());
        // mismatched lengths: the pairs there are
        assert_abs_diff_eq!(roc_auc(&[0, 1, 1], &[0.1, 0.9]), 1.0);
    }

    #[test]
    fn accuracy_uses_strict_threshold() {
        assert_abs_diff_eq!(accuracy(&[1, 0, 1, 0], &[0.9, 0.5, 0.5, 0.1]), 0.75);
    }
}
