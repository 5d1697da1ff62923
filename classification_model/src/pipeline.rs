//! The fitted pipeline: every step's learned parameters, in order
//! (`docs/PIPELINE.md`, "Steps"). Fitting is in `fitting` (feature `train`).

use serde::{Deserialize, Serialize};

#[cfg(any(test, feature = "train"))]
use crate::data_preparation::Record;
use crate::derived::DerivedFeatures;
use crate::transformers::{
    CabinLetter, CategoricalImputer, LogisticRegression, MedianImputer, MissingIndicator,
    OneHotEncoder, RareLabelEncoder, StandardScaler,
};

/// The numeric output columns, before the dummies.
pub const NUMERIC_COLUMNS: [&str; 7] = [
    "pclass", "age", "sibsp", "parch", "fare", "age_na", "fare_na",
];

/// Index of the fare column in [`NUMERIC_COLUMNS`].
pub(crate) const FARE_COLUMN: usize = 4;

/// How the pipeline is fitted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PipelineConfig {
    /// Minimum share of training rows for a label not to be rare.
    pub rare_label_tol: f64,
    /// Inverse L2 regularisation strength of the logistic regression.
    pub c: f64,
    /// linfa-logistic's L-BFGS stops when the gradient's norm (in its
    /// scaling, `1/C` times scikit-learn's) is below this; Newton steps then
    /// take the solution to the exact optimum.
    pub gradient_tolerance: f64,
    /// Iteration bound of each solver run.
    pub max_iterations: u64,
    /// How the two classes are weighted in the objective.
    pub class_weight: ClassWeight,
    /// Derived features (all off: the course's columns).
    #[serde(default, skip_serializing_if = "DerivedFeatures::is_none")]
    pub derived: DerivedFeatures,
}

/// How the two classes are weighted in the logistic regression's objective.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ClassWeight {
    /// Every row weighs 1.
    #[default]
    None,
    /// Each row weighs `n / (2 n_class)`, as scikit-learn's
    /// `class_weight="balanced"`: both classes weigh the same in total.
    Balanced,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        Self {
            rare_label_tol: 0.05,
            c: 0.0005,
            gradient_tolerance: 1e-4,
            max_iterations: 1000,
            class_weight: ClassWeight::None,
            derived: DerivedFeatures::default(),
        }
    }
}

/// Every fitted step of the pipeline, in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pipeline {
    /// Step 1.
    pub categorical_imputer: CategoricalImputer,
    /// Step 2.
    pub missing_indicator: MissingIndicator,
    /// Step 3.
    pub median_imputer: MedianImputer,
    /// Step 4.
    pub cabin_letter: CabinLetter,
    /// Step 5.
    pub rare_label_encoder: RareLabelEncoder,
    /// Step 6.
    pub one_hot_encoder: OneHotEncoder,
    /// Step 6b: the derived features' columns, after the dummies (and the
    /// fare column's transform).
    #[serde(default, skip_serializing_if = "DerivedFeatures::is_none")]
    pub derived: DerivedFeatures,
    /// Step 7.
    pub scaler: StandardScaler,
    /// Step 8.
    pub classifier: LogisticRegression,
}

impl Pipeline {
    /// Number of output columns (numeric, indicators and dummies).
    pub fn n_columns(&self) -> usize {
        NUMERIC_COLUMNS.len() + self.one_hot_encoder.n_columns() + self.derived.columns().len()
    }

    /// The output column names, in order.
    pub fn column_names(&self) -> Vec<String> {
        let mut names = strings(&NUMERIC_COLUMNS);
        names[FARE_COLUMN] = self.derived.fare_column().into();
        names.extend(self.one_hot_encoder.columns());
        names.extend(strings(&self.derived.columns()));
        names
    }

    /// Per output column, the input features its contribution is explained
    /// under (one, or several for a derived column, which shares it equally).
    pub fn column_features(&self) -> Vec<Vec<&'static str>> {
        let mut out: Vec<Vec<&'static str>> = NUMERIC_COLUMNS
            .iter()
            .map(|c| vec![c.strip_suffix("_na").unwrap_or(c)])
            .collect();
        for (var, feature) in crate::data_preparation::CATEGORICAL_FEATURES
            .iter()
            .enumerate()
        {
            out.extend(
                self.one_hot_encoder
                    .dummies(var)
                    .iter()
                    .map(|_| vec![*feature]),
            );
        }
        for d in self.derived.added() {
            out.extend(d.columns().iter().map(|_| d.features().to_vec()));
        }
        out
    }

    /// Steps 1 to 6: writes the unscaled output row of `r` into `out`
    /// (length [`n_columns`](Self::n_columns)).
    #[cfg(any(test, feature = "train"))]
    pub(crate) fn encode(&self, r: &Record<'_>, out: &mut [f64]) {
        let medians = &self.median_imputer.medians;
        out[0] = r.pclass;
        out[1] = r.age.unwrap_or(medians[0].value);
        out[2] = r.sibsp;
        out[3] = r.parch;
        let fare = r.fare.unwrap_or(medians[1].value);
        out[FARE_COLUMN] = self.derived.fare(fare);
        out[5] = MissingIndicator::transform(r.age);
        out[6] = MissingIndicator::transform(r.fare);
        let mut k = NUMERIC_COLUMNS.len();
        for (var, value) in r.categorical().into_iter().enumerate() {
            let mut v = self.categorical_imputer.transform(value);
            if crate::fields::FIRST_LETTER[var] {
                v = CabinLetter::transform(v);
            }
            let v = self.rare_label_encoder.transform(var, v);
            for c in self.one_hot_encoder.dummies(var) {
                out[k] = if c == v { 1.0 } else { 0.0 };
                k += 1;
            }
        }
        let mut added = Vec::new();
        self.derived.values(r, fare, &mut added);
        out[k..].copy_from_slice(&added);
    }
}

pub(crate) fn strings(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| (*s).to_owned()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pipelines_variables_derive_from_the_roles() {
        use crate::data_preparation::{CATEGORICAL_FEATURES, NUMERIC_WITH_MISSING};
        use crate::fields::{FIELDS, FIRST_LETTER, NUMERIC_FIELDS};
        // the artifact format's order, which the golden tests pin
        assert_eq!(CATEGORICAL_FEATURES, ["sex", "cabin", "embarked", "title"]);
        assert_eq!(NUMERIC_WITH_MISSING, ["age", "fare"]);
        assert_eq!(FIRST_LETTER, [false, true, false, false]);
        let numeric: Vec<String> = NUMERIC_FIELDS
            .iter()
            .map(|&i| FIELDS[i].name.to_owned())
            .chain(NUMERIC_WITH_MISSING.iter().map(|f| format!("{f}_na")))
            .collect();
        assert_eq!(numeric, NUMERIC_COLUMNS);
    }
}
