//! The pipeline's steps (`docs/PIPELINE.md`, "Steps"). Each fitted step is a plain
//! serialisable struct holding what it learned.

use serde::{Deserialize, Serialize};

/// Labels of one categorical variable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VariableLabels {
    /// The variable.
    pub variable: String,
    /// Its labels.
    pub labels: Vec<String>,
}

/// Step 1: missing categorical values become `fill_value` (`"Missing"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CategoricalImputer {
    /// The imputed variables.
    pub variables: Vec<String>,
    /// The replacement for a missing value.
    pub fill_value: String,
}

impl CategoricalImputer {
    /// The imputed value.
    #[cfg(any(test, feature = "train"))]
    pub fn transform<'a>(&'a self, value: Option<&'a str>) -> &'a str {
        value.unwrap_or(&self.fill_value)
    }
}

/// Step 2: a `<var>_na` column for each variable, 1.0 where it is missing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MissingIndicator {
    /// The variables that get an indicator.
    pub variables: Vec<String>,
}

impl MissingIndicator {
    /// The indicator value.
    #[cfg(any(test, feature = "train"))]
    pub fn transform(value: Option<f64>) -> f64 {
        if value.is_none() { 1.0 } else { 0.0 }
    }
}

/// A learned number for one variable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VariableValue {
    /// The variable.
    pub variable: String,
    /// The value.
    pub value: f64,
}

/// Step 3: missing numbers become the training median.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MedianImputer {
    /// The median of each variable's non-missing training values.
    pub medians: Vec<VariableValue>,
}

/// The median (mean of the two middle values for an even count) of the
/// values that are present; `None` if there are none.
#[cfg(feature = "train")]
pub fn median(values: impl Iterator<Item = Option<f64>>) -> Option<f64> {
    let mut v: Vec<f64> = values.flatten().collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    Some(if v.len() % 2 == 0 {
        (v[mid - 1] + v[mid]) / 2.0
    } else {
        v[mid]
    })
}

/// Step 4: `cabin` becomes its first character.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CabinLetter {
    /// The variable transformed.
    pub variable: String,
}

impl CabinLetter {
    /// The first character of `value` (all of it if it has one).
    pub fn transform(value: &str) -> &str {
        match value.char_indices().nth(1) {
            Some((i, _)) => &value[..i],
            None => value,
        }
    }
}

/// Step 5: labels whose training frequency is below `tol` (and labels never
/// seen in training) become `replace_with` (`"Rare"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RareLabelEncoder {
    /// Minimum share of training rows for a label to be kept.
    pub tol: f64,
    /// The replacement label.
    pub replace_with: String,
    /// The kept (frequent) labels of each variable, sorted.
    pub frequent: Vec<VariableLabels>,
}

impl RareLabelEncoder {
    /// Learns the frequent labels from the training values of each variable.
    #[cfg(feature = "train")]
    pub fn fit(tol: f64, replace_with: &str, variables: &[&str], columns: &[Vec<&str>]) -> Self {
        let frequent = variables
            .iter()
            .zip(columns)
            .map(|(variable, values)| {
                let n = values.len() as f64;
                let mut counts: Vec<(&str, usize)> = Vec::new();
                for v in values {
                    match counts.iter_mut().find(|(l, _)| l == v) {
                        Some((_, c)) => *c += 1,
                        None => counts.push((v, 1)),
                    }
                }
                let mut labels: Vec<String> = counts
                    .into_iter()
                    .filter(|(_, c)| *c as f64 / n >= tol)
                    .map(|(l, _)| l.to_owned())
                    .collect();
                labels.sort();
                VariableLabels {
                    variable: (*variable).to_owned(),
                    labels,
                }
            })
            .collect();
        Self {
            tol,
            replace_with: replace_with.to_owned(),
            frequent,
        }
    }

    /// The grouped value of variable number `var`.
    #[cfg(any(test, feature = "train"))]
    pub(crate) fn transform<'a>(&'a self, var: usize, value: &'a str) -> &'a str {
        if self.frequent[var].labels.iter().any(|l| l == value) {
            value
        } else {
            &self.replace_with
        }
    }
}

/// Step 6: one-hot encoding with the last category (by first appearance in
/// the training rows) dropped. A value with no column gets all zeros.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OneHotEncoder {
    /// Whether the last category of each variable gets no column.
    pub drop_last: bool,
    /// Each variable's categories in order of first appearance in training.
    pub categories: Vec<VariableLabels>,
}

impl OneHotEncoder {
    /// Learns each variable's categories in order of first appearance.
    #[cfg(feature = "train")]
    pub fn fit(variables: &[&str], columns: &[Vec<&str>]) -> Self {
        let categories = variables
            .iter()
            .zip(columns)
            .map(|(variable, values)| {
                let mut labels: Vec<String> = Vec::new();
                for v in values {
                    if !labels.iter().any(|l| l == v) {
                        labels.push((*v).to_owned());
                    }
                }
                VariableLabels {
                    variable: (*variable).to_owned(),
                    labels,
                }
            })
            .collect();
        Self {
            drop_last: true,
            categories,
        }
    }

    /// The categories of variable number `var` that have a column.
    pub(crate) fn dummies(&self, var: usize) -> &[String] {
        let labels = &self.categories[var].labels;
        if self.drop_last && !labels.is_empty() {
            &labels[..labels.len() - 1]
        } else {
            labels
        }
    }

    /// The dummy column names, `<var>_<category>`, in output order.
    pub fn columns(&self) -> Vec<String> {
        (0..self.categories.len())
            .flat_map(|i| {
                let var = &self.categories[i].variable;
                self.dummies(i).iter().map(move |c| format!("{var}_{c}"))
            })
            .collect()
    }

    /// Number of dummy columns.
    pub fn n_columns(&self) -> usize {
        (0..self.categories.len())
            .map(|i| self.dummies(i).len())
            .sum()
    }
}

/// Step 7: standard scaling, `(x - mean) * scale` with `scale = 1 / std`
/// (population standard deviation; 1 for a constant column), as fitted by
/// linfa-preprocessing's `LinearScaler::standard`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StandardScaler {
    /// The output column names, in order.
    pub columns: Vec<String>,
    /// The training mean of each column.
    pub mean: Vec<f64>,
    /// The reciprocal of each column's training standard deviation.
    pub scale: Vec<f64>,
}

/// Step 8: the logistic regression, oriented so that it gives
/// `P(survived = 1) = 1 / (1 + exp(-(intercept + coefficients . x)))`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogisticRegression {
    /// Inverse regularisation strength, as scikit-learn's `C`.
    pub c: f64,
    /// One coefficient per scaled column.
    pub coefficients: Vec<f64>,
    /// The (unpenalised) intercept.
    pub intercept: f64,
    /// Largest absolute component of the objective's gradient at the solution
    /// (in scikit-learn's scaling: `0.5 |w|^2 + C sum log-loss`).
    pub gradient_max_abs: f64,
}

/// The logistic function.
pub fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

#[cfg(all(test, feature = "train"))]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_even_and_empty() {
        assert_eq!(
            median([Some(3.0), None, Some(1.0), Some(2.0)].into_iter()),
            Some(2.0)
        );
        assert_eq!(
            median([Some(4.0), Some(1.0), Some(2.0), Some(3.0)].into_iter()),
            Some(2.5)
        );
        assert_eq!(median([None].into_iter()), None);
    }

    #[test]
    fn cabin_letter_is_first_character() {
        assert_eq!(CabinLetter::transform("C22"), "C");
        assert_eq!(CabinLetter::transform("Missing"), "M");
        assert_eq!(CabinLetter::transform("É9"), "É");
        assert_eq!(CabinLetter::transform("T"), "T");
    }

    #[test]
    fn rare_labels_by_share_of_rows() {
        let col = vec!["a", "a", "a", "a", "a", "a", "a", "a", "a", "b", "b", "c"];
        let enc = RareLabelEncoder::fit(0.1, "Rare", &["v"], &[col]);
        assert_eq!(enc.frequent[0].labels, ["a", "b"]);
        assert_eq!(enc.transform(0, "c"), "Rare");
        assert_eq!(enc.transform(0, "unseen"), "Rare");
        assert_eq!(enc.transform(0, "b"), "b");
    }

    #[test]
    fn one_hot_first_appearance_drop_last() {
        let enc = OneHotEncoder::fit(&["v", "w"], &[vec!["z", "y", "z", "x"], vec!["only"]]);
        assert_eq!(enc.columns(), ["v_z", "v_y"]);
        assert_eq!(enc.n_columns(), 2);
    }
}
