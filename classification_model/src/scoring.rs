//! The fitted pipeline folded into per-feature log-odds contributions, for
//! fast prediction and for explanations.
//!
//! Steps 1-8 are affine in the one-hot and numeric columns, so each original
//! feature adds a fixed amount to the log-odds for each of its (grouped)
//! values: `coefficient * scaled value`, summed over the feature's own column,
//! its missing indicator and its dummies. The log-odds is the intercept plus
//! those nine contributions; this module computes them directly.

use crate::data_preparation::{CATEGORICAL_FEATURES, Record};
use crate::pipeline::{NUMERIC_COLUMNS, Pipeline};
use crate::transformers::CabinLetter;

/// The original features, in the dataset's order.
pub const FEATURES: [&str; 9] = [
    "pclass", "sex", "age", "sibsp", "parch", "fare", "cabin", "embarked", "title",
];

/// Where each numeric column's contribution goes in [`FEATURES`] order.
const NUMERIC_TO_FEATURE: [usize; 7] = [0, 2, 3, 4, 5, 2, 5];
/// Where each categorical variable's contribution goes in [`FEATURES`] order.
const CATEGORICAL_TO_FEATURE: [usize; 4] = [1, 6, 7, 8];

/// One numeric column folded: contribution `weight * (x - mean)`.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Linear {
    weight: f64,
    mean: f64,
}

impl Linear {
    fn at(self, x: f64) -> f64 {
        self.weight * (x - self.mean)
    }
}

/// One categorical variable folded: a contribution per kept label, and one
/// for every other value (`Rare`).
#[derive(Debug, Clone, PartialEq)]
struct Lookup {
    labels: Vec<String>,
    contributions: Vec<f64>,
    rare: f64,
}

impl Lookup {
    fn at(&self, value: &str) -> f64 {
        // labels are a few bytes long: compare inline rather than call memcmp
        let same = |l: &String| {
            l.len() == value.len() && l.bytes().zip(value.bytes()).all(|(a, b)| a == b)
        };
        self.labels
            .iter()
            .position(same)
            .map_or(self.rare, |i| self.contributions[i])
    }
}

/// The pipeline as a sum of per-feature contributions.
#[derive(Debug, Clone, PartialEq)]
pub struct Scorer {
    intercept: f64,
    numeric: [Linear; 7],
    medians: [f64; 2],
    fill_value: String,
    categorical: [Lookup; 4],
}

impl Scorer {
    /// Folds a fitted pipeline (checked for consistent shapes).
    pub fn new(p: &Pipeline) -> Self {
        let c = &p.classifier;
        let column = |j: usize| Linear {
            weight: c.coefficients[j] * p.scaler.scale[j],
            mean: p.scaler.mean[j],
        };
        let numeric = std::array::from_fn(&column);
        let mut first_dummy = NUMERIC_COLUMNS.len();
        let categorical = std::array::from_fn(|var| {
            let dummies = p.one_hot_encoder.dummies(var);
            let columns: Vec<Linear> = (first_dummy..first_dummy + dummies.len())
                .map(column)
                .collect();
            first_dummy += dummies.len();
            // the contribution of a grouped label: its dummy at 1, the others at 0
            let contribution = |label: &str| -> f64 {
                dummies
                    .iter()
                    .zip(&columns)
                    .map(|(d, col)| col.at(if d == label { 1.0 } else { 0.0 }))
                    .sum()
            };
            let labels = p.rare_label_encoder.frequent[var].labels.clone();
            Lookup {
                contributions: labels.iter().map(|l| contribution(l)).collect(),
                rare: contribution(&p.rare_label_encoder.replace_with),
                labels,
            }
        });
        Scorer {
            intercept: c.intercept,
            numeric,
            medians: [
                p.median_imputer.medians[0].value,
                p.median_imputer.medians[1].value,
            ],
            fill_value: p.categorical_imputer.fill_value.clone(),
            categorical,
        }
    }

    /// The log-odds with every feature at a neutral value: the intercept.
    pub fn baseline(&self) -> f64 {
        self.intercept
    }

    /// Each feature's contribution to the log-odds, in [`FEATURES`] order.
    pub fn contributions(&self, r: &Record<'_>) -> [f64; 9] {
        let mut out = [0.0; 9];
        let n = &self.numeric;
        let values = [
            r.pclass,
            r.age.unwrap_or(self.medians[0]),
            r.sibsp,
            r.parch,
            r.fare.unwrap_or(self.medians[1]),
            if r.age.is_none() { 1.0 } else { 0.0 },
            if r.fare.is_none() { 1.0 } else { 0.0 },
        ];
        for (j, x) in values.into_iter().enumerate() {
            out[NUMERIC_TO_FEATURE[j]] += n[j].at(x);
        }
        for (var, value) in r.categorical().into_iter().enumerate() {
            let mut v = value.unwrap_or(&self.fill_value);
            if CATEGORICAL_FEATURES[var] == "cabin" {
                v = CabinLetter::transform(v);
            }
            out[CATEGORICAL_TO_FEATURE[var]] += self.categorical[var].at(v);
        }
        out
    }

    /// The log-odds of survival.
    pub fn log_odds(&self, r: &Record<'_>) -> f64 {
        self.intercept + self.contributions(r).iter().sum::<f64>()
    }

    /// `P(survived = 1)`.
    pub fn probability(&self, r: &Record<'_>) -> f64 {
        crate::transformers::sigmoid(self.log_odds(r))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data_preparation::read_dataset;
    use crate::validation::validate;
    use crate::{Model, Passenger};

    #[test]
    fn agrees_with_the_step_by_step_pipeline_on_every_row() {
        let data = read_dataset(include_bytes!("../datasets/titanic.csv")).unwrap();
        let mut extra = data.passengers.clone();
        // values never seen in training, missing values, odd cabins
        extra.push(Passenger {
            pclass: 2.into(),
            sex: "female".into(),
            sibsp: 0.into(),
            parch: 0.into(),
            cabin: "É5".into(),
            embarked: "q".into(),
            name: "Nobody, Rev. X".into(),
            ..Default::default()
        });
        let records = validate(&extra).unwrap();
        let pipeline = &Model::embedded().unwrap().artifact().pipeline;
        let scorer = Scorer::new(pipeline);
        let mut buf = Vec::new();
        for r in &records {
            let expected = pipeline.probability(r, &mut buf);
            approx::assert_abs_diff_eq!(scorer.probability(r), expected, epsilon = 1e-14);
        }
    }
}
