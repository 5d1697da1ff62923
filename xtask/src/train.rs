//! `cargo xtask train`: retrain and write (or check) the artifact.

use std::path::{Path, PathBuf};

use classification_model::{
    artifact::{TrainingConfig, artifact_file_name},
    train::train,
};

use crate::{Options, Result, current_version, model_dir};

pub fn run(args: &[String]) -> Result<()> {
    let o = Options::parse(
        args,
        &[
            "--data",
            "--test-size",
            "--seed",
            "--out",
            "--version",
            "--preset",
        ],
        &["--check"],
    )?;
    if let Some(p) = o.positional.first() {
        return Err(format!("unexpected argument {p:?}"));
    }
    let data = o
        .get("--data")
        .map(PathBuf::from)
        .unwrap_or_else(|| model_dir().join("datasets/titanic.csv"));
    // the embedded directory holds only the current version's artifact;
    // another directory (a MODELS_DIR) keeps the versions it has
    let (out, only) = match o.get("--out") {
        Some(dir) => (PathBuf::from(dir), false),
        None => (model_dir().join("trained_models"), true),
    };
    let mut config = crate::tune::preset(o.get("--preset").unwrap_or(EMBEDDED_PRESET))?;
    if let Some(t) = o.get("--test-size") {
        config.test_size = t
            .parse()
            .map_err(|_| format!("--test-size: {t:?} is not a number"))?;
    }
    if let Some(s) = o.get("--seed") {
        config.seed = s
            .parse()
            .map_err(|_| format!("--seed: {s:?} is not an integer from 0 to 4294967295"))?;
    }
    let version = match o.get("--version") {
        Some(v) if o.get("--out").is_some() => semver::Version::parse(v)
            .map_err(|e| format!("--version: {v:?} is not a semver version: {e}"))?,
        Some(_) => {
            return Err(
                "--version needs --out DIR: the embedded artifact is always VERSION's".into(),
            );
        }
        None => current_version()?,
    };
    let target = Target {
        dir: &out,
        only,
        check: o.flag("--check"),
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
    let bytes = std::fs::read(data).map_err(|e| format!("{}: {e}", data.display()))?;
    let artifact = train(&bytes, config, version).map_err(|e| e.to_string())?;
    let m = artifact.metrics();
    println!(
        "trained model {version} on {} of {} rows of {}",
        artifact.training_data().train_rows,
        artifact.training_data().rows,
        data.display()
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
    let json = artifact.to_json().map_err(|e| e.to_string())?;
    let file = out.join(artifact_file_name(&version.to_string()));
    if target.check {
        check(out, &file, &json)?;
        // the embedded version's report is committed too
        let html = crate::report::render(&artifact, &bytes)?;
        let path = crate::report::path(&crate::root().join("reports"), &artifact);
        if std::fs::read_to_string(&path).ok().as_deref() != Some(html.as_str()) {
            return Err(format!(
                "{} is stale or missing: run `cargo xtask train` and commit it",
                path.display()
            ));
        }
        let stale = crate::report::others(&crate::root().join("reports"), &artifact)?;
        if let Some(old) = stale.first() {
            return Err(format!(
                "{} is another version's report: reports/ holds the embedded version's only; run `cargo xtask train`",
                old.display()
            ));
        }
        println!("{} is up to date", path.display());
        return Ok(());
    }
    std::fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
    if target.only {
        for old in artifacts_in(out)? {
            if old != file {
                std::fs::remove_file(&old).map_err(|e| format!("{}: {e}", old.display()))?;
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
    let report = crate::report::write(&artifact, &bytes, &reports)?;
    println!("wrote {}", report.display());
    if target.only {
        // as with the artifacts: the embedded version's, and no other
        for old in crate::report::others(&reports, &artifact)? {
            std::fs::remove_file(&old).map_err(|e| format!("{}: {e}", old.display()))?;
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
    std::fs::write(&partial, json).map_err(|e| format!("{}: {e}", partial.display()))?;
    std::fs::rename(&partial, &file).map_err(|e| format!("{}: {e}", file.display()))?;
    Ok(file)
}

/// Fails unless `target` holds exactly `json` and is the only artifact in `dir`.
fn check(dir: &Path, target: &Path, json: &str) -> Result<()> {
    let committed = std::fs::read_to_string(target).map_err(|e| {
        format!(
            "no artifact to check at {}: {e}; run `cargo xtask train`",
            target.display()
        )
    })?;
    if committed != json {
        return Err(format!(
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
        return Err(format!(
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
        let path = entry.map_err(|e| format!("{}: {e}", dir.display()))?.path();
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
