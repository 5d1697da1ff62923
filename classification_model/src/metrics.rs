//! Evaluation metrics, as scikit-learn computes them.

use serde::{Deserialize, Serialize};

/// How well probabilities fit the labels of one set of rows.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Scores {
    /// Number of rows scored.
    pub rows: usize,
    /// Area under the ROC curve (ties count one half), as `roc_auc_score`.
    pub roc_auc: f64,
    /// Share of rows whose prediction (`P > 0.5`) equals the label.
    pub accuracy: f64,
    /// Mean negative log-likelihood, as `log_loss` (probabilities clipped
    /// to `[1e-15, 1 - 1e-15]`).
    pub log_loss: f64,
    /// Mean squared difference between probability and label, as
    /// `brier_score_loss`.
    pub brier: f64,
}

impl Scores {
    /// Scores probabilities of the positive class against 0/1 labels.
    pub fn compute(labels: &[u8], probabilities: &[f64]) -> Self {
        let n = labels.len().min(probabilities.len()).max(1) as f64;
        let pairs = || labels.iter().zip(probabilities);
        Self {
            rows: labels.len(),
            roc_auc: roc_auc(labels, probabilities),
            accuracy: accuracy(labels, probabilities),
            log_loss: pairs().map(|(&y, &p)| log_loss_term(p, y)).sum::<f64>() / n,
            brier: pairs().map(|(&y, &p)| brier_term(p, y)).sum::<f64>() / n,
        }
    }
}

/// One row's negative log-likelihood (label 1 is positive, any other 0).
fn log_loss_term(probability: f64, label: u8) -> f64 {
    let p = probability.clamp(1e-15, 1.0 - 1e-15);
    -if label == 1 { p.ln() } else { (1.0 - p).ln() }
}

/// One row's squared error.
fn brier_term(probability: f64, label: u8) -> f64 {
    (probability - f64::from(u8::from(label == 1))).powi(2)
}

/// A mean and a standard deviation (population: over the folds as they are).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MeanSd {
    /// The mean.
    pub mean: f64,
    /// The standard deviation.
    pub sd: f64,
}

impl MeanSd {
    /// Of `values` (`NaN`s if there are none).
    pub fn of(values: &[f64]) -> Self {
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        let sd = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
        MeanSd { mean, sd }
    }
}

/// Cross-validation on the training rows: each metric's mean and standard
/// deviation over the held-out folds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CrossValidation {
    /// Number of stratified folds.
    pub folds: u32,
    /// ROC-AUC over the folds.
    pub roc_auc: MeanSd,
    /// Accuracy over the folds.
    pub accuracy: MeanSd,
    /// Log-loss over the folds.
    pub log_loss: MeanSd,
    /// Brier score over the folds.
    pub brier: MeanSd,
}

impl CrossValidation {
    /// Summarises the scores of each held-out fold.
    pub fn of(folds: &[Scores]) -> Self {
        let each = |f: fn(&Scores) -> f64| MeanSd::of(&folds.iter().map(f).collect::<Vec<_>>());
        CrossValidation {
            folds: folds.len() as u32,
            roc_auc: each(|s| s.roc_auc),
            accuracy: each(|s| s.accuracy),
            log_loss: each(|s| s.log_loss),
            brier: each(|s| s.brier),
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

/// Accuracy, ROC-AUC, log-loss and Brier score of (probability, label)
/// pairs that arrive in ascending order of probability, as a database
/// cursor gives them: constant memory at any count. The ROC-AUC equals
/// [`roc_auc`] on the same pairs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SortedScores {
    n: u64,
    positives: u64,
    correct: u64,
    log_loss: f64,
    brier: f64,
    rank_sum_positives: f64,
    ranked: u64,
    tie: Option<(f64, u64, u64)>,
}

/// What [`SortedScores`] computed.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LiveScores {
    /// Pairs scored.
    pub rows: u64,
    /// Share of rows whose prediction (`P > 0.5`) equals the label.
    pub accuracy: f64,
    /// Area under the ROC curve; `null` unless both labels occur.
    pub roc_auc: Option<f64>,
    /// Mean negative log-likelihood (probabilities clipped to `[1e-15, 1 - 1e-15]`).
    pub log_loss: f64,
    /// Mean squared difference between probability and label.
    pub brier: f64,
}

impl SortedScores {
    /// Adds one pair; `probability` must not be below the previous one's.
    pub fn push(&mut self, probability: f64, label: u8) {
        let y = u8::from(label == 1);
        self.n += 1;
        self.positives += u64::from(y);
        self.correct += u64::from(u8::from(probability > 0.5) == y);
        self.log_loss += log_loss_term(probability, y);
        self.brier += brier_term(probability, y);
        match &mut self.tie {
            Some((value, count, pos)) if *value == probability => {
                *count += 1;
                *pos += u64::from(y);
            }
            _ => {
                self.close_tie();
                self.tie = Some((probability, 1, u64::from(y)));
            }
        }
    }

    fn close_tie(&mut self) {
        if let Some((_, count, pos)) = self.tie.take() {
            // the tied ranks ranked+1 ..= ranked+count, averaged
            let average = self.ranked as f64 + (count as f64 + 1.0) / 2.0;
            self.rank_sum_positives += average * pos as f64;
            self.ranked += count;
        }
    }

    /// The scores of the pairs pushed; `None` if there were none.
    pub fn finish(mut self) -> Option<LiveScores> {
        self.close_tie();
        if self.n == 0 {
            return None;
        }
        let n = self.n as f64;
        let (pos, neg) = (self.positives as f64, (self.n - self.positives) as f64);
        Some(LiveScores {
            rows: self.n,
            accuracy: self.correct as f64 / n,
            roc_auc: (pos > 0.0 && neg > 0.0)
                .then(|| (self.rank_sum_positives - pos * (pos + 1.0) / 2.0) / (pos * neg)),
            log_loss: self.log_loss / n,
            brier: self.brier / n,
        })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn sorted_scores_agree_with_the_batch_metrics() {
        let labels = [0u8, 1, 0, 1, 1, 0, 1, 0];
        let p: [f64; 8] = [0.1, 0.4, 0.4, 0.35, 0.8, 0.5, 0.5, 0.2];
        let mut order: Vec<usize> = (0..p.len()).collect();
        order.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
        let mut s = SortedScores::default();
        for i in order {
            s.push(p[i], labels[i]);
        }
        let live = s.finish().unwrap();
        assert_eq!(live.rows, 8);
        assert_abs_diff_eq!(live.roc_auc.unwrap(), roc_auc(&labels, &p), epsilon = 1e-15);
        assert_abs_diff_eq!(live.accuracy, accuracy(&labels, &p));
        let brier = labels
            .iter()
            .zip(&p)
            .map(|(&y, &q)| (q - f64::from(y)).powi(2))
            .sum::<f64>()
            / 8.0;
        assert_abs_diff_eq!(live.brier, brier, epsilon = 1e-15);
        assert!(SortedScores::default().finish().is_none());
    }

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
    fn log_loss_brier_and_their_spread() {
        // sklearn: log_loss([0, 1], [0.1, 0.8]), brier_score_loss(...)
        let s = Scores::compute(&[0, 1], &[0.1, 0.8]);
        assert_abs_diff_eq!(
            s.log_loss,
            -(0.9f64.ln() + 0.8f64.ln()) / 2.0,
            epsilon = 1e-15
        );
        assert_abs_diff_eq!(s.brier, 0.025, epsilon = 1e-15);
        let m = MeanSd::of(&[1.0, 3.0]);
        assert_eq!((m.mean, m.sd), (2.0, 1.0));
        let cv = CrossValidation::of(&[s, s]);
        assert_eq!((cv.folds, cv.brier.sd), (2, 0.0));
    }

    #[test]
    fn accuracy_uses_strict_threshold() {
        assert_abs_diff_eq!(accuracy(&[1, 0, 1, 0], &[0.9, 0.5, 0.5, 0.1]), 0.75);
    }
}
