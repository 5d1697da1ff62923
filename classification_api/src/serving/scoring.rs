//! The steps every prediction route takes once its body is in: admission,
//! the batch limits, scoring (explained if asked), history and metrics.
//! `/predict` and the Open Inference Protocol's `infer` differ only in how
//! they read a batch and how they render the answer.

use std::sync::Arc;

use classification_model::{CheckedBatch, Explanation, PredictOptions, PredictionResult};
use opentelemetry::KeyValue;
use tokio::sync::OwnedSemaphorePermit;

use crate::telemetry::traces;

use crate::history::recorder::Outcome;
use crate::history::rows::{Served, new_rows};
use crate::serving::batch::Batch;
use crate::serving::errors::{ErrorItem, RequestError};
use crate::serving::models::Chosen;
use crate::serving::state::AppState;

/// A scored batch.
#[derive(Debug)]
pub struct Scored {
    /// Predictions and probabilities, in input order.
    pub result: PredictionResult,
    /// Per passenger, when explanations were asked for.
    pub explanations: Option<Vec<Explanation>>,
    /// Each record's id: its own, or a new one that sorts by time.
    pub ids: Vec<String>,
}

/// A permit for a prediction being computed, taken once the body is in
/// (503 when none is free).
pub fn admit(state: &AppState) -> Result<OwnedSemaphorePermit, RequestError> {
    state
        .in_flight
        .clone()
        .try_acquire_owned()
        .map_err(|_| RequestError::Busy)
}

/// Scores `batch` with the chosen model under `permit`, stores it in the
/// history (if on), counts it, and hands it to the shadow (if any). An error
/// names every row and field at fault (rows as the batch numbers them; CSV
/// lines too).
pub async fn score(
    state: &AppState,
    chosen: &Chosen,
    permit: OwnedSemaphorePermit,
    batch: Batch,
    explain: bool,
    request_id: &str,
) -> Result<Scored, RequestError> {
    let n = batch.passengers.len();
    if n == 0 {
        return Err(RequestError::Invalid(vec![ErrorItem::field(
            "inputs",
            "is empty: send at least one record",
        )]));
    }
    if n > state.max_batch {
        return Err(RequestError::TooLarge(ErrorItem::field(
            "inputs",
            format!(
                "has {n} records, more than the {} one request may carry: split the batch",
                state.max_batch
            ),
        )));
    }
    let model = &chosen.model;
    traces::record(|| {
        [
            KeyValue::new("model.version", model.version().to_owned()),
            KeyValue::new("records", n as i64),
        ]
    });
    // what the group commit's and the shadow's spans link to
    let link = traces::link_of_current();
    let mut scoring = traces::Child::start("score");
    scoring.set("records", n as i64);
    scoring.set("explain", explain);
    let Batch {
        passengers,
        ids: client_ids,
        lines,
    } = batch;
    // checked once: scoring, history rows and the shadow take it as it is
    let checked = match CheckedBatch::new(passengers) {
        Ok(checked) => Arc::new(checked),
        Err(classification_model::Error::Invalid(errors)) => {
            let items = errors.0.into_iter().map(ErrorItem::from).collect();
            return Err(RequestError::Invalid(Batch::locate_in(
                lines.as_deref(),
                items,
            )));
        }
        Err(other) => {
            tracing::error!(error = %other, "prediction failed");
            return Err(RequestError::Internal);
        }
    };
    let options = PredictOptions {
        explain,
        ..PredictOptions::default()
    };
    let predictions = model.score(&checked, &options);
    let result = PredictionResult::new(&predictions, model.version());
    let explanations = explain.then(|| {
        predictions
            .into_iter()
            .filter_map(|p| p.explanation)
            .collect()
    });
    drop(scoring);
    // the permit bounds predictions being computed; waiting for the store is
    // bounded by the connection limit and the writers' queue
    drop(permit);
    let ids: Vec<String> = client_ids
        .iter()
        .map(|id| id.clone().unwrap_or_else(crate::serving::ids::new_id))
        .collect();
    let time_us = crate::clock::now_us();
    if let Some(history) = &state.history {
        let rows = new_rows(&Served {
            model,
            batch: &checked,
            result: &result,
            ids: &ids,
            client_ids: &client_ids,
            request_id,
            time_us,
            keep_names: state.keep_names,
        });
        let mut write = traces::Child::start("history write");
        write.set("rows", rows.len() as i64);
        let outcome = history.record(rows, link.clone()).await;
        drop(write);
        match outcome {
            Outcome::Stored => {}
            Outcome::Taken(rows) => {
                return Err(RequestError::Conflict(Batch::locate_in(
                    lines.as_deref(),
                    rows.into_iter()
                        .map(|row| {
                            ErrorItem::at(
                                row,
                                crate::serving::ids::ID_KEY,
                                "is already the id of a stored record: ids must be unique",
                            )
                        })
                        .collect(),
                )));
            }
            Outcome::Failed(e) => return Err(RequestError::StoreUnavailable(e.to_string())),
        }
    }
    state.metrics.record_predictions(&result.predictions);
    if let (Some(shadow), Some(model)) = (&state.shadow, &chosen.shadow) {
        shadow.submit(
            crate::serving::shadow::Job {
                model: model.clone(),
                batch: checked,
                served: (result.probabilities.clone(), result.predictions.clone()),
                ids: ids.clone(),
                time_us,
                link,
            },
            &state.metrics,
        );
    }
    Ok(Scored {
        result,
        explanations,
        ids,
    })
}

/// Counts a scoring request's invalid fields in the metrics.
pub fn count_failure(state: &AppState, error: &RequestError) {
    if matches!(error, RequestError::Invalid(_)) {
        state
            .metrics
            .record_validation_failure(error.invalid_fields());
    }
}
