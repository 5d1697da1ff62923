//! `cargo xtask tune`: cross-validate the grid on the training rows, print
//! the table and write the chosen configuration as the `tuned` preset.

use anyhow::{Context as _, anyhow};
use classification_model::{
    artifact::{ClassWeight, TrainingConfig},
    train::{TuneProgress, Tuning, tune_observed},
};

use crate::{Result, model_dir};

/// Where the `tuned` preset lives.
pub fn tuned_path() -> std::path::PathBuf {
    model_dir().join("presets/tuned.json")
}

/// A preset's training configuration: `course` (the reference model) or
/// `tuned` (what `cargo xtask tune` chose).
pub fn preset(name: &str) -> Result<TrainingConfig> {
    match name {
        "course" => Ok(TrainingConfig::default()),
        "tuned" => {
            let path = tuned_path();
            let text = std::fs::read_to_string(&path)
                .map_err(|e| anyhow!("{}: {e}; run `cargo xtask tune`", path.display()))?;
            let tuning: Tuning = serde_json::from_str(&text)
                .map_err(|e| anyhow!("{}: {e}; run `cargo xtask tune`", path.display()))?;
            Ok(tuning.config)
        }
        other => Err(anyhow!("--preset {other:?}: expected course or tuned")),
    }
}

/// `cargo xtask tune`'s flags.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Fail if the committed preset differs from what tuning chooses.
    #[arg(long)]
    pub check: bool,
}

pub fn run(args: Args) -> Result<()> {
    let data = std::fs::read(model_dir().join("datasets/titanic.csv"))
        .map_err(|e| anyhow!("the dataset: {e}"))?;
    let bar = progress_bar();
    let tuning = tune_observed(&data, &TrainingConfig::default(), |p: TuneProgress| {
        bar.set_length(p.most as u64);
        bar.set_position(p.done as u64);
        bar.set_message(format!("best ROC-AUC {:.4}", p.best_roc_auc));
    })
    .map_err(anyhow::Error::from)?;
    bar.finish_and_clear();
    print!("{}", table(&tuning));
    let mut json = serde_json::to_string_pretty(&tuning).map_err(anyhow::Error::from)?;
    json.push('\n');
    let path = tuned_path();
    if args.check {
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        return if committed == json {
            println!("{} is up to date", path.display());
            Ok(())
        } else {
            Err(anyhow!(
                "{} is stale: tuning gives another result; run `cargo xtask tune`",
                path.display()
            ))
        };
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| dir.display().to_string())?;
    }
    std::fs::write(&path, json).with_context(|| path.display().to_string())?;
    println!("wrote {}", path.display());
    Ok(())
}

/// A bar of candidates done (of the most there can be), the best score so
/// far and the time left, on standard error; hidden when standard output is
/// no terminal (CI, a pipe), where the table alone is printed.
fn progress_bar() -> indicatif::ProgressBar {
    use std::io::IsTerminal as _;
    if !std::io::stdout().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(0);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{bar:30} {pos}/{len} candidates, {msg}, about {eta} left (forward selection may stop sooner)",
    ) {
        bar.set_style(style);
    }
    bar
}

/// A spinner with `message` and the time taken, for a step that cannot
/// count its progress; hidden as [`progress_bar`] is.
pub fn spinner(message: String) -> indicatif::ProgressBar {
    use std::io::IsTerminal as _;
    if !std::io::stdout().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new_spinner();
    if let Ok(style) = indicatif::ProgressStyle::with_template("{spinner} {msg} ({elapsed})") {
        bar.set_style(style);
    }
    bar.set_message(message);
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar
}

/// The search as a Markdown table, the chosen row marked.
pub fn table(tuning: &Tuning) -> String {
    let cv = &tuning.candidates[tuning.chosen].cross_validation;
    let (header, rows) = cells(tuning);
    let mut out = format!(
        "{}-fold stratified cross-validation on the {} training rows (seed {}); \
         chosen by mean ROC-AUC\n\n| {} |\n|{}\n",
        cv.folds,
        tuning.rows,
        tuning.config.seed,
        header.join(" | "),
        "---|".repeat(header.len())
    );
    for (row, chosen) in rows {
        out.push_str(&format!(
            "| {} | {} |\n",
            row.join(" | "),
            if chosen { "**chosen**" } else { "" }
        ));
    }
    out
}

/// The tuning table's column names and, per candidate, its cells and
/// whether it was chosen (the last, unnamed column): what the printed
/// table and the report's both show.
pub fn cells(tuning: &Tuning) -> ([&'static str; 8], Vec<(Vec<String>, bool)>) {
    let header = [
        "derived features",
        "C",
        "class weight",
        "ROC-AUC",
        "accuracy",
        "log-loss",
        "Brier",
        "",
    ];
    let rows = tuning
        .candidates
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let v = &c.cross_validation;
            let spread =
                |m: &classification_model::metrics::MeanSd| format!("{:.4} ± {:.4}", m.mean, m.sd);
            let row = vec![
                c.derived.describe(),
                c.c.to_string(),
                match c.class_weight {
                    ClassWeight::None => "none",
                    ClassWeight::Balanced => "balanced",
                }
                .to_owned(),
                spread(&v.roc_auc),
                spread(&v.accuracy),
                spread(&v.log_loss),
                spread(&v.brier),
            ];
            (row, i == tuning.chosen)
        })
        .collect();
    (header, rows)
}
