//! What the history keeps of each served passenger: its validated inputs
//! (the title instead of the name unless `HISTORY_KEEP_NAMES=true`), the
//! answer, and the packed drift bins.

use classification_model::schema::{FIELDS, Stored};
use classification_model::{CheckedBatch, Model, PredictionResult};

use crate::history::monitoring::pack;
use crate::history::store::{Input, NewRow};

/// The name field's index in [`FIELDS`].
fn name_index() -> Option<usize> {
    FIELDS.iter().position(|f| f.feature == "title")
}

/// A batch as it was served: what its history rows are made of.
#[derive(Debug, Clone, Copy)]
pub struct Served<'a> {
    /// The version that scored it.
    pub model: &'a Model,
    /// The records, checked.
    pub batch: &'a CheckedBatch<'a>,
    /// Its predictions.
    pub result: &'a PredictionResult,
    /// Each record's id.
    pub ids: &'a [String],
    /// The ids the records brought (the rest were made by the server).
    pub client_ids: &'a [Option<String>],
    /// The request's id.
    pub request_id: &'a str,
    /// When it was served, in microseconds since the epoch.
    pub time_us: i64,
    /// Whether names are stored as given (else only their titles).
    pub keep_names: bool,
}

/// The rows for a predicted batch (every passenger valid).
pub fn new_rows(served: &Served<'_>) -> Vec<NewRow> {
    let Served {
        model,
        batch,
        result,
        ids,
        client_ids,
        request_id,
        time_us,
        keep_names,
    } = *served;
    let bins = model.drift_bins(batch);
    let name = name_index();
    (0..batch.len())
        .map(|row| {
            let stored = batch.stored(row);
            let inputs = std::array::from_fn(|i| {
                let minimise = Some(i) == name && !keep_names;
                match &stored[i] {
                    Stored::Missing => Input::Null,
                    _ if minimise => match batch.title(row) {
                        Some(title) => Input::Text(title.to_owned()),
                        None => Input::Null,
                    },
                    Stored::Integer(n) => Input::Integer(*n),
                    Stored::Number(x) => Input::Number(*x),
                    Stored::Text(t) => Input::Text(t.clone().into_owned()),
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
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_titles_unless_kept() {
        let model = Model::embedded().unwrap();
        let p: classification_model::Passenger = serde_json::from_str(
            r#"{"pclass": "3", "name": "Braund, Mr. Owen Harris", "sex": "MALE", "age": 22,
                "sibsp": 1, "parch": 0, "fare": 7.25, "embarked": "s"}"#,
        )
        .unwrap();
        let batch = CheckedBatch::new(vec![p]).unwrap();
        let predictions = model.score(&batch, &Default::default());
        let result = PredictionResult::new(&predictions, model.version());
        let rows = |keep_names| {
            new_rows(&Served {
                model,
                batch: &batch,
                result: &result,
                ids: &["a".into()],
                client_ids: &[None],
                request_id: "r",
                time_us: 1,
                keep_names,
            })
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
