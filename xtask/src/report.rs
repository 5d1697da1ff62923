//! The training report: one self-contained HTML file per model version, its
//! figures drawn with plotters as inline SVG. `cargo xtask train` writes it
//! for the version it trains; `cargo xtask report FILE` redraws it from any
//! artifact and the dataset it was trained on (its SHA-256 is checked).
//! Deterministic: the same artifact and data give the same bytes.

use anyhow::{Context as _, anyhow};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use classification_model::{
    Model,
    artifact::{Artifact, ClassWeight},
    metrics::Scores,
    train::{Tuning, read_dataset_hashed, train_test_split},
};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use crate::{Result, model_dir, root};

const WIDTH: u32 = 560;
const HEIGHT: u32 = 400;
const TRAIN: RGBColor = RGBColor(31, 119, 180);
const TEST: RGBColor = RGBColor(255, 127, 14);

/// `cargo xtask report`'s arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The artifact (JSON).
    pub artifact: PathBuf,
    /// The data it was trained on (default: the committed dataset).
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Where the report goes (default: reports/).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

pub fn run(args: Args) -> Result<()> {
    let file = &args.artifact;
    let artifact = Artifact::read(file).with_context(|| file.display().to_string())?;
    let data = args
        .data
        .unwrap_or_else(|| model_dir().join("datasets/titanic.csv"));
    let out = args.out.unwrap_or_else(|| root().join("reports"));
    let path = write(&artifact, &data, &out)?;
    println!("wrote {}", path.display());
    Ok(())
}

/// Writes the report of `artifact` (trained on the CSV file `data`) into `dir`.
pub fn write(artifact: &Artifact, data: &Path, dir: &Path) -> Result<PathBuf> {
    let html = render(artifact, data)?;
    std::fs::create_dir_all(dir).with_context(|| dir.display().to_string())?;
    let path = path(dir, artifact);
    std::fs::write(&path, html).with_context(|| path.display().to_string())?;
    Ok(path)
}

/// Where `artifact`'s report goes in `dir`.
pub fn path(dir: &Path, artifact: &Artifact) -> PathBuf {
    dir.join(format!(
        "{}_v{}.html",
        artifact.model_name(),
        artifact.model_version()
    ))
}

/// The reports in `dir` of `artifact`'s model at other versions.
pub fn others(dir: &Path, artifact: &Artifact) -> Result<Vec<PathBuf>> {
    let own = path(dir, artifact);
    let prefix = format!("{}_v", artifact.model_name());
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(Vec::new());
    };
    let mut found: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p != &own
                && p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with(&prefix) && n.ends_with(".html"))
        })
        .collect();
    found.sort();
    Ok(found)
}

/// Labels and probabilities of one set of rows.
struct Set {
    name: &'static str,
    labels: Vec<u8>,
    probabilities: Vec<f64>,
    bins: Vec<[u8; classification_model::schema::N_FIELDS]>,
}

/// The report's HTML, from the CSV file `data` the artifact was trained on
/// (read as it streams, and its SHA-256 checked).
pub fn render(artifact: &Artifact, data: &Path) -> Result<String> {
    let file = std::fs::File::open(data).with_context(|| data.display().to_string())?;
    let (dataset, sha) = read_dataset_hashed(std::io::BufReader::new(file))
        .map_err(anyhow::Error::from)
        .with_context(|| data.display().to_string())?;
    if sha != artifact.training_data().sha256 {
        return Err(anyhow!(
            "the data's SHA-256 is {sha}, not the {} the model was trained on: pass --data",
            artifact.training_data().sha256
        ));
    }
    let config = artifact.config();
    let (train_rows, test_rows) =
        train_test_split(dataset.passengers().len(), config.test_size, config.seed);
    let model = Model::from_artifact(artifact.clone()).map_err(anyhow::Error::from)?;
    // the rows as read and checked, scored and binned once, then split
    let batch = dataset.batch();
    let probabilities: Vec<f64> = model
        .score(batch, &Default::default())
        .iter()
        .map(|p| p.probability)
        .collect();
    let bins = model.drift_bins(batch);
    let set = |name, rows: &[usize]| Set {
        name,
        labels: rows.iter().map(|&i| dataset.survived[i]).collect(),
        probabilities: rows.iter().map(|&i| probabilities[i]).collect(),
        bins: rows.iter().map(|&i| bins[i]).collect(),
    };
    let sets = [set("train", &train_rows), set("test", &test_rows)];
    let sets: Vec<&Set> = sets.iter().filter(|s| !s.labels.is_empty()).collect();

    let mut html = String::new();
    let title = format!("{} {}", artifact.model_name(), artifact.model_version());
    let _ = write!(
        html,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title>\n\
         <style>body{{font-family:sans-serif;max-width:1200px;margin:2em auto;padding:0 1em}}\
         table{{border-collapse:collapse;margin:1em 0}}td,th{{border:1px solid #ccc;padding:.25em .6em;text-align:right}}\
         th{{background:#f4f4f4}}figure{{display:inline-block;margin:.5em}}svg{{max-width:100%;height:auto}}</style>\n\
         </head><body>\n<h1>{title}</h1>\n"
    );
    let td = &artifact.training_data();
    let _ = write!(
        html,
        "<h2>Data and configuration</h2>\n<p>Training data SHA-256 <code>{}</code>: {} rows, {} to fit, {} held out{}.</p>\n\
         <pre>{}</pre>\n",
        td.sha256,
        td.rows,
        td.train_rows,
        td.test_rows,
        match td.unlabelled_rows {
            0 => String::new(),
            n => format!("; {n} rows without a label left out"),
        },
        escape(&serde_json::to_string_pretty(config).unwrap_or_default())
    );
    html.push_str(&metrics_table(artifact));
    html.push_str("<h2>Curves</h2>\n");
    for svg in [
        roc(&sets)?,
        precision_recall(&sets)?,
        calibration(&sets)?,
        coefficients(artifact)?,
    ] {
        let _ = writeln!(html, "<figure>{svg}</figure>");
    }
    html.push_str(&confusion(&sets));
    html.push_str("<h2>Each feature, train and test</h2>\n<p>Shares of rows per drift bin (the bins monitoring uses).</p>\n");
    for (f, feature) in artifact.drift().features().iter().enumerate() {
        let _ = writeln!(
            html,
            "<figure>{}</figure>",
            distribution(feature, f, &sets)?
        );
    }
    if let Some(tuning) = tuning_of(artifact) {
        html.push_str(&tuning_section(&tuning)?);
    }
    html.push_str("</body></html>\n");
    Ok(html)
}

fn metrics_table(artifact: &Artifact) -> String {
    let m = artifact.metrics();
    let mut out = String::from(
        "<h2>Metrics</h2>\n<table><tr><th>rows</th><th>n</th><th>ROC-AUC</th><th>accuracy</th><th>log-loss</th><th>Brier</th></tr>\n",
    );
    let mut row = |name: &str, s: &Scores| {
        let _ = writeln!(
            out,
            "<tr><th>{name}</th><td>{}</td><td>{:.4}</td><td>{:.4}</td><td>{:.4}</td><td>{:.4}</td></tr>",
            s.rows, s.roc_auc, s.accuracy, s.log_loss, s.brier
        );
    };
    row("train", &m.train);
    if let Some(t) = &m.test {
        row("test", t);
    }
    if let Some(cv) = &m.cross_validation {
        let _ = writeln!(
            out,
            "<tr><th>{}-fold CV on train</th><td></td><td>{:.4} ± {:.4}</td><td>{:.4} ± {:.4}</td><td>{:.4} ± {:.4}</td><td>{:.4} ± {:.4}</td></tr>",
            cv.folds,
            cv.roc_auc.mean,
            cv.roc_auc.sd,
            cv.accuracy.mean,
            cv.accuracy.sd,
            cv.log_loss.mean,
            cv.log_loss.sd,
            cv.brier.mean,
            cv.brier.sd
        );
    }
    out.push_str("</table>\n");
    out
}

/// Draws into an SVG string.
fn svg(
    draw: impl FnOnce(&DrawingArea<SVGBackend<'_>, plotters::coord::Shift>) -> Result<()>,
) -> Result<String> {
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(plot)?;
        draw(&root)?;
        root.present().map_err(plot)?;
    }
    Ok(out)
}

fn plot(e: impl std::fmt::Display) -> anyhow::Error {
    anyhow!("plotting: {e}")
}

fn color(set: &Set) -> RGBColor {
    if set.name == "train" { TRAIN } else { TEST }
}

/// Points of a curve through `(x, y)` per distinct threshold, highest first.
fn sweep(set: &Set, point: impl Fn(f64, f64, f64, f64) -> Option<(f64, f64)>) -> Vec<(f64, f64)> {
    let mut order: Vec<usize> = (0..set.labels.len()).collect();
    order.sort_by(|&a, &b| set.probabilities[b].total_cmp(&set.probabilities[a]));
    let positives = set.labels.iter().filter(|&&y| y == 1).count() as f64;
    let negatives = set.labels.len() as f64 - positives;
    let (mut tp, mut fp) = (0.0, 0.0);
    let mut points = Vec::new();
    for (k, &i) in order.iter().enumerate() {
        if set.labels[i] == 1 {
            tp += 1.0;
        } else {
            fp += 1.0;
        }
        let last_of_tie = order
            .get(k + 1)
            .is_none_or(|&j| set.probabilities[j] != set.probabilities[i]);
        if last_of_tie && let Some(p) = point(tp, fp, positives, negatives) {
            points.push(p);
        }
    }
    points
}

type Chart<'a, 'b> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// A chart over `[0, 1]` on both axes, with the diagonal if asked for.
fn unit_square<'a, 'b>(
    root: &'a DrawingArea<SVGBackend<'b>, plotters::coord::Shift>,
    caption: &str,
    (x, y): (&str, &str),
    diagonal: bool,
) -> Result<Chart<'a, 'b>> {
    let mut chart = ChartBuilder::on(root)
        .caption(caption, ("sans-serif", 18))
        .margin(10)
        .x_label_area_size(35)
        .y_label_area_size(45)
        .build_cartesian_2d(0f64..1f64, 0f64..1f64)
        .map_err(plot)?;
    chart
        .configure_mesh()
        .x_desc(x)
        .y_desc(y)
        .draw()
        .map_err(plot)?;
    if diagonal {
        chart
            .draw_series(LineSeries::new([(0.0, 0.0), (1.0, 1.0)], &BLACK.mix(0.3)))
            .map_err(plot)?;
    }
    Ok(chart)
}

/// A line in `color`, with its entry in the legend.
fn line<'a, 'b: 'a>(
    chart: &mut Chart<'a, 'b>,
    points: impl IntoIterator<Item = (f64, f64)>,
    color: RGBColor,
    label: impl Into<String>,
) -> Result<()> {
    chart
        .draw_series(LineSeries::new(points, &color))
        .map_err(plot)?
        .label(label)
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
    Ok(())
}

/// The legend, boxed, at `position`.
fn legend<'a, 'b: 'a>(chart: &mut Chart<'a, 'b>, position: SeriesLabelPosition) -> Result<()> {
    chart
        .configure_series_labels()
        .position(position)
        .border_style(BLACK)
        .background_style(WHITE)
        .draw()
        .map_err(plot)
}

fn roc(sets: &[&Set]) -> Result<String> {
    svg(|root| {
        let axes = ("false positive rate", "true positive rate");
        let mut chart = unit_square(root, "ROC curve", axes, true)?;
        for set in sets {
            let mut points = vec![(0.0, 0.0)];
            points.extend(sweep(set, |tp, fp, p, n| Some((fp / n, tp / p))));
            let auc = classification_model::metrics::roc_auc(&set.labels, &set.probabilities);
            line(
                &mut chart,
                points,
                color(set),
                format!("{} (AUC {auc:.4})", set.name),
            )?;
        }
        legend(&mut chart, SeriesLabelPosition::LowerRight)
    })
}

fn precision_recall(sets: &[&Set]) -> Result<String> {
    svg(|root| {
        let mut chart = unit_square(root, "Precision and recall", ("recall", "precision"), false)?;
        for set in sets {
            let points = sweep(set, |tp, fp, p, _| Some((tp / p, tp / (tp + fp))));
            line(&mut chart, points, color(set), set.name)?;
        }
        legend(&mut chart, SeriesLabelPosition::LowerLeft)
    })
}

fn calibration(sets: &[&Set]) -> Result<String> {
    svg(|root| {
        let briers: Vec<String> = sets
            .iter()
            .map(|s| {
                let b = Scores::compute(&s.labels, &s.probabilities).brier;
                format!("{} {b:.4}", s.name)
            })
            .collect();
        let caption = format!("Calibration (Brier: {})", briers.join(", "));
        let axes = ("mean predicted probability (10 bins)", "share survived");
        let mut chart = unit_square(root, &caption, axes, true)?;
        for set in sets {
            let mut sums = [(0.0f64, 0.0f64, 0u32); 10];
            for (&y, &p) in set.labels.iter().zip(&set.probabilities) {
                let b = ((p * 10.0) as usize).min(9);
                sums[b].0 += p;
                sums[b].1 += f64::from(y);
                sums[b].2 += 1;
            }
            let points: Vec<(f64, f64)> = sums
                .iter()
                .filter(|s| s.2 > 0)
                .map(|s| (s.0 / f64::from(s.2), s.1 / f64::from(s.2)))
                .collect();
            let c = color(set);
            line(&mut chart, points.clone(), c, set.name)?;
            chart
                .draw_series(points.into_iter().map(|p| Circle::new(p, 3, c.filled())))
                .map_err(plot)?;
        }
        legend(&mut chart, SeriesLabelPosition::UpperLeft)
    })
}

/// The coefficients on the standardised columns, grouped by the feature
/// each column comes from.
fn coefficients(artifact: &Artifact) -> Result<String> {
    let columns = artifact.summary().columns;
    let n = columns.len();
    let max = columns
        .iter()
        .map(|c| c.coefficient.abs())
        .fold(0.0f64, f64::max)
        .max(1e-9)
        * 1.1;
    let features = classification_model::schema::features();
    // a derived column (explained under several features) gets a hue of its own
    let group = |c: &classification_model::artifact::ColumnSummary| match c.features.as_slice() {
        [one] => features.iter().position(|f| f == one).unwrap_or(0),
        _ => features.len(),
    };
    svg(|root| {
        let mut chart = ChartBuilder::on(root)
            .caption("Coefficients (standardised columns)", ("sans-serif", 20))
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(110)
            .build_cartesian_2d(-max..max, -0.5f64..n as f64 - 0.5)
            .map_err(plot)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(n)
            .y_label_formatter(&|y| {
                label_at(*y, n).map_or_else(String::new, |i| columns[n - 1 - i].column.clone())
            })
            .x_desc("coefficient")
            .draw()
            .map_err(plot)?;
        chart
            .draw_series(columns.iter().enumerate().map(|(i, c)| {
                let y = (n - 1 - i) as f64;
                let hue = group(c) as f64 / (features.len() + 1) as f64;
                Rectangle::new(
                    [(0.0, y - 0.35), (c.coefficient, y + 0.35)],
                    HSLColor(hue, 0.6, 0.5).filled(),
                )
            }))
            .map_err(plot)?;
        Ok(())
    })
}

/// Confusion matrices on the test rows (or the training rows when none
/// were held out) at 0.5 and at the threshold that maximises F1 on the
/// training rows.
fn confusion(sets: &[&Set]) -> String {
    let train = sets[0];
    let evaluated = sets.last().copied().unwrap_or(train);
    // every distinct training probability as the threshold `P >= t`, in
    // ascending order, the first best kept: one sorted sweep, each row
    // leaving the positives once (n log n, not n per threshold)
    let mut best = (0.5, -1.0);
    let mut rows: Vec<(f64, u8)> = train
        .probabilities
        .iter()
        .copied()
        .zip(train.labels.iter().copied())
        .collect();
    rows.sort_by(|a, b| a.0.total_cmp(&b.0));
    let positives = rows.iter().filter(|(_, y)| *y == 1).count() as u32;
    // the rows at or above the threshold: at the lowest, all of them
    let (mut tp, mut fp) = (positives, rows.len() as u32 - positives);
    let mut i = 0;
    while i < rows.len() {
        let t = rows[i].0;
        let missed = positives - tp;
        let f1 = 2.0 * tp as f64 / (2.0 * tp as f64 + fp as f64 + missed as f64);
        if f1 > best.1 {
            best = (t, f1);
        }
        while i < rows.len() && rows[i].0 == t {
            if rows[i].1 == 1 {
                tp -= 1;
            } else {
                fp -= 1;
            }
            i += 1;
        }
    }
    let mut out = format!(
        "<h2>Confusion matrices ({} rows)</h2>\n<p>The threshold that maximises F1 on the training rows is {:.4} (F1 {:.4} there).</p>\n",
        evaluated.name, best.0, best.1
    );
    for (name, m) in [
        ("P &gt; 0.5 (served)", matrix(evaluated, |p| p > 0.5)),
        (
            &*format!("P &ge; {:.4}", best.0),
            matrix(evaluated, |p| p >= best.0),
        ),
    ] {
        let _ = writeln!(
            out,
            "<table><caption>{name}</caption><tr><th></th><th>predicted 0</th><th>predicted 1</th></tr>\
             <tr><th>survived 0</th><td>{}</td><td>{}</td></tr><tr><th>survived 1</th><td>{}</td><td>{}</td></tr></table>",
            m[0][0], m[0][1], m[1][0], m[1][1]
        );
    }
    out
}

/// `m[label][predicted]`.
fn matrix(set: &Set, positive: impl Fn(f64) -> bool) -> [[u32; 2]; 2] {
    let mut m = [[0u32; 2]; 2];
    for (&y, &p) in set.labels.iter().zip(&set.probabilities) {
        m[usize::from(y == 1)][usize::from(positive(p))] += 1;
    }
    m
}

fn distribution(
    feature: &classification_model::drift::FeatureBins,
    index: usize,
    sets: &[&Set],
) -> Result<String> {
    let n = feature.bins.len();
    let shares: Vec<Vec<f64>> = sets
        .iter()
        .map(|s| {
            let mut counts = vec![0.0; n];
            for bins in &s.bins {
                if let Some(c) = counts.get_mut(usize::from(bins[index])) {
                    *c += 1.0;
                }
            }
            let total = s.bins.len().max(1) as f64;
            counts.iter().map(|c| c / total).collect()
        })
        .collect();
    let top = shares.iter().flatten().fold(0.0f64, |m, v| m.max(*v)) * 1.15 + 1e-9;
    svg(|root| {
        let mut chart = ChartBuilder::on(root)
            .caption(&feature.feature, ("sans-serif", 20))
            .margin(10)
            .x_label_area_size(35)
            .y_label_area_size(45)
            .build_cartesian_2d(-0.5f64..n as f64 - 0.5, 0f64..top)
            .map_err(plot)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(n)
            .x_label_formatter(&|x| {
                label_at(*x, n).map_or_else(String::new, |i| feature.bins[i].clone())
            })
            .y_desc("share of rows")
            .draw()
            .map_err(plot)?;
        let width = 0.8 / sets.len() as f64;
        for (k, (set, shares)) in sets.iter().zip(&shares).enumerate() {
            let c = color(set);
            chart
                .draw_series(shares.iter().enumerate().map(|(i, &v)| {
                    let x = i as f64 - 0.4 + k as f64 * width;
                    Rectangle::new([(x, 0.0), (x + width, v)], c.filled())
                }))
                .map_err(plot)?
                .label(set.name)
                .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 10, y + 5)], c.filled()));
        }
        legend(&mut chart, SeriesLabelPosition::UpperRight)
    })
}

/// The committed search, if it chose this artifact's configuration.
fn tuning_of(artifact: &Artifact) -> Option<Tuning> {
    let text = std::fs::read_to_string(crate::tune::tuned_path()).ok()?;
    let tuning: Tuning = serde_json::from_str(&text).ok()?;
    (tuning.config == *artifact.config()).then_some(tuning)
}

fn tuning_section(tuning: &Tuning) -> Result<String> {
    let svg = svg(|root| {
        let (lo, hi) = tuning
            .candidates
            .iter()
            .map(|c| {
                (
                    c.cross_validation.roc_auc.mean - c.cross_validation.roc_auc.sd,
                    c.cross_validation.roc_auc.mean + c.cross_validation.roc_auc.sd,
                )
            })
            .fold((1.0f64, 0.0f64), |(a, b), (l, h)| (a.min(l), b.max(h)));
        let mut chart = ChartBuilder::on(root)
            .caption("Cross-validated ROC-AUC (mean ± sd)", ("sans-serif", 20))
            .margin(10)
            .x_label_area_size(35)
            .y_label_area_size(55)
            .build_cartesian_2d(-4.2f64..2.2f64, (lo - 0.005)..(hi + 0.005))
            .map_err(plot)?;
        chart
            .configure_mesh()
            .x_desc("log10 C")
            .y_desc("ROC-AUC")
            .draw()
            .map_err(plot)?;
        for (weight, c, shift) in [
            (ClassWeight::None, TRAIN, -0.03),
            (ClassWeight::Balanced, TEST, 0.03),
        ] {
            let points: Vec<(f64, f64, f64)> = tuning
                .candidates
                .iter()
                .filter(|k| k.class_weight == weight)
                .map(|k| {
                    (
                        k.c.log10() + shift,
                        k.cross_validation.roc_auc.mean,
                        k.cross_validation.roc_auc.sd,
                    )
                })
                .collect();
            let label = match weight {
                ClassWeight::None => "class weight: none",
                ClassWeight::Balanced => "class weight: balanced",
            };
            line(&mut chart, points.iter().map(|p| (p.0, p.1)), c, label)?;
            chart
                .draw_series(
                    points
                        .iter()
                        .map(|p| PathElement::new(vec![(p.0, p.1 - p.2), (p.0, p.1 + p.2)], c)),
                )
                .map_err(plot)?;
        }
        legend(&mut chart, SeriesLabelPosition::LowerRight)
    })?;
    let mut out = format!(
        "<h2>Tuning</h2>\n<p>Chosen by mean cross-validated ROC-AUC on the {} training rows; the held-out rows were not used.</p>\n<figure>{svg}</figure>\n",
        tuning.rows
    );
    out.push_str(&tuning_table(tuning));
    Ok(out)
}

/// The tuning table (the cells `tune` prints) as HTML.
fn tuning_table(tuning: &Tuning) -> String {
    let (header, rows) = crate::tune::cells(tuning);
    let mut out = String::from("<table>\n<tr>");
    for name in header {
        let _ = write!(out, "<th>{}</th>", escape(name));
    }
    out.push_str("</tr>\n");
    for (row, chosen) in rows {
        out.push_str("<tr>");
        for cell in row {
            let _ = write!(out, "<td>{}</td>", escape(&cell));
        }
        let _ = write!(
            out,
            "<td>{}</td>",
            if chosen { "<b>chosen</b>" } else { "" }
        );
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n");
    out
}

/// The category an axis tick at `v` names, if it sits on one of `0..n`.
fn label_at(v: f64, n: usize) -> Option<usize> {
    let i = v.round();
    ((v - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < n).then_some(i as usize)
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn committed() -> Artifact {
        Model::embedded().unwrap().artifact().clone()
    }

    fn data() -> PathBuf {
        model_dir().join("datasets/titanic.csv")
    }

    #[test]
    fn the_report_is_deterministic_and_shows_the_artifacts_numbers() {
        let (artifact, data) = (committed(), data());
        let html = render(&artifact, &data).unwrap();
        assert_eq!(html, render(&artifact, &data).unwrap());
        let m = artifact.metrics();
        let test = m.test.unwrap();
        for number in [
            format!("{:.4}", test.roc_auc),
            format!("{:.4}", test.accuracy),
            format!("{:.4}", test.brier),
            format!("{:.4}", m.train.log_loss),
            artifact.training_data().sha256.clone(),
        ] {
            assert!(html.contains(&number), "{number} not in the report");
        }
        // the curves, the coefficients, one figure per feature, the tuning curve
        assert_eq!(html.matches("<svg").count(), 4 + 9 + 1);
        assert!(html.contains("<b>chosen</b>"));
    }

    #[test]
    fn other_data_than_the_models_is_refused() {
        let other = std::env::temp_dir().join(format!("report-other-{}.csv", std::process::id()));
        std::fs::write(&other, "pclass,survived,sex,sibsp,parch\n1,1,male,0,0\n").unwrap();
        let e = render(&committed(), &other).unwrap_err();
        let _ = std::fs::remove_file(&other);
        assert!(e.to_string().contains("SHA-256"), "{e}");
    }
}
