//! What every protocol's handlers share: the model versions, the limits,
//! the history and the metrics.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use tokio::sync::Semaphore;

use crate::config::{Config, Secret};
use crate::history::recorder::Recorder;
use crate::serving::models::Registry;
use crate::serving::shadow::Shadow;
use crate::telemetry::metrics::{Metrics, Route};

/// The body limits a request is read with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyLimits {
    /// Largest accepted body, in bytes.
    pub max_bytes: usize,
    /// How long a client may take to send it.
    pub timeout: Duration,
}

/// What the handlers share.
#[derive(Debug)]
pub struct AppState {
    /// The model versions served.
    pub models: Arc<Registry>,
    /// How request bodies are read.
    pub body: BodyLimits,
    /// Most records in one request.
    pub max_batch: usize,
    /// Permits for predictions being computed; taken once the body is in.
    pub in_flight: Arc<Semaphore>,
    /// The key `/predict` requires, if any.
    pub api_key: Option<Secret>,
    /// What `/metrics` reports.
    pub metrics: Arc<Metrics>,
    /// False once shutdown has begun (`/health/ready` then answers 503).
    pub ready: AtomicBool,
    /// Origins allowed by CORS, if CORS is on.
    pub cors_origins: Option<Vec<String>>,
    /// The prediction history, unless `HISTORY=off`.
    pub history: Option<Recorder>,
    /// Where answered batches go for the shadow version, if one is set.
    pub shadow: Option<Shadow>,
    /// Whether names are stored as given (else only their titles).
    pub keep_names: bool,
    /// The key the admin endpoints require, if any (else loopback only).
    pub admin_key: Option<Secret>,
    /// Whether loopback clients through no proxy reach the admin endpoints
    /// without `admin_key`.
    pub admin_loopback: bool,
}

impl AppState {
    /// State serving `models` with the limits of `config`, its metrics
    /// labelling `routes` (the endpoint table's).
    pub fn new(models: Registry, config: &Config, routes: &[Route]) -> Self {
        let default = models.current().default_model().clone();
        Self {
            models: Arc::new(models),
            body: BodyLimits {
                max_bytes: config.max_body_bytes,
                timeout: config.request_timeout,
            },
            max_batch: config.max_batch,
            in_flight: Arc::new(Semaphore::new(config.max_in_flight)),
            api_key: config.api_key.clone(),
            metrics: Arc::new(Metrics::new(default.name(), default.version(), routes)),
            ready: AtomicBool::new(true),
            cors_origins: config.cors_origins.clone(),
            history: None,
            shadow: None,
            keep_names: config.keep_names,
            admin_key: config.admin_key.clone(),
            admin_loopback: config.admin_loopback,
        }
    }

    /// What a reload of these versions needs.
    pub fn reloader(&self) -> crate::serving::reload::Reloader {
        crate::serving::reload::Reloader {
            models: self.models.clone(),
            metrics: self.metrics.clone(),
        }
    }

    /// Why the service is not ready (shutting down, or the history store is
    /// down), or `None` while it is.
    pub fn unready(&self) -> Option<String> {
        if !self.ready.load(std::sync::atomic::Ordering::Relaxed) {
            return Some("shutting down".into());
        }
        self.history
            .as_ref()
            .and_then(|h| h.health.problem())
            .map(|problem| format!("not ready: {problem}"))
    }

    /// The same state, recording predictions through `recorder`.
    pub fn with_history(mut self, recorder: Recorder) -> Self {
        self.history = Some(recorder);
        self
    }
}
