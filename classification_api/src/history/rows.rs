//! What the history keeps of each served passenger: its validated inputs
//! (the title instead of the name unless `HISTORY_KEEP_NAMES=true`), the
//! answer, and the packed drift bins.

use classification_model::{Checked, FIELDS, Kind, Model, Passenger, PredictionResult};

use crate::history::monitoring::pack;
use crate::history::store::{Input, NewRow};

/// The name field's index in [`FIELDS`].
fn name_index() -> Option<usize> {
    FIELDS.iter().position(|f| f.feature == "title")
}

/// The rows for a predicted batch (every passenger valid).
#[allow(clippy::too_many_arguments)]
pub fn new_rows(
    model: &Model,
    passengers: &[Passenger],
    result: &PredictionResult,
    ids: &[String],
    client_ids: &[Option<String>],
    request_id: &str,
    time_us: i64,
    keep_names: bool,
) -> Result<Vec<NewRow>, classification_model::Error> {
    let bins = model.drift_bins(passengers)?;
    let name = name_index();
    Ok(passengers
        .iter()
        .enumerate()
        .map(|(row, p)| {
            let values = p.values();
            let inputs = std::array::from_fn(|i| {
                let field = &FIELDS[i];
                let checked = field.check(values[i]).unwrap_or(Checked::Missing);
                let minimise = Some(i) == name && !keep_names;
                match checked {
                    Checked::Missing => Input::Null,
                    Checked::Number(n) if minimise => {
                        Input::Text(classification_model::title(&n.to_string()).into())
                    }
                    Checked::Text(t) if minimise => {
                        Input::Text(classification_model::title(t).into())
                    }
                    Checked::Number(n) => match field.kind {
                        Kind::Integer { .. } => Input::Integer(n as i64),
                        Kind::Text | Kind::Choice(_) => Input::Text(n.to_string()),
                        Kind::Number { .. } => Input::Number(n),
                    },
                    Checked::Label(l) => Input::Text(l.to_owned()),
                    Checked::Text(t) => Input::Text(t.to_owned()),
                }
            });
            let probability = result.probabilities[row];
            let prediction = result.predictions[row];
            NewRow {
                id: ids[row].clone(),
                client_id: client_ids.get(row).is_some_and(Option::is_some),
                request_id: request_id.to_owned(),
                time_us,
                version: result.version.clone(),
                inputs,
                probability,
                prediction: i64::from(prediction),
                bins: pack(&bins[row], probability, prediction),
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_titles_unless_kept() {
        let model = Model::embedded().unwrap();
        let p: Passenger = serde_json::from_str(
            r#"{"pclass": "3", "name": "Braund, Mr. Owen Harris", "sex": "MALE", "age": 22,
                "sibsp": 1, "parch": 0, "fare": 7.25, "embarked": "s"}"#,
        )
        .unwrap();
        let result = model.predict(std::slice::from_ref(&p)).unwrap();
        let rows = |keep| {
            new_rows(
                model,
                std::slice::from_ref(&p),
                &result,
                &["a".into()],
                &[None],
                "r",
                1,
                keep,
            )
            .unwrap()
            .remove(0)
        };
        let minimised = rows(false);
        assert_eq!(minimised.inputs[1], Input::Text("Mr".into()));
        assert_eq!(minimised.inputs[0], Input::Integer(3));
        assert_eq!(minimised.inputs[2], Input::Text("male".into()));
        assert_eq!(minimised.inputs[8], Input::Text("S".into()));
        assert_eq!(minimised.inputs[7], Input::Null);
        assert!(!minimised.client_id);
        assert_eq!(
            rows(true).inputs[1],
            Input::Text("Braund, Mr. Owen Harris".into())
        );
    }
}
