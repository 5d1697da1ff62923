//! The one scoring path: the fitted pipeline folded into per-feature
//! log-odds contributions. Serving, explanations and the training metrics all
//! score through [`Scorer::score`].
//!
//! Steps 1-8 are affine in the one-hot and numeric columns, so each original
//! feature adds a fixed amount to the log-odds for each of its (grouped)
//! values: `coefficient * scaled value`, summed over the feature's own column,
//! its missing indicator and its dummies (`docs/PIPELINE.md`, "Scoring").
//! The log-odds is the intercept plus the sum of those contributions, taken
//! in feature order, so `baseline + sum(contributions)` is the served
//! log-odds to the last bit.

use crate::data_preparation::Record;
use crate::derived::{Derived, DerivedFeatures, MAX_COLUMNS};
use crate::errors::{Error, Result};
use crate::fields::{CATEGORICAL_FIELDS, FIRST_LETTER};
use crate::fields::{N_FIELDS, features};
use crate::pipeline::{NUMERIC_COLUMNS, Pipeline};
use crate::transformers::{CabinLetter, sigmoid};

/// A record's score: each feature's contribution, in
/// [`features`](crate::fields::features) order, and the log-odds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Score {
    /// Each feature's contribution to the log-odds.
    pub contributions: [f64; N_FIELDS],
    /// `baseline + sum(contributions)`.
    pub log_odds: f64,
}

impl Score {
    /// `P(survived = 1)`.
    pub fn probability(&self) -> f64 {
        sigmoid(self.log_odds)
    }
}

/// A feature's index in [`features`]; an artifact that names another is
/// refused (the artifact check already does, so this is a second line).
fn feature_index(feature: &str) -> Result<usize> {
    features()
        .iter()
        .position(|f| *f == feature)
        .ok_or_else(|| {
            Error::Artifact(format!(
                "a column is explained under {feature:?}, no feature"
            ))
        })
}

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

/// A derived feature's columns folded, and the features its contribution
/// is shared among.
#[derive(Debug, Clone, PartialEq)]
struct Added {
    columns: [Linear; MAX_COLUMNS],
    features: Vec<usize>,
}

/// The pipeline as a sum of per-feature contributions. Built only from a
/// checked artifact's pipeline, whose shapes fit together.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Scorer {
    intercept: f64,
    numeric: [Linear; 7],
    numeric_feature: [usize; 7],
    categorical_feature: [usize; 4],
    medians: [f64; 2],
    fill_value: String,
    categorical: [Lookup; 4],
    derived: DerivedFeatures,
    /// By [`Derived::ALL`] index: a constant per unrolled step of
    /// [`score`](Self::score)'s loop, so no step dispatches on the feature.
    added: [Option<Added>; Derived::ALL.len()],
}

impl Scorer {
    /// Folds a fitted pipeline (checked for consistent shapes).
    pub(crate) fn new(p: &Pipeline) -> Result<Self> {
        let c = &p.classifier;
        let column = |j: usize| Linear {
            weight: c.coefficients[j] * p.scaler.scale[j],
            mean: p.scaler.mean[j],
        };
        // which features each column is explained under: the pipeline says
        let owners = p
            .column_features()
            .iter()
            .map(|features| features.iter().map(|f| feature_index(f)).collect())
            .collect::<Result<Vec<Vec<usize>>>>()?;
        let owner = |j: usize| -> Vec<usize> { owners[j].clone() };
        let numeric = std::array::from_fn(&column);
        let numeric_feature = std::array::from_fn(|j| owners[j][0]);
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
        let unused = Linear {
            weight: 0.0,
            mean: 0.0,
        };
        let added = Derived::ALL.map(|derived| {
            p.derived.adds(derived).then(|| {
                let (first, n) = (first_dummy, derived.columns().len());
                first_dummy += n;
                Added {
                    columns: std::array::from_fn(
                        |k| if k < n { column(first + k) } else { unused },
                    ),
                    features: owner(first),
                }
            })
        });
        Ok(Scorer {
            intercept: c.intercept,
            derived: p.derived,
            added,
            numeric,
            numeric_feature,
            // a feature's index in `features` is its field's
            categorical_feature: CATEGORICAL_FIELDS,
            medians: [
                p.median_imputer.medians[0].value,
                p.median_imputer.medians[1].value,
            ],
            fill_value: p.categorical_imputer.fill_value.clone(),
            categorical,
        })
    }

    /// The log-odds with every feature at a neutral value: the intercept.
    pub(crate) fn baseline(&self) -> f64 {
        self.intercept
    }

    /// Scores one record.
    pub(crate) fn score(&self, r: &Record<'_>) -> Score {
        let mut contributions = [0.0; N_FIELDS];
        let n = &self.numeric;
        let values = [
            r.pclass,
            r.age.unwrap_or(self.medians[0]),
            r.sibsp,
            r.parch,
            self.derived.fare(r.fare.unwrap_or(self.medians[1])),
            if r.age.is_none() { 1.0 } else { 0.0 },
            if r.fare.is_none() { 1.0 } else { 0.0 },
        ];
        for (j, x) in values.into_iter().enumerate() {
            contributions[self.numeric_feature[j]] += n[j].at(x);
        }
        for (var, value) in r.categorical().into_iter().enumerate() {
            let mut v = value.unwrap_or(&self.fill_value);
            if FIRST_LETTER[var] {
                v = CabinLetter::transform(v);
            }
            contributions[self.categorical_feature[var]] += self.categorical[var].at(v);
        }
        let fare = r.fare.unwrap_or(self.medians[1]);
        for (a, derived) in self.added.iter().zip(Derived::ALL) {
            let Some(a) = a else { continue };
            let (values, n) = derived.values(r, fare);
            let c: f64 = (0..n).map(|k| a.columns[k].at(values[k])).sum();
            let share = c / a.features.len() as f64;
            for &f in &a.features {
                contributions[f] += share;
            }
        }
        Score {
            log_odds: self.intercept + contributions.iter().sum::<f64>(),
            contributions,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::read_dataset;
    use crate::{Model, Passenger};

    /// Steps 1-8 one after the other, on the full encoded row.
    fn step_by_step(pipeline: &Pipeline, r: &Record<'_>) -> f64 {
        let mut row = vec![0.0; pipeline.n_columns()];
        pipeline.encode(r, &mut row);
        let scaler = &pipeline.scaler;
        let classifier = &pipeline.classifier;
        classifier.intercept
            + row
                .iter()
                .zip(&scaler.mean)
                .zip(&scaler.scale)
                .zip(&classifier.coefficients)
                .map(|(((x, m), s), w)| (x - m) * s * w)
                .sum::<f64>()
    }

    #[cfg(feature = "train")]
    #[test]
    fn with_every_derived_feature_it_agrees_and_shares_each_among_its_features() {
        let data = read_dataset(include_bytes!("../datasets/titanic.csv")).unwrap();
        let records = data.records();
        let all = DerivedFeatures::from_set([true; 5]);
        let config = crate::artifact::PipelineConfig {
            c: 0.1,
            derived: all,
            ..Default::default()
        };
        let pipeline = Pipeline::fit(&records, &data.survived, &config).unwrap();
        let names = pipeline.column_names();
        assert_eq!(names[4], "log_fare");
        assert_eq!(names[names.len() - 7..], all.columns());
        let scorer = Scorer::new(&pipeline).unwrap();
        for r in &records {
            let score = scorer.score(r);
            approx::assert_abs_diff_eq!(
                score.log_odds,
                step_by_step(&pipeline, r),
                epsilon = 1e-13
            );
            assert_eq!(
                score.log_odds,
                scorer.baseline() + score.contributions.iter().sum::<f64>()
            );
        }
        // the child column's contribution goes to age alone: with the age
        // under 14 instead of missing, only age's contribution changes
        let mut young = records[0].clone();
        young.age = Some(5.0);
        let mut unknown = records[0].clone();
        unknown.age = None;
        let (a, b) = (scorer.score(&young), scorer.score(&unknown));
        let age = features().iter().position(|f| *f == "age").unwrap();
        for (i, (x, y)) in a.contributions.iter().zip(&b.contributions).enumerate() {
            assert_eq!(x == y, i != age, "{}", features()[i]);
        }
    }

    #[test]
    fn agrees_with_the_step_by_step_pipeline_on_every_row() {
        let data = read_dataset(include_bytes!("../datasets/titanic.csv")).unwrap();
        let mut extra = data.passengers().to_vec();
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
        let extra = crate::checked::CheckedBatch::new(extra).unwrap();
        let records: Vec<_> = extra.records().collect();
        let pipeline = &Model::embedded().unwrap().artifact().pipeline;
        let scorer = Scorer::new(pipeline).unwrap();
        for r in &records {
            let log_odds = step_by_step(pipeline, r);
            let score = scorer.score(r);
            approx::assert_abs_diff_eq!(score.log_odds, log_odds, epsilon = 1e-13);
            assert_eq!(
                score.log_odds,
                scorer.baseline() + score.contributions.iter().sum::<f64>()
            );
        }
    }
}
