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
use crate::history::rows::new_rows;
use crate::http::errors::{ApiError, ErrorItem};
use crate::http::input::Batch;
use crate::http::state::AppState;
use crate::serving::models::Chosen;

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
pub fn admit(state: &AppState) -> Result<OwnedSemaphorePermit, ApiError> {
    state
        .in_flight
        .clone()
        .try_acquire_owned()
        .map_err(|_| ApiError::Busy)
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
) -> Result<Scored, ApiError> {
    let n = batch.passengers.len();
    if n == 0 {
        return Err(ApiError::Invalid(vec![ErrorItem::field(
            "inputs",
            "is empty: send at least one record",
        )]));
    }
    if n > state.max_batch {
        return Err(ApiError::TooLarge(ErrorItem::field(
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
            return Err(ApiError::Invalid(Batch::locate_in(lines.as_deref(), items)));
        }
        Err(other) => {
            tracing::error!(error = %other, "prediction failed");
            return Err(ApiError::Internal);
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
        .map(|id| id.clone().unwrap_or_else(crate::http::ids::new_id))
        .collect();
    let time_us = crate::clock::now_us();
    if let Some(history) = &state.history {
        let rows = new_rows(
            model,
            &checked,
            &result,
            &ids,
            &client_ids,
            request_id,
            time_us,
            state.keep_names,
        );
        let mut write = traces::Child::start("history write");
        write.set("rows", rows.len() as i64);
        let outcome = history.record(rows, link.clone()).await;
        drop(write);
        match outcome {
            Outcome::Stored => {}
            Outcome::Taken(rows) => {
                return Err(ApiError::Conflict(Batch::locate_in(
                    lines.as_deref(),
                    rows.into_iter()
                        .map(|row| {
                            ErrorItem::at(
                                row,
                                crate::http::ids::ID_KEY,
                                "is already the id of a stored record: ids must be unique",
                            )
                        })
                        .collect(),
                )));
            }
            Outcome::Failed(e) => return Err(ApiError::StoreUnavailable(e.to_string())),
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

/// A scoring request's answer, tagged with its request id: the response, or
/// the error (its invalid fields counted in the metrics) in the endpoint's
/// own error shape.
pub fn answer(
    state: &AppState,
    request_id: &str,
    result: Result<warp::reply::Response, ApiError>,
    shape: impl FnOnce(ApiError) -> warp::reply::Response,
) -> warp::reply::Response {
    let response = result.unwrap_or_else(|error| {
        count_failure(state, &error);
        shape(error)
    });
    crate::http::output::tag_request(response, request_id)
}

/// Counts a scoring request's invalid fields in the metrics.
pub fn count_failure(state: &AppState, error: &ApiError) {
    if let ApiError::Invalid(items) = error {
        state
            .metrics
            .record_validation_failure(items.iter().filter_map(|i| i.field.as_deref()));
    }
}
