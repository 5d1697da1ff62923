//! The outputs an inference answer can carry, whichever protocol renders
//! them: predictions, probabilities, ids and, when explained, the baseline
//! and each feature's contribution.

use classification_model::schema::features;
use serde::Serialize;

use crate::serving::errors::{ErrorItem, RequestError, shorten};
use crate::serving::scoring::Scored;
use crate::serving::tensor::datatype::{self, Datatype};

/// The outputs every answer can carry, before the explanations.
pub(crate) const OUTPUTS: [(&str, Datatype); 3] = [
    ("predictions", Datatype::Int64),
    ("probabilities", Datatype::Fp64),
    ("ids", Datatype::Bytes),
];

/// The baseline output's name.
const BASELINE: &str = "baseline";

/// The explanation output of a feature's contribution.
fn contribution(feature: &str) -> String {
    format!("contribution_{feature}")
}

/// Whether an output name is one of the explanations.
fn is_explanation(name: &str) -> bool {
    name == BASELINE || contribution_index(name).is_some()
}

/// The index in [`features`] of the feature a `contribution_<feature>`
/// output names.
fn contribution_index(name: &str) -> Option<usize> {
    let feature = name.strip_prefix("contribution_")?;
    features().iter().position(|f| *f == feature)
}

/// Every output name, in the default order.
pub(crate) fn output_names() -> Vec<String> {
    OUTPUTS
        .iter()
        .map(|(n, _)| (*n).to_owned())
        .chain([BASELINE.to_owned()])
        .chain(features().iter().map(|f| contribution(f)))
        .collect()
}

/// Whether an answer carries the explanations: asked for with the `explain`
/// parameter, or by naming an explanation output. Every output named must
/// exist.
pub fn explained(explain: bool, outputs: Option<&[(String, bool)]>) -> Result<bool, RequestError> {
    check_outputs(outputs)?;
    Ok(explain
        || outputs
            .into_iter()
            .flatten()
            .any(|(name, _)| is_explanation(name)))
}

/// Checks that every output asked for exists.
fn check_outputs(outputs: Option<&[(String, bool)]>) -> Result<(), RequestError> {
    let Some(outputs) = outputs else {
        return Ok(());
    };
    let names = output_names();
    let unknown: Vec<ErrorItem> = outputs
        .iter()
        .filter(|(name, _)| !names.contains(name))
        .map(|(name, _)| {
            ErrorItem::message(format!(
                "output {:?} is no output of this model: the outputs are {}",
                shorten(name),
                names.join(", ")
            ))
        })
        .collect();
    if unknown.is_empty() {
        Ok(())
    } else {
        Err(RequestError::BadRequest(unknown))
    }
}

/// An output's values, borrowed from the scored batch.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Data<'a> {
    /// Predictions.
    Classes(&'a [u8]),
    /// Probabilities.
    Numbers(&'a [f64]),
    /// Explanation values, gathered per output.
    Owned(Vec<f64>),
    /// Ids.
    Texts(&'a [String]),
}

impl Data<'_> {
    /// Appends the values in Triton's binary encoding.
    pub fn put(&self, out: &mut Vec<u8>) {
        match self {
            Data::Classes(v) => datatype::put_int64(out, v.iter().map(|&c| i64::from(c))),
            Data::Numbers(v) => datatype::put_fp64(out, v.iter().copied()),
            Data::Owned(v) => datatype::put_fp64(out, v.iter().copied()),
            Data::Texts(v) => datatype::put_bytes(out, v.iter().map(String::as_str)),
        }
    }
}

/// One output of an answer.
#[derive(Debug)]
pub struct Output<'a> {
    /// Its name.
    pub name: String,
    /// Its datatype.
    pub datatype: Datatype,
    /// Its values.
    pub data: Data<'a>,
    /// Whether it goes as binary data.
    pub binary: bool,
}

/// The outputs an answer carries, in order: those asked for (`outputs`,
/// each with whether it goes as binary data), or the default set, where
/// `binary_output` says how the default set goes.
pub fn outputs<'a>(
    scored: &'a Scored,
    outputs: Option<&[(String, bool)]>,
    binary_output: bool,
) -> Vec<Output<'a>> {
    let chosen: Vec<(String, bool)> = match (outputs, &scored.explanations) {
        (Some(o), _) => o.to_vec(),
        (None, None) => OUTPUTS
            .iter()
            .map(|(n, _)| ((*n).to_owned(), binary_output))
            .collect(),
        (None, Some(_)) => output_names()
            .into_iter()
            .map(|n| (n, binary_output))
            .collect(),
    };
    chosen
        .into_iter()
        .map(|(name, binary)| {
            let (datatype, data) = match name.as_str() {
                "predictions" => (Datatype::Int64, Data::Classes(&scored.result.predictions)),
                "probabilities" => (Datatype::Fp64, Data::Numbers(&scored.result.probabilities)),
                "ids" => (Datatype::Bytes, Data::Texts(&scored.ids)),
                other => (Datatype::Fp64, Data::Owned(explanation(scored, other))),
            };
            Output {
                name,
                datatype,
                data,
                binary,
            }
        })
        .collect()
}

/// An explanation output's values (the request was explained: the outputs
/// were checked and an explanation output turns explanations on).
fn explanation(scored: &Scored, name: &str) -> Vec<f64> {
    let Some(explanations) = &scored.explanations else {
        return Vec::new();
    };
    if name == BASELINE {
        return explanations.iter().map(|e| e.baseline).collect();
    }
    let index = contribution_index(name).unwrap_or_default();
    explanations
        .iter()
        .map(|e| e.contributions.values().nth(index).unwrap_or_default())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explanation_outputs_are_known() {
        assert!(is_explanation("baseline"));
        assert!(is_explanation("contribution_title"));
        assert!(!is_explanation("contribution_name"));
        assert!(check_outputs(Some(&[("predictions".into(), true)])).is_ok());
        assert!(check_outputs(Some(&[("nope".into(), true)])).is_err());
    }
}
