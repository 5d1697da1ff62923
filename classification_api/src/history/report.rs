//! The monitoring report: the store's grouped counts, feedback, shadow
//! sums and timeline, folded by [`monitoring`].

use classification_model::Model;

use crate::history::monitoring::{self, MonitoringReport};
use crate::history::recorder::Recorder;
use crate::history::store::Filter;

/// The monitoring report on `filter`'s rows, served by `model`.
pub async fn report(
    model: &Model,
    recorder: &Recorder,
    filter: Filter,
) -> Result<MonitoringReport, sqlx::Error> {
    let shadow = recorder.store.shadow_sums(&filter).await?;
    let timeline = match recorder.store.span(&filter).await? {
        Some((first, last)) => {
            let width = monitoring::bucket_width(first, last);
            monitoring::timeline(width, recorder.store.timeline(&filter, width).await?)
        }
        None => monitoring::Timeline::default(),
    };
    let mut report = monitoring::report(
        model,
        recorder.store.bin_counts(filter.clone()),
        recorder.store.feedback_pairs(filter),
    )
    .await?;
    report.shadow = shadow.into_iter().map(Into::into).collect();
    report.timeline = timeline;
    Ok(report)
}
