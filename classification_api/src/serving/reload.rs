//! Reloading the model versions: what a reload does around the registry
//! (off the async workers, logged, counted), and its three triggers: a
//! watcher on `MODELS_DIR`, SIGHUP, and `POST /admin/reload`.

use std::sync::Arc;
use std::time::Duration;

use crate::serving::models::Registry;
use crate::serving::models::ReloadReport;
use crate::telemetry::metrics::Metrics;

/// What a reload needs: the versions it replaces and the metrics that
/// count it.
#[derive(Debug, Clone)]
pub struct Reloader {
    /// The versions served.
    pub models: Arc<Registry>,
    /// Where loads are counted.
    pub metrics: Arc<Metrics>,
}

/// How long the watcher waits after a change for the next one, so that a
/// burst of events (a copy's create and writes) makes one reload.
pub const SETTLE: Duration = Duration::from_millis(200);

/// Reads `MODELS_DIR` again, swaps the new set in, and logs and counts what
/// happened. `trigger` names what asked for it, in the log.
pub async fn reload(state: Reloader, trigger: &'static str) -> ReloadReport {
    use tracing::Instrument as _;
    let span = tracing::info_span!(target: crate::telemetry::traces::SPANS, "model reload", trigger, versions = tracing::field::Empty, refused = tracing::field::Empty);
    let registry_state = state.models.clone();
    let report = tokio::task::spawn_blocking(move || registry_state.reload())
        .instrument(span.clone())
        .await
        .unwrap_or_else(|e| {
            // a panic in the scan: the old set was not replaced
            tracing::error!(error = %e, "model reload failed");
            state.models.current().report(Vec::new())
        });
    span.record("versions", report.versions.len());
    span.record("refused", report.refused.len());
    record(&state, &report, trigger);
    report
}

/// Logs a reload's outcome and counts it in the metrics.
pub fn record(state: &Reloader, report: &ReloadReport, trigger: &'static str) {
    for refused in &report.refused {
        tracing::warn!(
            trigger,
            file = %refused.file,
            reason = %refused.reason,
            "model artifact refused"
        );
    }
    tracing::info!(
        trigger,
        versions = %report.versions.join(", "),
        default = %report.default,
        shadow = report.shadow.as_deref().unwrap_or("none"),
        "model versions loaded"
    );
    let models = state.models.current();
    let roles = models.names().into_iter().map(|version| {
        let role = models.role(&version);
        (version, role)
    });
    state.metrics.record_reload(roles, report.refused.len());
}

/// Watches `MODELS_DIR` (if set) and reloads after each burst of changes.
/// The returned watcher stops when dropped.
pub fn watch(state: Reloader) -> Option<notify::RecommendedWatcher> {
    use notify::Watcher;
    let dir = state.models.dir()?.to_owned();
    let (tx, mut rx) = tokio::sync::mpsc::channel::<()>(1);
    let watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        // reading is not a change, but closing a file written is; hidden
        // files (partial writes) are not artifacts; anything else (or an
        // error) may be a change
        let change = event.map_or(true, |e| {
            use notify::event::{AccessKind, AccessMode, EventKind};
            let hidden = |p: &std::path::PathBuf| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with('.'))
            };
            let written = !e.kind.is_access()
                || e.kind == EventKind::Access(AccessKind::Close(AccessMode::Write));
            let only_hidden = !e.paths.is_empty() && e.paths.iter().all(hidden);
            written && !only_hidden
        });
        if change {
            // full means a reload is already due
            let _ = tx.try_send(());
        }
    });
    let mut watcher = match watcher {
        Ok(w) => w,
        Err(e) => {
            tracing::warn!(error = %e, "cannot watch MODELS_DIR: reload with SIGHUP or POST /admin/reload");
            return None;
        }
    };
    if let Err(e) = watcher.watch(&dir, notify::RecursiveMode::NonRecursive) {
        tracing::warn!(dir = %dir.display(), error = %e, "cannot watch MODELS_DIR: reload with SIGHUP or POST /admin/reload");
        return None;
    }
    tokio::spawn(async move {
        while rx.recv().await.is_some() {
            // wait until no change has come for SETTLE
            loop {
                match tokio::time::timeout(SETTLE, rx.recv()).await {
                    Ok(Some(())) => continue,
                    Ok(None) => return,
                    Err(_) => break,
                }
            }
            reload(state.clone(), "file watcher").await;
        }
    });
    Some(watcher)
}

/// Reloads on every SIGHUP (Unix only).
pub fn on_sighup(state: Reloader) {
    #[cfg(unix)]
    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
        Ok(mut hangup) => {
            tokio::spawn(async move {
                while hangup.recv().await.is_some() {
                    reload(state.clone(), "SIGHUP").await;
                }
            });
        }
        Err(e) => tracing::warn!(error = %e, "cannot listen for SIGHUP"),
    }
    #[cfg(not(unix))]
    drop(state);
}
