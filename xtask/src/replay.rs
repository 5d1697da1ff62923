//! `cargo xtask replay --db URL --model FILE`: the logged inputs of a
//! prediction history, scored again by another artifact, and how the two
//! models compare on them.

use anyhow::{Context as _, anyhow};
use classification_model::{
    FieldValue, Model, Passenger,
    metrics::{SortedScores, roc_auc},
    schema::{FIELDS, Kind},
};
use futures_util::TryStreamExt;
use sqlx::Row;

use crate::Result;

/// Rows scored per batch.
const BATCH: usize = 1000;

/// `cargo xtask replay`'s flags.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The history: sqlite://FILE or postgres://...
    #[arg(long)]
    pub db: String,
    /// The artifact to score the logged inputs with (e.g. from `train --out DIR`).
    #[arg(long)]
    pub model: std::path::PathBuf,
}

pub fn run(args: Args) -> Result<()> {
    let db = args.db.as_str();
    let model_path = &args.model;
    let model = Model::load(model_path).with_context(|| model_path.display().to_string())?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(anyhow::Error::from)?;
    let report = runtime.block_on(replay(db, &model))?;
    println!("{report}");
    Ok(())
}

#[derive(Default)]
struct Tally {
    rows: u64,
    agree: u64,
    sum_abs: f64,
    max_abs: f64,
    // on the rows with feedback: (stored p, new p, label)
    feedback: Vec<(f64, f64, u8)>,
}

async fn replay(db: &str, model: &Model) -> Result<String> {
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(db)
        .await
        .with_context(|| db.to_string())?;
    let columns: Vec<&str> = FIELDS.iter().map(|f| f.name).collect();
    let sql = format!(
        "SELECT {}, probability, prediction, survived FROM predictions",
        columns.join(", ")
    );
    let mut rows = sqlx::query(&sql).fetch(&pool);
    let mut tally = Tally::default();
    let mut batch: Vec<(Passenger, f64, i64, Option<i64>)> = Vec::with_capacity(BATCH);
    while let Some(row) = rows.try_next().await.map_err(anyhow::Error::from)? {
        let mut values: Vec<FieldValue> = Vec::with_capacity(FIELDS.len());
        for f in &FIELDS {
            let v = match f.kind {
                Kind::Integer { .. } => row
                    .try_get::<Option<i64>, _>(f.name)
                    .map_err(anyhow::Error::from)?
                    .map(FieldValue::from),
                Kind::Number { .. } => row
                    .try_get::<Option<f64>, _>(f.name)
                    .map_err(anyhow::Error::from)?
                    .map(FieldValue::from),
                Kind::Choice(_) | Kind::Text => row
                    .try_get::<Option<String>, _>(f.name)
                    .map_err(anyhow::Error::from)?
                    .map(FieldValue::from),
            };
            values.push(v.unwrap_or(FieldValue::Missing));
        }
        let json: serde_json::Map<String, serde_json::Value> = FIELDS
            .iter()
            .zip(&values)
            .map(|(f, v)| {
                (
                    f.name.to_owned(),
                    serde_json::to_value(v).unwrap_or_default(),
                )
            })
            .collect();
        let p: Passenger = serde_json::from_value(serde_json::Value::Object(json))
            .map_err(|e| anyhow!("a stored row does not read back: {e}"))?;
        batch.push((
            p,
            row.try_get("probability").map_err(anyhow::Error::from)?,
            row.try_get("prediction").map_err(anyhow::Error::from)?,
            row.try_get("survived").map_err(anyhow::Error::from)?,
        ));
        if batch.len() == BATCH {
            score(model, &mut batch, &mut tally)?;
        }
    }
    score(model, &mut batch, &mut tally)?;
    if tally.rows == 0 {
        return Ok("no stored predictions".into());
    }
    let mut out = format!(
        "{} stored predictions replayed against model {}\n\
         agreement: {:.4} ({} of {})\n\
         |Δp|: mean {:.6}, max {:.6}\n",
        tally.rows,
        model.version(),
        tally.agree as f64 / tally.rows as f64,
        tally.agree,
        tally.rows,
        tally.sum_abs / tally.rows as f64,
        tally.max_abs,
    );
    if tally.feedback.is_empty() {
        out.push_str("no row has feedback: no metrics\n");
        return Ok(out);
    }
    let labels: Vec<u8> = tally.feedback.iter().map(|f| f.2).collect();
    for (name, pick) in [("stored", 0), ("replayed", 1)] {
        let mut p: Vec<(f64, u8)> = tally
            .feedback
            .iter()
            .map(|f| (if pick == 0 { f.0 } else { f.1 }, f.2))
            .collect();
        let auc = roc_auc(&labels, &p.iter().map(|x| x.0).collect::<Vec<_>>());
        p.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut s = SortedScores::default();
        for (q, y) in p {
            s.push(q, y);
        }
        if let Some(live) = s.finish() {
            out.push_str(&format!(
                "{name:>8} on {} rows with feedback: accuracy {:.4}, ROC-AUC {auc:.4}, log-loss {:.4}, Brier {:.4}\n",
                live.rows, live.accuracy, live.log_loss, live.brier
            ));
        }
    }
    Ok(out)
}

fn score(
    model: &Model,
    batch: &mut Vec<(Passenger, f64, i64, Option<i64>)>,
    tally: &mut Tally,
) -> Result<()> {
    if batch.is_empty() {
        return Ok(());
    }
    let passengers: Vec<Passenger> = batch.iter().map(|b| b.0.clone()).collect();
    let result = model
        .predict(&passengers)
        .map_err(|e| anyhow!("a stored row is not valid for this model: {e}"))?;
    for ((_, p_old, pred_old, survived), (p_new, pred_new)) in batch
        .iter()
        .zip(result.iter().map(|p| (p.probability, p.label)))
    {
        tally.rows += 1;
        tally.agree += u64::from(i64::from(pred_new) == *pred_old);
        let d = (p_new - p_old).abs();
        tally.sum_abs += d;
        tally.max_abs = tally.max_abs.max(d);
        if let Some(y) = survived {
            tally.feedback.push((*p_old, p_new, u8::from(*y == 1)));
        }
    }
    batch.clear();
    Ok(())
}
