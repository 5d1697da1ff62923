//! Fitting the pipeline on training records (feature `train`): steps 1-6 by
//! hand, the scaler with linfa-preprocessing, the logistic regression with
//! linfa-logistic, polished to the exact optimum by Newton steps.

use linfa::DatasetBase;
use linfa::traits::{Fit, Transformer};
use linfa_linalg::cholesky::SolveC;
use linfa_logistic::LogisticRegression as LinfaLogistic;
use linfa_preprocessing::linear_scaling::LinearScaler;
use ndarray::{Array1, Array2};

use crate::data_preparation::{CATEGORICAL_FEATURES, NUMERIC_WITH_MISSING, Record};
use crate::errors::{Error, Result};
use crate::fields::FIRST_LETTER;
use crate::pipeline::{ClassWeight, Pipeline, PipelineConfig, strings};
use crate::transformers::{
    CabinLetter, CategoricalImputer, LogisticRegression, MedianImputer, MissingIndicator,
    OneHotEncoder, RareLabelEncoder, StandardScaler, VariableValue, median, sigmoid,
};

impl Pipeline {
    /// Fits every step on the training records (in their order) and labels.
    pub fn fit(records: &[Record<'_>], survived: &[u8], config: &PipelineConfig) -> Result<Self> {
        if records.is_empty() || records.len() != survived.len() {
            return Err(Error::Training(format!(
                "need as many labels as records, and at least one ({} records, {} labels)",
                records.len(),
                survived.len()
            )));
        }
        let categorical_imputer = CategoricalImputer {
            variables: strings(&CATEGORICAL_FEATURES),
            fill_value: "Missing".into(),
        };
        let missing_indicator = MissingIndicator {
            variables: strings(&NUMERIC_WITH_MISSING),
        };
        let medians = NUMERIC_WITH_MISSING
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let value = median(records.iter().map(|r| r.numeric_with_missing()[i]))
                    .ok_or_else(|| {
                        Error::Training(format!("no training row has a value for `{v}`"))
                    })?;
                Ok(VariableValue {
                    variable: (*v).into(),
                    value,
                })
            })
            .collect::<Result<_>>()?;
        let median_imputer = MedianImputer { medians };
        // the variable the field table keeps the first letter of
        let first_letter = FIRST_LETTER.iter().position(|f| *f).ok_or_else(|| {
            Error::Training("the field table keeps no variable's first letter".into())
        })?;
        let cabin_letter = CabinLetter {
            variable: CATEGORICAL_FEATURES[first_letter].into(),
        };
        // steps 1 and 4 on the training rows, variable by variable
        let mut columns: Vec<Vec<&str>> = (0..CATEGORICAL_FEATURES.len())
            .map(|var| {
                records
                    .iter()
                    .map(|r| {
                        let v = categorical_imputer.transform(r.categorical()[var]);
                        if FIRST_LETTER[var] {
                            CabinLetter::transform(v)
                        } else {
                            v
                        }
                    })
                    .collect()
            })
            .collect();
        let rare_label_encoder = RareLabelEncoder::fit(
            config.rare_label_tol,
            "Rare",
            &CATEGORICAL_FEATURES,
            &columns,
        );
        for (var, column) in columns.iter_mut().enumerate() {
            for v in column.iter_mut() {
                *v = rare_label_encoder.transform(var, v);
            }
        }
        let one_hot_encoder = OneHotEncoder::fit(&CATEGORICAL_FEATURES, &columns);
        let mut pipeline = Pipeline {
            categorical_imputer,
            missing_indicator,
            median_imputer,
            cabin_letter,
            rare_label_encoder,
            one_hot_encoder,
            derived: config.derived,
            scaler: StandardScaler {
                columns: Vec::new(),
                mean: Vec::new(),
                scale: Vec::new(),
            },
            classifier: LogisticRegression {
                c: config.c,
                coefficients: Vec::new(),
                intercept: 0.0,
                gradient_max_abs: f64::NAN,
            },
        };
        let width = pipeline.n_columns();
        let mut x = Array2::<f64>::zeros((records.len(), width));
        for (r, mut row) in records.iter().zip(x.rows_mut()) {
            let out = row
                .as_slice_mut()
                .ok_or_else(|| Error::Training("feature matrix is not contiguous".into()))?;
            pipeline.encode(r, out);
        }
        let data = DatasetBase::from(x);
        let scaler = LinearScaler::standard()
            .fit(&data)
            .map_err(|e| Error::Training(format!("scaler: {e}")))?;
        pipeline.scaler = StandardScaler {
            columns: pipeline.column_names(),
            mean: scaler.offsets().to_vec(),
            scale: scaler.scales().to_vec(),
        };
        let scaled = scaler.transform(data.records);
        pipeline.classifier = fit_logistic(scaled, survived, config)?;
        Ok(pipeline)
    }
}

/// Fits the L2-penalised logistic regression with linfa-logistic
/// (`alpha = 1 / C`), orients it to give `P(survived = 1)`, then refines
/// the solver's stopping point to the exact optimum with Newton steps.
///
/// L-BFGS stops when the objective no longer changes in floating point,
/// which leaves a gradient around 1e-9; Newton's method on this small,
/// strongly convex problem takes it to rounding level in a step or two.
/// With class weights (which linfa-logistic does not take) the unweighted
/// optimum is the starting point, and a step that would raise the weighted
/// objective is halved until it does not.
fn fit_logistic(
    x: Array2<f64>,
    survived: &[u8],
    config: &PipelineConfig,
) -> Result<LogisticRegression> {
    if !(config.c.is_finite() && config.c > 0.0) {
        return Err(Error::Training(format!(
            "C must be a positive number, got {}",
            config.c
        )));
    }
    let weights = sample_weights(survived, config.class_weight);
    let y: Array1<u8> = survived.iter().copied().collect();
    let data = DatasetBase::new(x, y);
    let fitted = LinfaLogistic::default()
        .alpha(1.0 / config.c)
        .gradient_tolerance(config.gradient_tolerance)
        .max_iterations(config.max_iterations)
        .fit(&data)
        .map_err(|e| Error::Training(format!("logistic regression: {e}")))?;
    let sign = if fitted.labels().pos.class == 1 {
        1.0
    } else {
        -1.0
    };
    let mut theta: Vec<f64> = fitted.params().iter().map(|w| sign * w).collect();
    theta.push(sign * fitted.intercept());
    let x = data.records();
    let problem = Problem {
        x,
        survived,
        weights: &weights,
        c: config.c,
    };
    for _ in 0..MAX_NEWTON_STEPS {
        let (gradient, mut hessian) = problem.gradient_and_hessian(&theta);
        let step = hessian
            .solvec(&Array2::from_shape_vec((theta.len(), 1), gradient).map_err(shape_error)?)
            .map_err(|e| Error::Training(format!("Newton step: {e}")))?;
        let before = problem.objective(&theta);
        let mut scale = 1.0;
        let mut next: Vec<f64>;
        loop {
            next = theta
                .iter()
                .zip(step.iter())
                .map(|(t, s)| t - scale * s)
                .collect();
            // rounding alone never triggers a halving
            if problem.objective(&next) <= before + 1e-12 * before.abs() || scale < 1e-12 {
                break;
            }
            scale /= 2.0;
        }
        let largest = step.iter().fold(0.0f64, |m, s| m.max((scale * s).abs()));
        theta = next;
        if largest <= f64::EPSILON * 4.0 {
            break;
        }
    }
    let gradient = problem.gradient(&theta);
    let intercept = theta.pop().unwrap_or_default();
    Ok(LogisticRegression {
        c: config.c,
        coefficients: theta,
        intercept,
        gradient_max_abs: gradient.iter().fold(0.0, |m, g| m.max(g.abs())),
    })
}

/// Each row's weight in the objective.
pub fn sample_weights(survived: &[u8], class_weight: ClassWeight) -> Vec<f64> {
    match class_weight {
        ClassWeight::None => vec![1.0; survived.len()],
        ClassWeight::Balanced => {
            let n = survived.len() as f64;
            let positives = survived.iter().filter(|&&y| y == 1).count() as f64;
            let weight = |count: f64| if count > 0.0 { n / (2.0 * count) } else { 0.0 };
            let (w1, w0) = (weight(positives), weight(n - positives));
            survived
                .iter()
                .map(|&y| if y == 1 { w1 } else { w0 })
                .collect()
        }
    }
}

/// Bound on the Newton refinement (it converges in one to three steps).
const MAX_NEWTON_STEPS: usize = 20;

fn shape_error(e: ndarray::ShapeError) -> Error {
    Error::Training(format!("internal shape error: {e}"))
}

/// scikit-learn's objective
/// `0.5 |w|^2 + C sum_i v_i log(1 + exp(-s_i (w.x_i + b)))` with row
/// weights `v_i`, at `theta = [w, b]` (the intercept `b` is not penalised).
pub struct Problem<'a> {
    /// The scaled design matrix.
    pub x: &'a Array2<f64>,
    /// The labels.
    pub survived: &'a [u8],
    /// Each row's weight.
    pub weights: &'a [f64],
    /// Inverse regularisation strength.
    pub c: f64,
}

impl Problem<'_> {
    /// The objective's value.
    pub fn objective(&self, theta: &[f64]) -> f64 {
        let d = self.x.ncols();
        let (w, b) = (&theta[..d], theta[d]);
        let mut loss = 0.0;
        for ((row, &label), &v) in self
            .x
            .rows()
            .into_iter()
            .zip(self.survived)
            .zip(self.weights)
        {
            let z: f64 = b + row.iter().zip(w).map(|(x, w)| x * w).sum::<f64>();
            let m = if label == 1 { z } else { -z };
            // log(1 + exp(-m)), stably
            loss += v * if m > 0.0 {
                (-m).exp().ln_1p()
            } else {
                -m + m.exp().ln_1p()
            };
        }
        0.5 * w.iter().map(|w| w * w).sum::<f64>() + self.c * loss
    }

    /// Gradient and Hessian.
    pub fn gradient_and_hessian(&self, theta: &[f64]) -> (Vec<f64>, Array2<f64>) {
        let d = self.x.ncols();
        let mut gradient = Vec::new();
        let mut hessian = Array2::<f64>::zeros((d + 1, d + 1));
        self.accumulate(theta, &mut gradient, Some(&mut hessian));
        (gradient, hessian)
    }

    /// The gradient alone.
    pub fn gradient(&self, theta: &[f64]) -> Vec<f64> {
        let mut gradient = Vec::new();
        self.accumulate(theta, &mut gradient, None);
        gradient
    }

    fn accumulate(
        &self,
        theta: &[f64],
        gradient: &mut Vec<f64>,
        hessian: Option<&mut Array2<f64>>,
    ) {
        let (x, c) = (self.x, self.c);
        let d = x.ncols();
        let (w, b) = (&theta[..d], theta[d]);
        gradient.clear();
        gradient.extend_from_slice(w);
        gradient.push(0.0);
        // the upper triangle of sum_i q_i a_i a_i^T, with a_i = [x_i, 1]
        let mut upper = vec![0.0; (d + 1) * (d + 1)];
        let mut a = vec![1.0; d + 1];
        for ((row, &label), &v) in x.rows().into_iter().zip(self.survived).zip(self.weights) {
            a[..d].iter_mut().zip(row).for_each(|(a, x)| *a = *x);
            let z: f64 = b + row.iter().zip(w).map(|(x, w)| x * w).sum::<f64>();
            let p = sigmoid(z);
            // d/dz log(1 + exp(-s z)) = p - [s = 1]; d2/dz2 = p (1 - p)
            let r = c * (p - if label == 1 { 1.0 } else { 0.0 }) * v;
            for (g, a) in gradient.iter_mut().zip(&a) {
                *g += r * a;
            }
            if hessian.is_some() {
                let q = c * p * (1.0 - p) * v;
                for j in 0..=d {
                    let qa = q * a[j];
                    for k in j..=d {
                        upper[j * (d + 1) + k] += qa * a[k];
                    }
                }
            }
        }
        if let Some(h) = hessian {
            for j in 0..=d {
                for k in j..=d {
                    let v = upper[j * (d + 1) + k] + if j == k && j < d { 1.0 } else { 0.0 };
                    h[(j, k)] = v;
                    h[(k, j)] = v;
                }
            }
        }
    }
}
