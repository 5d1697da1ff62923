//! Drift reference: per feature, the bins its values fall into and the share
//! of training rows in each, fixed at training time and kept in the artifact
//! (`docs/PIPELINE.md`, "Drift bins"). A service compares the shares of
//! what it served against these with the population stability index.

use serde::{Deserialize, Serialize};

use crate::data_preparation::{CATEGORICAL_FEATURES, NUMERIC_WITH_MISSING, Record};
use crate::fields::{CATEGORICAL_FIELDS, FIRST_LETTER, NUMERIC_FIELDS};
use crate::fields::{N_FIELDS, features};
use crate::pipeline::Pipeline;
use crate::transformers::CabinLetter;

/// The most bins one feature may have, so that a bin index fits in 5 bits.
pub const MAX_BINS: usize = 31;

/// Shares below this count as this in [`psi`], so that an empty bin does not
/// make the index infinite.
pub const PSI_FLOOR: f64 = 1e-4;

/// PSI above which a feature is flagged as drifted.
pub const PSI_ALERT: f64 = 0.2;

/// The name of the bin of missing values.
pub const MISSING_BIN: &str = "Missing";

/// The bins of every feature, in [`features`] order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DriftReference {
    pub(crate) features: Vec<FeatureBins>,
}

/// One feature's bins and the share of training rows in each.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FeatureBins {
    /// The feature (as in explanations).
    pub feature: String,
    /// Numeric features: the cut points (unique training deciles); bin `i`
    /// holds values with exactly `i` cut points at or below them. Empty for
    /// categorical features.
    pub edges: Vec<f64>,
    /// Each bin's name: `< 22`, `[22, 28)`, `>= 80`; or a kept label,
    /// `Rare`, `Missing`.
    pub bins: Vec<String>,
    /// Share of training rows in each bin (they sum to 1).
    pub shares: Vec<f64>,
}

impl DriftReference {
    /// Every feature's bins, in [`features`] order.
    pub fn features(&self) -> &[FeatureBins] {
        &self.features
    }

    /// Fits the bins on the training records.
    #[cfg(feature = "train")]
    pub(crate) fn fit(pipeline: &Pipeline, records: &[Record<'_>]) -> crate::errors::Result<Self> {
        let mut features: Vec<FeatureBins> = features()
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let edges = match SOURCES[i] {
                    Source::Numeric => deciles(records.iter().filter_map(|r| r.number(i))),
                    Source::Categorical(_) => Vec::new(),
                };
                FeatureBins {
                    feature: (*f).to_owned(),
                    bins: Vec::new(),
                    shares: Vec::new(),
                    edges,
                }
            })
            .collect();
        for (i, f) in features.iter_mut().enumerate() {
            f.bins = bin_names(pipeline, i, &f.edges);
            if f.bins.len() > MAX_BINS {
                return Err(crate::Error::Training(format!(
                    "feature {} would have {} drift bins, more than {MAX_BINS}: raise rare_label_tol",
                    f.feature,
                    f.bins.len()
                )));
            }
        }
        let mut reference = DriftReference { features };
        let mut counts = vec![[0usize; MAX_BINS]; N_FIELDS];
        for r in records {
            for (i, b) in reference.bins_of(pipeline, r).into_iter().enumerate() {
                counts[i][usize::from(b)] += 1;
            }
        }
        let n = records.len().max(1) as f64;
        for (f, c) in reference.features.iter_mut().zip(&counts) {
            f.shares = c[..f.bins.len()].iter().map(|&k| k as f64 / n).collect();
        }
        Ok(reference)
    }

    /// The bin of each feature of a prepared record, in [`features`] order.
    pub(crate) fn bins_of(&self, pipeline: &Pipeline, r: &Record<'_>) -> [u8; N_FIELDS] {
        let categorical = r.categorical();
        std::array::from_fn(|i| {
            let f = &self.features[i];
            let bin = match SOURCES[i] {
                Source::Numeric => match r.number(i) {
                    // the last bin is `Missing` for features that may be missing
                    None => f.bins.len() - 1,
                    Some(x) => f.edges.iter().take_while(|e| **e <= x).count(),
                },
                Source::Categorical(var) => match categorical[var] {
                    None => f.bins.len() - 1,
                    Some(value) => {
                        let value = if FIRST_LETTER[var] {
                            CabinLetter::transform(value)
                        } else {
                            value
                        };
                        let kept = &pipeline.rare_label_encoder.frequent[var].labels;
                        match kept
                            .iter()
                            .filter(|l| *l != MISSING_BIN)
                            .position(|l| l == value)
                        {
                            Some(k) => k,
                            // `Rare` comes just before `Missing`
                            None => f.bins.len() - 2,
                        }
                    }
                },
            };
            bin.min(f.bins.len() - 1) as u8
        })
    }

    /// Checks that every feature is there, in order, with one share per bin.
    pub(crate) fn check(&self, pipeline: &Pipeline) -> Result<(), String> {
        let names: Vec<&str> = self.features.iter().map(|f| f.feature.as_str()).collect();
        if names != features() {
            return Err(format!(
                "drift features {names:?}, expected {:?}",
                features()
            ));
        }
        for (i, f) in self.features.iter().enumerate() {
            let expected = bin_names(pipeline, i, &f.edges);
            if f.bins != expected {
                return Err(format!(
                    "drift bins of {} are {:?}, expected {expected:?}",
                    f.feature, f.bins
                ));
            }
            if f.shares.len() != f.bins.len()
                || f.bins.len() > MAX_BINS
                || f.shares.iter().any(|s| !(0.0..=1.0).contains(s))
                || f.edges
                    .windows(2)
                    .any(|w| w[0].partial_cmp(&w[1]) != Some(std::cmp::Ordering::Less))
                || f.edges.iter().any(|e| !e.is_finite())
            {
                return Err(format!("drift bins of {} are inconsistent", f.feature));
            }
        }
        Ok(())
    }
}

/// Where feature number `i` (its field's index) comes from: a numeric field
/// or a categorical variable, as the field table's roles say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Numeric,
    Categorical(usize),
}

/// Each feature's source; a field without one fails the build.
const SOURCES: [Source; N_FIELDS] = {
    let mut out = [Source::Numeric; N_FIELDS];
    let mut i = 0;
    while i < N_FIELDS {
        let mut found = false;
        let mut k = 0;
        while k < NUMERIC_FIELDS.len() {
            found |= NUMERIC_FIELDS[k] == i;
            k += 1;
        }
        let mut var = 0;
        while var < CATEGORICAL_FIELDS.len() {
            if CATEGORICAL_FIELDS[var] == i {
                out[i] = Source::Categorical(var);
                found = true;
            }
            var += 1;
        }
        assert!(found, "a field has no role the drift bins know");
        i += 1;
    }
    out
};

/// The names of feature `i`'s bins, from the pipeline (categorical) or the
/// cut points (numeric).
fn bin_names(pipeline: &Pipeline, i: usize, edges: &[f64]) -> Vec<String> {
    let name = features()[i];
    let mut bins = Vec::new();
    if let Some(var) = CATEGORICAL_FEATURES.iter().position(|c| *c == name) {
        bins.extend(
            pipeline.rare_label_encoder.frequent[var]
                .labels
                .iter()
                .filter(|l| *l != MISSING_BIN)
                .cloned(),
        );
        bins.push(pipeline.rare_label_encoder.replace_with.clone());
        bins.push(MISSING_BIN.to_owned());
        return bins;
    }
    match edges {
        [] => bins.push("all".to_owned()),
        _ => {
            bins.push(format!("< {}", edges[0]));
            for w in edges.windows(2) {
                bins.push(format!("[{}, {})", w[0], w[1]));
            }
            bins.push(format!(">= {}", edges[edges.len() - 1]));
        }
    }
    if NUMERIC_WITH_MISSING.contains(&name) {
        bins.push(MISSING_BIN.to_owned());
    }
    bins
}

/// The unique 10th to 90th percentiles (linear interpolation, as numpy's
/// default) of some values.
#[cfg(feature = "train")]
fn deciles(values: impl Iterator<Item = f64>) -> Vec<f64> {
    let mut v: Vec<f64> = values.collect();
    if v.is_empty() {
        return Vec::new();
    }
    v.sort_by(f64::total_cmp);
    let mut edges: Vec<f64> = Vec::new();
    for k in 1..10 {
        let pos = (v.len() - 1) as f64 * k as f64 / 10.0;
        let (lo, frac) = (pos.floor() as usize, pos.fract());
        let hi = (lo + 1).min(v.len() - 1);
        let q = v[lo] + (v[hi] - v[lo]) * frac;
        if edges.last().is_none_or(|last| q > *last) {
            edges.push(q);
        }
    }
    edges
}

/// The population stability index of observed bin counts against expected
/// shares: `sum((o - e) * ln(o / e))` over the bins, each share floored at
/// [`PSI_FLOOR`]. 0 when nothing was observed.
pub fn psi(expected: &[f64], observed: &[u64]) -> f64 {
    let total: u64 = observed.iter().sum();
    if total == 0 {
        return 0.0;
    }
    expected
        .iter()
        .zip(observed)
        .map(|(&e, &o)| {
            let e = e.max(PSI_FLOOR);
            let o = (o as f64 / total as f64).max(PSI_FLOOR);
            (o - e) * (o / e).ln()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn psi_is_zero_on_the_same_shares_and_grows_with_drift() {
        assert_eq!(psi(&[0.5, 0.5], &[10, 10]), 0.0);
        assert_eq!(psi(&[0.5, 0.5], &[0, 0]), 0.0);
        let small = psi(&[0.5, 0.5], &[11, 9]);
        let large = psi(&[0.5, 0.5], &[19, 1]);
        assert!(0.0 < small && small < PSI_ALERT && large > PSI_ALERT);
        // an empty training bin does not make it infinite
        assert!(psi(&[1.0, 0.0], &[1, 1]).is_finite());
    }

    #[cfg(feature = "train")]
    #[test]
    fn deciles_are_unique_and_interpolated() {
        assert_eq!(
            deciles((1..=11).map(f64::from)),
            (2..=10).map(f64::from).collect::<Vec<_>>()
        );
        assert_eq!(
            deciles([0.0, 10.0].into_iter()),
            (1..=9).map(f64::from).collect::<Vec<_>>()
        );
        // repeated deciles are kept once
        let e = deciles([1.0, 1.0, 1.0, 3.0].into_iter());
        assert_eq!(e.len(), 4);
        assert_eq!(e[0], 1.0);
        assert_eq!(deciles([3.0; 5].into_iter()), [3.0]);
        assert!(deciles(std::iter::empty()).is_empty());
    }

    #[test]
    fn the_embedded_bins_cover_the_training_rows() {
        let model = crate::Model::embedded().unwrap();
        let drift = model.artifact().drift();
        for f in drift.features() {
            let sum: f64 = f.shares.iter().sum();
            approx::assert_abs_diff_eq!(sum, 1.0, epsilon = 1e-12);
        }
        let sex = drift
            .features()
            .iter()
            .find(|f| f.feature == "sex")
            .unwrap();
        assert_eq!(sex.bins, ["female", "male", "Rare", "Missing"]);
    }
}
