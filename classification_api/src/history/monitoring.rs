//! `/monitoring`: what was served (counts, positive rate, a histogram of
//! probabilities), how far each feature drifted from the training data
//! (PSI over the artifact's bins) and how the model does on the records
//! with feedback. The database groups the rows by their packed bins and
//! sorts the feedback; this module folds what it streams, in constant
//! memory.

use classification_model::{
    Model,
    drift::{FeatureBins, PSI_ALERT, psi},
    metrics::{LiveScores, Scores, SortedScores},
    schema::N_FIELDS,
};
use futures_util::{Stream, TryStreamExt};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::history::store::ShadowSums;

/// Bits per feature's bin in the packed value.
const BITS: u32 = 5;

/// Where the probability decile starts in the packed value.
const DECILE_SHIFT: u32 = BITS * N_FIELDS as u32;

/// Where the prediction bit is.
const PREDICTION_SHIFT: u32 = DECILE_SHIFT + 4;

/// Packs a record's drift bins (features order), its probability's decile
/// and its prediction into one integer, which the store groups by.
pub fn pack(bins: &[u8; N_FIELDS], probability: f64, prediction: u8) -> i64 {
    let mut v = 0i64;
    for (i, b) in bins.iter().enumerate() {
        v |= i64::from(*b & 0x1f) << (BITS * i as u32);
    }
    v | decile(probability) << DECILE_SHIFT | i64::from(prediction & 1) << PREDICTION_SHIFT
}

/// Unpacks what [`pack`] packed, if `v` is a value `pack` can give for
/// features of `bins_per_feature` bins: another build sharing the store, or
/// a damaged row, may have written anything.
fn unpack(v: i64, bins_per_feature: &[usize]) -> Option<([usize; N_FIELDS], usize, bool)> {
    if v < 0 || v >> (PREDICTION_SHIFT + 1) != 0 {
        return None;
    }
    let bins: [usize; N_FIELDS] =
        std::array::from_fn(|i| ((v >> (BITS * i as u32)) & 0x1f) as usize);
    let decile = ((v >> DECILE_SHIFT) & 0xf) as usize;
    let fits = bins
        .iter()
        .zip(bins_per_feature)
        .all(|(b, n)| b < n && *b < classification_model::drift::MAX_BINS);
    (fits && bins_per_feature.len() == N_FIELDS && decile <= 9).then_some((
        bins,
        decile,
        (v >> PREDICTION_SHIFT) & 1 == 1,
    ))
}

/// Logs the first stored value this build would not write, once per process
/// (they are counted in each report's `invalid`).
fn log_invalid_once(what: std::fmt::Arguments<'_>) {
    static LOGGED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if !LOGGED.swap(true, std::sync::atomic::Ordering::Relaxed) {
        tracing::warn!(
            "the history holds a value this build would not write ({what}): such rows are skipped and counted as `invalid` in /monitoring"
        );
    }
}

/// The histogram bin of a probability: 0 for [0, 0.1), ..., 9 for [0.9, 1].
fn decile(p: f64) -> i64 {
    ((p * 10.0).floor() as i64).clamp(0, 9)
}

/// `GET /monitoring`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MonitoringReport {
    /// The model version the figures are for.
    pub version: String,
    /// Records served.
    pub count: u64,
    /// Stored rows skipped because this build would not have written them
    /// (a drift bin or probability out of range, written by another build
    /// or damaged); 0 normally.
    pub invalid: u64,
    /// Share predicted to survive; `null` when nothing was served.
    pub positive_rate: Option<f64>,
    /// Records by probability, in ten bins of width 0.1.
    pub probability_histogram: Vec<HistogramBin>,
    /// Per feature: PSI against the training data, and the shares per bin.
    pub drift: Vec<FeatureDrift>,
    /// PSI above which a feature counts as drifted.
    pub psi_alert: f64,
    /// Metrics on the records with feedback; `null` when none has any.
    pub live: Option<LiveScores>,
    /// The artifact's metrics on its held-out test rows, for comparison.
    pub training_test: Option<Scores>,
    /// Per shadow version that scored these records too: how far it agrees.
    pub shadow: Vec<ShadowAgreement>,
    /// Records served over time.
    pub timeline: Timeline,
}

impl MonitoringReport {
    /// The report's headline figures, as the monitoring gauges show them
    /// (NaN where there is none yet).
    pub fn figures(&self) -> [(&'static str, f64); 7] {
        let live = self.live.as_ref();
        [
            ("records", self.count as f64),
            ("positive_rate", self.positive_rate.unwrap_or(f64::NAN)),
            ("feedback_rows", live.map_or(0.0, |l| l.rows as f64)),
            ("accuracy", live.map_or(f64::NAN, |l| l.accuracy)),
            ("roc_auc", live.and_then(|l| l.roc_auc).unwrap_or(f64::NAN)),
            ("log_loss", live.map_or(f64::NAN, |l| l.log_loss)),
            ("brier", live.map_or(f64::NAN, |l| l.brier)),
        ]
    }

    /// Each feature's PSI against the training data.
    pub fn psi(&self) -> impl Iterator<Item = (&str, f64)> {
        self.drift.iter().map(|f| (f.feature.as_str(), f.psi))
    }
}

/// Records served per bucket of time, the buckets as wide as needed to
/// cover the records in at most [`MAX_BUCKETS`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Timeline {
    /// Each bucket's width, in seconds (0 when nothing was served).
    pub bucket_seconds: u64,
    /// The buckets with records, oldest first.
    pub buckets: Vec<TimeBucket>,
}

/// The records served in one bucket of time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TimeBucket {
    /// Where the bucket starts (RFC 3339, UTC).
    pub from: String,
    /// Records served.
    pub count: u64,
    /// Share of them predicted to survive.
    pub positive_rate: f64,
}

/// Most buckets a [`Timeline`] has.
pub const MAX_BUCKETS: i64 = 60;

/// The bucket widths a timeline picks from, in seconds: the narrowest that
/// covers a span in [`MAX_BUCKETS`].
const WIDTHS: [i64; 12] = [
    1,
    10,
    60,
    300,
    900,
    3600,
    3 * 3600,
    6 * 3600,
    86_400,
    7 * 86_400,
    30 * 86_400,
    365 * 86_400,
];

/// The bucket width (µs) for records from `first` to `last` (µs).
pub fn bucket_width(first: i64, last: i64) -> i64 {
    let span = last.saturating_sub(first).max(0);
    let fits = |w: &&i64| span / (**w * 1_000_000) < MAX_BUCKETS;
    let seconds = WIDTHS
        .iter()
        .find(fits)
        .copied()
        .unwrap_or(WIDTHS[WIDTHS.len() - 1]);
    seconds * 1_000_000
}

/// The timeline of `(bucket number, rows, positives)` groups of `width` µs.
pub fn timeline(width: i64, groups: Vec<(i64, i64, i64)>) -> Timeline {
    Timeline {
        bucket_seconds: (width / 1_000_000).max(0) as u64,
        buckets: groups
            .into_iter()
            .map(|(bucket, count, positives)| TimeBucket {
                from: crate::clock::format(bucket.saturating_mul(width)),
                count: count.max(0) as u64,
                positive_rate: positives as f64 / count.max(1) as f64,
            })
            .collect(),
    }
}

/// How a shadow version's answers compare with the served ones.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ShadowAgreement {
    /// The shadow version.
    pub version: String,
    /// Records it scored (of the `count` served).
    pub records: u64,
    /// Share of those it gave the served prediction.
    pub agreement: f64,
    /// Mean |served probability - shadow probability|.
    pub mean_abs_difference: f64,
    /// Largest |served probability - shadow probability|.
    pub max_abs_difference: f64,
}

impl From<ShadowSums> for ShadowAgreement {
    fn from(s: ShadowSums) -> Self {
        let records = s.records.max(1) as f64;
        ShadowAgreement {
            version: s.version,
            records: s.records.max(0) as u64,
            agreement: s.agreements as f64 / records,
            mean_abs_difference: s.sum_abs_difference / records,
            max_abs_difference: s.max_abs_difference,
        }
    }
}

/// Records whose probability is in `[from, to)` (the last bin includes 1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct HistogramBin {
    /// Lower bound.
    pub from: f64,
    /// Upper bound.
    pub to: f64,
    /// Records.
    pub count: u64,
}

/// One feature's drift.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FeatureDrift {
    /// The feature (as in explanations).
    pub feature: String,
    /// Population stability index of the served shares against training.
    pub psi: f64,
    /// `psi > psi_alert`.
    pub drifted: bool,
    /// Per bin: its name, the training share and the served share.
    pub bins: Vec<DriftBin>,
}

/// One bin of one feature.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DriftBin {
    /// `< 22`, `[22, 28)`, a label, `Rare` or `Missing`.
    pub bin: String,
    /// Share of training rows.
    pub expected: f64,
    /// Share of served records (0 when nothing was served).
    pub observed: f64,
}

/// Folds the store's grouped counts and sorted feedback into a report on
/// `model`'s version.
pub async fn report<E>(
    model: &Model,
    groups: impl Stream<Item = Result<(i64, i64), E>>,
    feedback: impl Stream<Item = Result<(f64, i64), E>>,
) -> Result<MonitoringReport, E> {
    let reference = model.artifact().drift().features();
    let bins_per_feature: Vec<usize> = reference.iter().map(|f| f.bins.len()).collect();
    let mut counts = [[0u64; classification_model::drift::MAX_BINS]; N_FIELDS];
    let mut histogram = [0u64; 10];
    let (mut count, mut positives, mut invalid) = (0u64, 0u64, 0u64);
    futures_util::pin_mut!(groups);
    while let Some((packed, n)) = groups.try_next().await? {
        let n = n.max(0) as u64;
        let Some((bins, decile, positive)) = unpack(packed, &bins_per_feature) else {
            log_invalid_once(format_args!("drift bins packed as {packed}"));
            invalid += n;
            continue;
        };
        for (f, b) in bins.iter().enumerate() {
            counts[f][*b] += n;
        }
        histogram[decile] += n;
        count += n;
        positives += if positive { n } else { 0 };
    }
    let mut live = SortedScores::default();
    futures_util::pin_mut!(feedback);
    while let Some((p, y)) = feedback.try_next().await? {
        if !(0.0..=1.0).contains(&p) || !(y == 0 || y == 1) {
            log_invalid_once(format_args!("probability {p} with outcome {y}"));
            invalid += 1;
            continue;
        }
        live.push(p, u8::from(y == 1));
    }
    Ok(MonitoringReport {
        version: model.version().to_owned(),
        count,
        invalid,
        positive_rate: (count > 0).then(|| positives as f64 / count as f64),
        probability_histogram: histogram
            .iter()
            .enumerate()
            .map(|(i, &count)| HistogramBin {
                from: i as f64 / 10.0,
                to: (i + 1) as f64 / 10.0,
                count,
            })
            .collect(),
        drift: reference
            .iter()
            .zip(&counts)
            .map(|(f, c)| drift(f, &c[..f.bins.len()], count))
            .collect(),
        psi_alert: PSI_ALERT,
        live: live.finish(),
        training_test: model.artifact().metrics().test,
        shadow: Vec::new(),
        timeline: Timeline::default(),
    })
}

fn drift(reference: &FeatureBins, observed: &[u64], total: u64) -> FeatureDrift {
    let psi = psi(&reference.shares, observed);
    FeatureDrift {
        feature: reference.feature.clone(),
        psi,
        drifted: psi > PSI_ALERT,
        bins: reference
            .bins
            .iter()
            .zip(&reference.shares)
            .zip(observed)
            .map(|((bin, &expected), &o)| DriftBin {
                bin: bin.clone(),
                expected,
                observed: if total == 0 {
                    0.0
                } else {
                    o as f64 / total as f64
                },
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packing_round_trips() {
        let bins = [3, 4, 1, 10, 2, 3, 10, 2, 4];
        let sizes = [31; N_FIELDS];
        let (b, d, p) = unpack(pack(&bins, 0.87, 1), &sizes).unwrap();
        assert_eq!(b.map(|x| x as u8), bins);
        assert_eq!((d, p), (8, true));
        assert_eq!(unpack(pack(&[30; N_FIELDS], 1.0, 0), &sizes).unwrap().1, 9);
        assert!(pack(&[31; N_FIELDS], 1.0, 1) > 0);
    }

    #[test]
    fn values_this_build_would_not_write_do_not_unpack() {
        let sizes = [11; N_FIELDS];
        assert!(unpack(pack(&[10; N_FIELDS], 0.5, 0), &sizes).is_some());
        // a bin past the feature's, or the 32nd slot, or a decile over 9,
        // or bits past the prediction, or a negative value
        assert!(unpack(pack(&[11; N_FIELDS], 0.5, 0), &sizes).is_none());
        assert!(unpack(pack(&[31; N_FIELDS], 0.5, 0), &[32; N_FIELDS]).is_none());
        assert!(unpack(15 << DECILE_SHIFT, &sizes).is_none());
        assert!(unpack(1 << (PREDICTION_SHIFT + 1), &sizes).is_none());
        assert!(unpack(-1, &sizes).is_none());
        assert!(unpack(0, &sizes[..3]).is_none());
    }

    #[test]
    fn a_timeline_has_at_most_max_buckets() {
        let s = 1_000_000;
        assert_eq!(bucket_width(5 * s, 5 * s), s);
        assert_eq!(bucket_width(0, 59 * s), s);
        assert_eq!(bucket_width(0, 60 * s), 10 * s);
        assert_eq!(bucket_width(0, 3 * 86_400 * s), 3 * 3600 * s);
        for span in [0, 1, 59 * s, 61 * s, 86_400 * s, 400 * 86_400 * s] {
            let w = bucket_width(0, span);
            assert!(span / w < MAX_BUCKETS, "{span}");
        }
        assert_eq!(bucket_width(0, i64::MAX), 365 * 86_400 * s);
        let t = timeline(60 * s, vec![(29_000_000, 4, 1)]);
        assert_eq!(t.bucket_seconds, 60);
        assert_eq!(t.buckets[0].from, crate::clock::format(29_000_000 * 60 * s));
        assert_eq!((t.buckets[0].count, t.buckets[0].positive_rate), (4, 0.25));
    }

    #[tokio::test]
    async fn a_report_on_the_training_mix_shows_no_drift() {
        let model = Model::embedded().unwrap();
        let rows = classification_model::csv::read_passengers_csv(include_bytes!(
            "../../../classification_model/datasets/titanic.csv"
        ))
        .unwrap();
        let batch = classification_model::CheckedBatch::new(rows.passengers).unwrap();
        let predictions = model.score(&batch, &Default::default());
        let bins = model.drift_bins(&batch);
        let groups: Vec<Result<(i64, i64), ()>> = bins
            .iter()
            .zip(&predictions)
            .map(|(b, p)| Ok((pack(b, p.probability, p.label), 1)))
            .collect();
        let r = report(
            model,
            futures_util::stream::iter(groups),
            futures_util::stream::empty(),
        )
        .await
        .unwrap();
        assert_eq!(r.count, 1309);
        assert!(r.drift.iter().all(|f| !f.drifted), "{:?}", r.drift);
        assert_eq!(
            r.probability_histogram.iter().map(|b| b.count).sum::<u64>(),
            1309
        );
        assert!(r.live.is_none());
    }
}
