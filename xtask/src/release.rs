//! `cargo xtask bump` and `cargo xtask check-release`.

use anyhow::{Context as _, anyhow};
use std::path::Path;
use std::process::Command;

use semver::{Version, VersionReq};
use toml_edit::{DocumentMut, value};

use crate::train::{artifacts_in, retrain};
use crate::{Result, current_version, model_dir, root};

/// `bump <major|minor|patch|X.Y.Z>`: a new model version everywhere, retrained.
pub fn bump(what: &str) -> Result<()> {
    let old = current_version()?;
    let new = next_version(&old, what)?;
    let model_toml = model_dir().join("Cargo.toml");
    let api_toml = root().join("classification_api/Cargo.toml");

    edit_toml(&model_toml, |doc| {
        doc["package"]["version"] = value(new.to_string());
        Ok(())
    })?;
    edit_toml(&api_toml, |doc| {
        let dep = doc
            .get_mut("dependencies")
            .and_then(|d| d.get_mut("classification_model"))
            .context("classification_api has no dependency on classification_model")?;
        dep["version"] = value(new.to_string());
        // the dev-dependency (with more features) names the same crate
        if let Some(dev) = doc
            .get_mut("dev-dependencies")
            .and_then(|d| d.get_mut("classification_model"))
        {
            dev["version"] = value(new.to_string());
        }
        Ok(())
    })?;
    // the Python wheel's version is its crate's (pyproject.toml: dynamic)
    edit_toml(&root().join("python/Cargo.toml"), |doc| {
        doc["package"]["version"] = value(new.to_string());
        Ok(())
    })?;
    write(&model_dir().join("VERSION"), &format!("{new}\n"))?;
    update_changelog(&new)?;
    // refresh the workspace's own entries in Cargo.lock (no other crate changes)
    let status = Command::new(env!("CARGO"))
        .args(["update", "--workspace", "--offline"])
        .current_dir(root())
        .status()
        .map_err(|e| anyhow!("cargo update: {e}"))?;
    if !status.success() {
        return Err(anyhow!("`cargo update --workspace --offline` failed"));
    }
    retrain(&new)?;
    println!("bumped {old} -> {new}; review, commit, then tag v{new}");
    Ok(())
}

/// The version after `old` for `what`, which must be greater.
pub fn next_version(old: &Version, what: &str) -> Result<Version> {
    let new = match what {
        "major" => Version::new(old.major + 1, 0, 0),
        "minor" => Version::new(old.major, old.minor + 1, 0),
        "patch" => Version::new(old.major, old.minor, old.patch + 1),
        v => Version::parse(v.strip_prefix('v').unwrap_or(v))
            .map_err(|e| anyhow!("{v:?} is not major, minor, patch or a semver version: {e}"))?,
    };
    if new <= *old {
        return Err(anyhow!(
            "refusing to go from {old} to {new}: a new version must be greater"
        ));
    }
    Ok(new)
}

fn edit_toml(path: &Path, f: impl FnOnce(&mut DocumentMut) -> Result<()>) -> Result<()> {
    let text = std::fs::read_to_string(path).with_context(|| path.display().to_string())?;
    let mut doc: DocumentMut = text.parse().with_context(|| path.display().to_string())?;
    f(&mut doc)?;
    write(path, &doc.to_string())
}

fn write(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).with_context(|| path.display().to_string())
}

/// Starts a `## [X.Y.Z]` section under `## [Unreleased]`, if there is one.
fn update_changelog(new: &Version) -> Result<()> {
    let path = root().join("CHANGELOG.md");
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(());
    };
    let marker = "## [Unreleased]";
    if let Some(i) = text.find(marker) {
        let heading = format!("{marker}\n\n## [{new}]");
        let updated = format!("{}{}{}", &text[..i], heading, &text[i + marker.len()..]);
        write(&path, &updated)?;
    }
    Ok(())
}

/// `check-release <TAG>`: fails unless the tree is ready to publish `TAG`.
pub fn check_release(tag: &str) -> Result<()> {
    let version = current_version()?;
    let mut problems = Vec::new();

    if tag.strip_prefix('v') != Some(version.to_string().as_str()) {
        problems.push(format!(
            "tag {tag:?} does not match VERSION {version}: the tag must be v{version} \
             (bump with `cargo xtask bump`, or tag the right commit)"
        ));
    }
    let model_toml = read_toml(&model_dir().join("Cargo.toml"))?;
    let crate_version = model_toml["package"]["version"]
        .as_str()
        .unwrap_or_default();
    if crate_version != version.to_string() {
        problems.push(format!(
            "classification_model/Cargo.toml has version {crate_version:?} but VERSION is {version}: \
             use `cargo xtask bump` to change both"
        ));
    }
    let api_toml = read_toml(&root().join("classification_api/Cargo.toml"))?;
    let requirement = api_toml
        .get("dependencies")
        .and_then(|d| d.get("classification_model"))
        .and_then(|d| d.get("version"))
        .and_then(|v| v.as_str())
        .unwrap_or_default();
    match VersionReq::parse(requirement) {
        Ok(req) if req.matches(&version) => {}
        _ => problems.push(format!(
            "classification_api requires classification_model {requirement:?}, which {version} does not satisfy"
        )),
    }
    problems.extend(python_version_problem(&version.to_string())?);
    let artifacts = artifacts_in(&model_dir().join("trained_models"))?;
    let expected = model_dir().join("trained_models").join(
        classification_model::artifact::artifact_file_name(&version.to_string()),
    );
    if artifacts != [expected.clone()] {
        problems.push(format!(
            "trained_models must hold exactly {} (found {:?}): run `cargo xtask train`",
            expected.display(),
            artifacts
                .iter()
                .filter_map(|p| p.file_name())
                .collect::<Vec<_>>()
        ));
    } else if let Err(e) = crate::train::check_embedded() {
        problems.push(format!("{e:#}"));
    }
    if problems.is_empty() {
        let status = Command::new(env!("CARGO"))
            // --allow-dirty: the check runs right after `bump`, before the commit;
            // in CI the checkout is clean anyway
            .args([
                "package",
                "-p",
                "classification_model",
                "--locked",
                "--allow-dirty",
            ])
            .current_dir(root())
            .status()
            .map_err(|e| anyhow!("cargo package: {e}"))?;
        if !status.success() {
            problems
                .push("`cargo package -p classification_model --locked` failed (see above)".into());
        }
    }
    if problems.is_empty() {
        println!("ready to release {tag}");
        Ok(())
    } else {
        Err(anyhow!(
            "not ready to release {tag}:\n  - {}",
            problems.join("\n  - ")
        ))
    }
}

/// Why the Python wheel would not carry `version`, if it would not: its
/// version is `python/Cargo.toml`'s, which pyproject.toml must not override.
fn python_version_problem(version: &str) -> Result<Option<String>> {
    let cargo = read_toml(&root().join("python/Cargo.toml"))?;
    let wheel = cargo["package"]["version"].as_str().unwrap_or_default();
    if wheel != version {
        return Ok(Some(format!(
            "python/Cargo.toml (the wheel classification-model-rs) has version {wheel:?} but \
             VERSION is {version}: use `cargo xtask bump` to change both"
        )));
    }
    let pyproject = read_toml(&root().join("python/pyproject.toml"))?;
    let project = &pyproject["project"];
    let dynamic = project
        .get("dynamic")
        .and_then(|d| d.as_array())
        .is_some_and(|d| d.iter().any(|v| v.as_str() == Some("version")));
    if project.get("version").is_some() || !dynamic {
        return Ok(Some(
            "python/pyproject.toml must leave the version to Cargo.toml: \
             `dynamic = [\"version\"]` and no `version`"
                .into(),
        ));
    }
    Ok(None)
}

fn read_toml(path: &Path) -> Result<DocumentMut> {
    let text = std::fs::read_to_string(path).with_context(|| path.display().to_string())?;
    text.parse().with_context(|| path.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_only_go_up() {
        let v = Version::new(0, 1, 2);
        assert_eq!(next_version(&v, "patch").unwrap(), Version::new(0, 1, 3));
        assert_eq!(next_version(&v, "minor").unwrap(), Version::new(0, 2, 0));
        assert_eq!(next_version(&v, "major").unwrap(), Version::new(1, 0, 0));
        assert_eq!(next_version(&v, "v0.3.0").unwrap(), Version::new(0, 3, 0));
        assert!(next_version(&v, "0.1.2").is_err());
        assert!(next_version(&v, "0.1.1").is_err());
        assert!(next_version(&v, "bogus").is_err());
    }
}
