//! Shadow scoring (`SHADOW_MODEL_VERSION`): every answered batch is handed
//! here after its answer is ready, scored again by the shadow version in a
//! background task, compared (counted in `/metrics`) and, with history on,
//! stored beside the served records. The response never waits for it: a
//! full queue drops the batch (counted), and a shadow failure never fails a
//! request.

use std::sync::Arc;

use classification_model::{CheckedBatch, Model, PredictOptions};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::history::store::{ShadowRow, Store};
use crate::telemetry::metrics::Metrics;

/// Batches waiting for the shadow before new ones are dropped.
const QUEUE: usize = 1024;

/// Most rows one insert takes.
const GROUP_ROWS: usize = 4096;

/// A served batch for the shadow to score.
#[derive(Debug)]
pub struct Job {
    /// The shadow model, as the request found it.
    pub model: Arc<Model>,
    /// The batch, as it was checked for the served version.
    pub batch: Arc<CheckedBatch<'static>>,
    /// What was served for each: its probability and prediction.
    pub served: (Vec<f64>, Vec<u8>),
    /// Each record's id.
    pub ids: Vec<String>,
    /// When the batch was served (microseconds since the Unix epoch).
    pub time_us: i64,
    /// The serving request's span, which the shadow's span links to.
    pub link: Option<opentelemetry::trace::SpanContext>,
}

/// Hands batches to the shadow task.
#[derive(Debug, Clone)]
pub struct Shadow {
    queue: mpsc::Sender<Job>,
}

impl Shadow {
    /// Starts the shadow task: it counts in `metrics` and stores in `store`
    /// (if history is on). It ends once every `Shadow` is dropped and the
    /// queue is empty.
    pub fn start(metrics: Arc<Metrics>, store: Option<Store>) -> (Shadow, JoinHandle<()>) {
        let (queue, jobs) = mpsc::channel(QUEUE);
        let task = tokio::spawn(run(jobs, metrics, store));
        (Shadow { queue }, task)
    }

    /// Queues `job`, or drops it (counted in `metrics`) when the queue is
    /// full.
    pub fn submit(&self, job: Job, metrics: &Metrics) {
        if let Err(e) = self.queue.try_send(job) {
            let job = match e {
                mpsc::error::TrySendError::Full(job) | mpsc::error::TrySendError::Closed(job) => {
                    job
                }
            };
            metrics.record_shadow_dropped(job.batch.len());
        }
    }
}

async fn run(mut jobs: mpsc::Receiver<Job>, metrics: Arc<Metrics>, store: Option<Store>) {
    let mut rows = Vec::new();
    while let Some(job) = jobs.recv().await {
        score(job, &metrics, &mut rows);
        // what queued meanwhile goes in the same insert
        while rows.len() < GROUP_ROWS {
            match jobs.try_recv() {
                Ok(job) => score(job, &metrics, &mut rows),
                Err(_) => break,
            }
        }
        if let Some(store) = &store
            && let Err(e) = store.insert_shadow(&rows).await
        {
            metrics.record_shadow_unstored(rows.len());
            tracing::warn!(error = %e, rows = rows.len(), "shadow answers not stored");
        }
        rows.clear();
    }
}

/// Scores one batch with the shadow, counts how it compares, and adds its
/// rows to `rows`.
fn score(job: Job, metrics: &Metrics, rows: &mut Vec<ShadowRow>) {
    let span = tracing::info_span!(target: crate::telemetry::traces::SPANS, "shadow score", model.version = job.model.version(), records = job.ids.len());
    crate::telemetry::traces::link(&span, job.link.clone());
    let _entered = span.enter();
    // checked once, for the served version: the field table is the same
    let predictions = job.model.score(&job.batch, &PredictOptions::default());
    let labels: Vec<u8> = predictions.iter().map(|p| p.label).collect();
    let probabilities: Vec<f64> = predictions.iter().map(|p| p.probability).collect();
    metrics.record_shadow(&job.served.1, &labels, &job.served.0, &probabilities);
    let version = job.model.version();
    rows.extend(
        job.ids
            .into_iter()
            .zip(probabilities.iter().zip(&labels))
            .map(|(id, (p, c))| ShadowRow {
                id,
                version: version.to_owned(),
                probability: *p,
                prediction: i64::from(*c),
                time_us: job.time_us,
            }),
    );
}
