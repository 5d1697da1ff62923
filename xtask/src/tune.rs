//! `cargo xtask tune`: cross-validate the grid on the training rows, print
//! the table and write the chosen configuration as the `tuned` preset.

use classification_model::{
    artifact::{ClassWeight, TrainingConfig},
    train::{Tuning, tune},
};

use crate::{Options, Result, model_dir};

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
                .map_err(|e| format!("{}: {e}; run `cargo xtask tune`", path.display()))?;
            let tuning: Tuning = serde_json::from_str(&text)
                .map_err(|e| format!("{}: {e}; run `cargo xtask tune`", path.display()))?;
            Ok(tuning.config)
        }
        other => Err(format!("--preset {other:?}: expected course or tuned")),
    }
}

pub fn run(args: &[String]) -> Result<()> {
    let o = Options::parse(args, &[], &["--check"])?;
    if let Some(p) = o.positional.first() {
        return Err(format!("unexpected argument {p:?}"));
    }
    let data = std::fs::read(model_dir().join("datasets/titanic.csv"))
        .map_err(|e| format!("the dataset: {e}"))?;
    let tuning = tune(&data, &TrainingConfig::default()).map_err(|e| e.to_string())?;
    print!("{}", table(&tuning));
    let mut json = serde_json::to_string_pretty(&tuning).map_err(|e| e.to_string())?;
    json.push('\n');
    let path = tuned_path();
    if o.flag("--check") {
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        return if committed == json {
            println!("{} is up to date", path.display());
            Ok(())
        } else {
            Err(format!(
                "{} is stale: tuning gives another result; run `cargo xtask tune`",
                path.display()
            ))
        };
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    std::fs::write(&path, json).map_err(|e| format!("{}: {e}", path.display()))?;
    println!("wrote {}", path.display());
    Ok(())
}

/// The search as a Markdown table, the chosen row marked.
pub fn table(tuning: &Tuning) -> String {
    let cv = &tuning.candidates[tuning.chosen].cross_validation;
    let mut out = format!(
        "{}-fold stratified cross-validation on the {} training rows (seed {}); \
         chosen by mean ROC-AUC\n\n\
         | derived features | C | class weight | ROC-AUC | accuracy | log-loss | Brier | |\n|---|---|---|---|---|---|---|---|\n",
        cv.folds, tuning.rows, tuning.config.seed
    );
    for (i, c) in tuning.candidates.iter().enumerate() {
        let v = &c.cross_validation;
        out.push_str(&format!(
            "| {} | {} | {} | {:.4} ± {:.4} | {:.4} ± {:.4} | {:.4} ± {:.4} | {:.4} ± {:.4} | {} |\n",
            c.derived.describe(),
            c.c,
            match c.class_weight {
                ClassWeight::None => "none",
                ClassWeight::Balanced => "balanced",
            },
            v.roc_auc.mean,
            v.roc_auc.sd,
            v.accuracy.mean,
            v.accuracy.sd,
            v.log_loss.mean,
            v.log_loss.sd,
            v.brier.mean,
            v.brier.sd,
            if i == tuning.chosen { "**chosen**" } else { "" }
        ));
    }
    out
}
