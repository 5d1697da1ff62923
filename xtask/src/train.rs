//! `cargo xtask train`: retrain and write (or check) the artifact.

use anyhow::{Context as _, anyhow};
use std::path::{Path, PathBuf};

use classification_model::{
    artifact::{TrainingConfig, artifact_file_name},
    train::train_from,
};

use crate::{Result, current_version, model_dir};

/// `cargo xtask train --check` (what `check-release` runs).
pub fn check_embedded() -> Result<()> {
    run(Args {
        preset: Preset::Tuned,
        data: None,
        test_size: None,
        seed: None,
        out: None,
        version: None,
        check: true,
    })
}

/// Which preset to train.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Preset {
    /// The course's reference model.
    Course,
    /// The tuned preset (classification_model/presets/tuned.json), which the
    /// embedded model uses.
    Tuned,
}

/// `cargo xtask train`'s flags.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The configuration to train.
    #[arg(long, value_enum, default_value_t = Preset::Tuned)]
    pub preset: Preset,
    /// The training data (default: the committed dataset).
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// The held-out share (default: the preset's, 0.2); 0 fits on all rows in file order.
    #[arg(long)]
    pub test_size: Option<f64>,
    /// The split's seed (default: the preset's, 0).
    #[arg(long)]
    pub seed: Option<u32>,
    /// Write into DIR (a MODELS_DIR) beside the versions already there,
    /// atomically, with the report beside the artifact.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// With --out: label the artifact with this model version.
    #[arg(long, requires = "out")]
    pub version: Option<semver::Version>,
    /// Retrain in memory and fail if the committed artifact (or report) differs.
    #[arg(long)]
    pub check: bool,
}

pub fn run(args: Args) -> Result<()> {
    let data = args
        .data
        .unwrap_or_else(|| model_dir().join("datasets/titanic.csv"));
    // the embedded directory holds only the current version's artifact;
    // another directory (a MODELS_DIR) keeps the versions it has
    let (out, only) = match args.out {
        Some(dir) => (dir, false),
        None => (model_dir().join("trained_models"), true),
    };
    let mut config = crate::tune::preset(match args.preset {
        Preset::Course => "course",
        Preset::Tuned => EMBEDDED_PRESET,
    })?;
    if let Some(t) = args.test_size {
        config.test_size = t;
    }
    if let Some(s) = args.seed {
        config.seed = s;
    }
    let version = match args.version {
        Some(v) => v,
        None => current_version()?,
    };
    let target = Target {
        dir: &out,
        only,
        check: args.check,
    };
    train_to(&data, target, &config, &version)
}

/// Where an artifact goes.
struct Target<'a> {
    dir: &'a Path,
    /// Remove the other artifacts there (the embedded directory).
    only: bool,
    /// Compare with the file there instead of writing it.
    check: bool,
}

/// The preset the embedded model is trained with (and `train` without
/// `--preset`): the tuned one, which beat the course's on the held-out rows
/// (CHANGELOG, 0.2.0).
pub const EMBEDDED_PRESET: &str = "tuned";

/// Retrains the embedded model for `version` and writes the artifact.
pub fn retrain(version: &semver::Version) -> Result<()> {
    train_to(
        &model_dir().join("datasets/titanic.csv"),
        Target {
            dir: &model_dir().join("trained_models"),
            only: true,
            check: false,
        },
        &crate::tune::preset(EMBEDDED_PRESET)?,
        version,
    )
}

fn train_to(
    data: &Path,
    target: Target<'_>,
    config: &TrainingConfig,
    version: &semver::Version,
) -> Result<()> {
    let out = target.dir;
    // read as it streams: a large file is never held whole beside its rows
    let file = std::fs::File::open(data).with_context(|| data.display().to_string())?;
    let spinner = crate::tune::spinner(format!(
        "reading, fitting and cross-validating on {}",
        data.display()
    ));
    let artifact = train_from(std::io::BufReader::new(file), config, version)
        .map_err(anyhow::Error::from)
        .with_context(|| data.display().to_string());
    spinner.finish_and_clear();
    let artifact = artifact?;
    let m = artifact.metrics();
    let td = artifact.training_data();
    println!(
        "trained model {version} on {} of {} rows of {}{}",
        td.train_rows,
        td.rows,
        data.display(),
        match td.unlabelled_rows {
            0 => String::new(),
            n => format!(" ({n} rows without a label left out)"),
        }
    );
    println!(
        "train roc-auc: {:.4}  accuracy: {:.4}",
        m.train.roc_auc, m.train.accuracy
    );
    if let Some(t) = &m.test {
        println!(
            "test  roc-auc: {:.4}  accuracy: {:.4}",
            t.roc_auc, t.accuracy
        );
    }
    let json = artifact.to_json().map_err(anyhow::Error::from)?;
    let file = out.join(artifact_file_name(&version.to_string()));
    if target.check {
        check(out, &file, &json)?;
        // the embedded version's report is committed too
        let html = crate::report::render(&artifact, data)?;
        let path = crate::report::path(&crate::root().join("reports"), &artifact);
        if std::fs::read_to_string(&path).ok().as_deref() != Some(html.as_str()) {
            return Err(anyhow!(
                "{} is stale or missing: run `cargo xtask train` and commit it",
                path.display()
            ));
        }
        let stale = crate::report::others(&crate::root().join("reports"), &artifact)?;
        if let Some(old) = stale.first() {
            return Err(anyhow!(
                "{} is another version's report: reports/ holds the embedded version's only; run `cargo xtask train`",
                old.display()
            ));
        }
        println!("{} is up to date", path.display());
        return Ok(());
    }
    std::fs::create_dir_all(out).with_context(|| out.display().to_string())?;
    if target.only {
        for old in artifacts_in(out)? {
            if old != file {
                std::fs::remove_file(&old).with_context(|| old.display().to_string())?;
                println!("removed {}", old.display());
            }
        }
    }
    install(out, &version.to_string(), &json)?;
    println!("wrote {}", file.display());
    // the embedded version's report is committed under reports/; another
    // version's goes beside its artifact
    let reports = if target.only {
        crate::root().join("reports")
    } else {
        out.to_path_buf()
    };
    let report = crate::report::write(&artifact, data, &reports)?;
    println!("wrote {}", report.display());
    if target.only {
        // as with the artifacts: the embedded version's, and no other
        for old in crate::report::others(&reports, &artifact)? {
            std::fs::remove_file(&old).with_context(|| old.display().to_string())?;
            println!("removed {}", old.display());
        }
    }
    Ok(())
}

/// Writes `json` as `version`'s artifact in `dir`: beside, then renamed
/// into place, so that a server watching the directory never reads half a
/// file.
pub fn install(dir: &Path, version: &str, json: &str) -> Result<PathBuf> {
    let file = dir.join(artifact_file_name(version));
    let partial = dir.join(format!(".{}.partial", artifact_file_name(version)));
    std::fs::write(&partial, json).with_context(|| partial.display().to_string())?;
    std::fs::rename(&partial, &file).with_context(|| file.display().to_string())?;
    Ok(file)
}

/// Fails unless `target` holds exactly `json` and is the only artifact in `dir`.
fn check(dir: &Path, target: &Path, json: &str) -> Result<()> {
    let committed = std::fs::read_to_string(target).with_context(|| {
        format!(
            "no artifact to check at {}; run `cargo xtask train`",
            target.display()
        )
    })?;
    if committed != json {
        return Err(anyhow!(
            "{} is stale: retraining gives a different artifact (data, config or code changed); \
             run `cargo xtask train` and commit the result",
            target.display()
        ));
    }
    let others: Vec<_> = artifacts_in(dir)?
        .into_iter()
        .filter(|p| p != target)
        .collect();
    if !others.is_empty() {
        return Err(anyhow!(
            "other artifacts beside the current one: {others:?}; run `cargo xtask train`"
        ));
    }
    println!("{} is up to date", target.display());
    Ok(())
}

/// The artifact files in a directory.
pub fn artifacts_in(dir: &Path) -> Result<Vec<PathBuf>> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(Vec::new());
    };
    let mut found = Vec::new();
    for entry in entries {
        let path = entry.with_context(|| dir.display().to_string())?.path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if name.starts_with("titanic_classification_model_output_v") && name.ends_with(".json") {
            found.push(path);
        }
    }
    found.sort();
    Ok(found)
}
