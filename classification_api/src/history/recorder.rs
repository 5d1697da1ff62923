//! Group commit: requests hand their rows to writer tasks, which store
//! whatever has queued up in one transaction and only then release the
//! requests' answers. While the store fails, requests are refused at once
//! and a probe reconnects with backoff; old rows are pruned in the
//! background.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{Notify, mpsc, oneshot, watch};
use tokio::task::JoinHandle;

use crate::errors::StoreError;
use crate::history::store::{Held, NewRow, Store};

/// Most rows one group commits.
const GROUP_ROWS: usize = 4096;

/// How many times a writer yields to gather a group.
const GATHER_YIELDS: usize = 4;

/// Jobs queued before requests wait to queue theirs.
const QUEUE: usize = 4096;

/// Rows deleted per pruning statement.
const PRUNE_BATCH: i64 = 1000;

/// What became of a request's rows.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// All stored.
    Stored,
    /// None stored: these rows' caller-chosen ids are already used.
    Taken(Vec<usize>),
    /// None stored: the store failed.
    Failed(StoreError),
}

struct Job {
    rows: Vec<NewRow>,
    done: oneshot::Sender<Outcome>,
    /// The request's span, which its group's span links to.
    link: Option<opentelemetry::trace::SpanContext>,
}

/// The store's health, as `/health/ready` reports it.
#[derive(Debug, Default)]
pub struct Health {
    down: AtomicBool,
    reason: Mutex<Option<StoreError>>,
    wake: Notify,
}

impl Health {
    /// Why the store is down, if it is.
    pub fn problem(&self) -> Option<StoreError> {
        if !self.down.load(Ordering::Acquire) {
            return None;
        }
        self.reason.lock().ok().and_then(|r| r.clone())
    }

    fn fail(&self, e: StoreError) {
        if let Ok(mut r) = self.reason.lock() {
            *r = Some(e);
        }
        if !self.down.swap(true, Ordering::AcqRel) {
            tracing::error!(error = %self.problem().map(|e| e.to_string()).unwrap_or_default(), "history store down");
            self.wake.notify_one();
        }
    }

    fn recover(&self) {
        if self.down.swap(false, Ordering::AcqRel) {
            tracing::info!("history store back");
        }
    }
}

/// Hands rows to the writers; clones share them.
#[derive(Clone)]
pub struct Recorder {
    queue: mpsc::Sender<Job>,
    /// The store's health.
    pub health: Arc<Health>,
    /// The store, for reads.
    pub store: Store,
}

/// The background tasks, to wait for at shutdown.
pub struct Tasks {
    writers: Vec<JoinHandle<()>>,
    others: Vec<JoinHandle<()>>,
    stop: watch::Sender<bool>,
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder")
            .field("backend", &self.store.backend())
            .finish()
    }
}

impl Recorder {
    /// Starts the writers (one for SQLite, which has one writer anyway;
    /// several for PostgreSQL, so that groups overlap), the probe and, with
    /// `retention_days`, the pruner.
    pub fn start(store: Store, retention_days: Option<u32>) -> (Recorder, Tasks) {
        let (queue, rx) = mpsc::channel::<Job>(QUEUE);
        let rx = Arc::new(tokio::sync::Mutex::new(rx));
        let health = Arc::new(Health::default());
        let n = if store.backend() == "sqlite" { 1 } else { 4 };
        let (stop, stopping) = watch::channel(false);
        let writers = (0..n)
            .map(|_| {
                tokio::spawn(write_groups(
                    store.clone(),
                    rx.clone(),
                    health.clone(),
                    stopping.clone(),
                ))
            })
            .collect();
        let mut others = vec![tokio::spawn(probe(store.clone(), health.clone()))];
        if let Some(days) = retention_days {
            others.push(tokio::spawn(prune(store.clone(), days)));
        }
        (
            Recorder {
                queue,
                health,
                store,
            },
            Tasks {
                writers,
                others,
                stop,
            },
        )
    }

    /// Stores a request's rows (all or none) and says what became of them;
    /// the group's span links to `link` (the request's span, if traced).
    pub async fn record(
        &self,
        rows: Vec<NewRow>,
        link: Option<opentelemetry::trace::SpanContext>,
    ) -> Outcome {
        if let Some(e) = self.health.problem() {
            return Outcome::Failed(e);
        }
        let (done, answer) = oneshot::channel();
        if self.queue.send(Job { rows, done, link }).await.is_err() {
            return Outcome::Failed(StoreError::Unavailable {
                backend: self.store.backend(),
                reason: "the service is shutting down".into(),
            });
        }
        answer.await.unwrap_or_else(|_| {
            Outcome::Failed(StoreError::Unavailable {
                backend: self.store.backend(),
                reason: "the writer stopped".into(),
            })
        })
    }
}

impl Tasks {
    /// Writes every queued row, then stops the background tasks and closes
    /// the store. Rows queued after this are refused (503).
    pub async fn finish(self, store: &Store) {
        let _ = self.stop.send(true);
        for w in self.writers {
            let _ = w.await;
        }
        for t in self.others {
            t.abort();
        }
        store.close().await;
    }
}

/// One writer: takes what has queued, stores it as one group, answers.
async fn write_groups(
    store: Store,
    rx: Arc<tokio::sync::Mutex<mpsc::Receiver<Job>>>,
    health: Arc<Health>,
    mut stopping: watch::Receiver<bool>,
) {
    let mut held = None;
    loop {
        let mut jobs = Vec::new();
        {
            let mut rx = rx.lock().await;
            let first = tokio::select! {
                biased;
                job = rx.recv() => job,
                // stopping: what is queued still gets written
                _ = stopping.wait_for(|s| *s) => rx.try_recv().ok(),
            };
            let Some(first) = first else {
                return;
            };
            let mut rows = first.rows.len();
            jobs.push(first);
            let mut gather = |jobs: &mut Vec<Job>| {
                let before = jobs.len();
                while rows < GROUP_ROWS {
                    match rx.try_recv() {
                        Ok(job) => {
                            rows += job.rows.len();
                            jobs.push(job);
                        }
                        Err(_) => break,
                    }
                }
                // whether to gather on: room left, and more came
                rows < GROUP_ROWS && jobs.len() > before
            };
            // Let requests already being answered on the other workers
            // queue theirs, for fewer and larger commits (a commit's fixed
            // cost is most of a small one's): yield while that brings more,
            // a few times at most.
            let _ = gather(&mut jobs);
            for _ in 0..GATHER_YIELDS {
                tokio::task::yield_now().await;
                if !gather(&mut jobs) {
                    break;
                }
            }
        }
        write_group(&store, &mut held, jobs, &health).await;
    }
}

/// Stores one group on the writer's connection (taken from the pool when it
/// has none; dropped after a failure, as it may be broken).
async fn write_group(store: &Store, held: &mut Option<Held>, jobs: Vec<Job>, health: &Health) {
    use tracing::Instrument as _;
    // a job whose request was dropped (client gone) is still written
    let rows: Vec<&[NewRow]> = jobs.iter().map(|j| j.rows.as_slice()).collect();
    // one span for the group, linked to the span of each request in it
    let span = tracing::info_span!(target: crate::telemetry::traces::SPANS, "history commit",
        backend = store.backend(), requests = jobs.len(), rows = rows.iter().map(|r| r.len()).sum::<usize>());
    crate::telemetry::traces::link(&span, jobs.iter().filter_map(|j| j.link.clone()));
    let mut result = insert(store, held, &rows).instrument(span.clone()).await;
    if let Err(e) = &result {
        // a caller-chosen id stored by another replica in the meantime: the
        // retry sees it
        if e.as_database_error()
            .is_some_and(|d| d.is_unique_violation())
        {
            result = insert(store, held, &rows).instrument(span.clone()).await;
        }
    }
    match result {
        Ok(taken) => {
            health.recover();
            for (job, taken) in jobs.into_iter().zip(taken) {
                let outcome = if taken.is_empty() {
                    Outcome::Stored
                } else {
                    Outcome::Taken(taken)
                };
                let _ = job.done.send(outcome);
            }
        }
        Err(e) => {
            *held = None;
            let error = store.unavailable(&e);
            health.fail(error.clone());
            for job in jobs {
                let _ = job.done.send(Outcome::Failed(error.clone()));
            }
        }
    }
}

async fn insert(
    store: &Store,
    held: &mut Option<Held>,
    rows: &[&[NewRow]],
) -> Result<Vec<Vec<usize>>, sqlx::Error> {
    let conn = match held {
        Some(conn) => conn,
        None => held.insert(store.hold().await?),
    };
    store.insert(conn, rows).await
}

/// While the store is down, pings it with backoff (0.25 s doubling to 1 s)
/// and marks it up when it answers.
async fn probe(store: Store, health: Arc<Health>) {
    loop {
        health.wake.notified().await;
        let mut wait = Duration::from_millis(250);
        while health.problem().is_some() {
            tokio::time::sleep(wait).await;
            match store.ping().await {
                Ok(()) => health.recover(),
                Err(e) => {
                    tracing::warn!(error = %e, "history store still down");
                    wait = (wait * 2).min(Duration::from_secs(1));
                }
            }
        }
    }
}

/// Deletes rows older than `days`, a batch at a time, every minute.
async fn prune(store: Store, days: u32) {
    loop {
        let before = crate::clock::now_us() - i64::from(days) * 86_400 * 1_000_000;
        loop {
            match store.prune(before, PRUNE_BATCH).await {
                Ok(n) if n as i64 >= PRUNE_BATCH => {
                    tokio::time::sleep(Duration::from_millis(10)).await
                }
                Ok(n) => {
                    if n > 0 {
                        tracing::info!(rows = n, "history pruned");
                    }
                    break;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "history pruning failed; retrying in a minute");
                    break;
                }
            }
        }
        tokio::time::sleep(Duration::from_secs(60)).await;
    }
}
