//! Project automation: `cargo xtask <command>` (`cargo xtask --help` lists
//! the commands, `cargo xtask <command> --help` their flags).

use anyhow::{Context as _, anyhow};
mod codegen;
mod grpc_load;
mod image;
mod loadtest;
mod modules;
mod otlp_sink;
mod release;
mod reload_load;
mod replay;
mod report;
mod service;
mod soak;
mod train;
mod tune;
mod v2_bodies;
mod wrk;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;

/// Project automation for the classification_model workspace.
#[derive(Debug, Parser)]
#[command(name = "cargo xtask", bin_name = "cargo xtask", version, about)]
enum Command {
    /// Retrain the model for the current VERSION and write its artifact and
    /// report (default: the tuned preset, which the embedded model uses, into
    /// classification_model/trained_models, replacing any other version's).
    Train(train::Args),
    /// Draw the training report of any artifact (HTML, figures as inline SVG)
    /// from the data it was trained on (its SHA-256 is checked).
    Report(report::Args),
    /// Cross-validate every C and class weighting for each set of derived
    /// features forward selection tries; write the best as the tuned preset.
    Tune(tune::Args),
    /// Set a greater model version in VERSION, the crates' manifests and
    /// Cargo.lock; start its CHANGELOG section; retrain.
    Bump {
        /// major, minor, patch, or a version X.Y.Z.
        what: String,
    },
    /// Fail unless TAG is `v<VERSION>`, the versions agree, the artifact for
    /// VERSION is the only one and is fresh, and the model crate packages.
    CheckRelease {
        /// The tag, for example v0.3.0.
        tag: String,
    },
    /// Build the service's OCI image from scratch with podman:
    /// `localhost/classification-api:<VERSION>` and `:latest`.
    Image(image::Args),
    /// Load-test the release build on 127.0.0.1 with wrk, against a bare
    /// warp handler in the same run (ratios, p50/p99, cold start, peak RSS).
    Loadtest(loadtest::Args),
    /// Drive the release build with mixed valid and invalid traffic, then
    /// SIGTERM under load; fail on any 5xx, lost request or RSS growth.
    Soak(soak::Args),
    /// Score a prediction history's logged inputs with another artifact:
    /// agreement, |Δp|, and both models' metrics on the rows with feedback.
    Replay(replay::Args),
    /// Generate the gRPC code from the Open Inference Protocol's `.proto`
    /// (`--check`: fail if the committed code is stale).
    Codegen(codegen::Args),
    /// The gRPC load generator of `loadtest --grpc` (run from the release
    /// build).
    #[command(hide = true)]
    GrpcLoad(grpc_load::LoadArgs),
    /// The OTLP receiver of `loadtest --traces` (run from the release build).
    #[command(hide = true)]
    OtlpSink(otlp_sink::SinkArgs),
    /// Print each crate's module graph and fail on a cycle or on a lower
    /// layer of the API naming an upper one.
    Modules,
}

type Result<T> = anyhow::Result<T>;

fn main() -> ExitCode {
    // `cargo xtask X` runs `xtask X`: clap sees the subcommand first
    let result = match Command::parse() {
        Command::Train(args) => train::run(args),
        Command::Report(args) => report::run(args),
        Command::Tune(args) => tune::run(args),
        Command::Bump { what } => release::bump(&what),
        Command::CheckRelease { tag } => release::check_release(&tag),
        Command::Image(args) => image::run(args),
        Command::Loadtest(args) => loadtest::run(args),
        Command::Soak(args) => soak::run(args),
        Command::Replay(args) => replay::run(args),
        Command::Modules => modules::run(),
        Command::Codegen(args) => codegen::run(args),
        Command::GrpcLoad(args) => grpc_load::load(args),
        Command::OtlpSink(args) => otlp_sink::sink(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Cargo's target directory, as `cargo metadata` gives it (so that
/// `CARGO_TARGET_DIR` and `build.target-dir` are honoured); `<root>/target`
/// if cargo cannot say.
fn target_dir() -> PathBuf {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        std::process::Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
            .args([
                "metadata",
                "--format-version",
                "1",
                "--no-deps",
                "--offline",
            ])
            .current_dir(root())
            .stderr(std::process::Stdio::inherit())
            .output()
            .ok()
            .filter(|o| o.status.success())
            .and_then(|o| serde_json::from_slice::<serde_json::Value>(&o.stdout).ok())
            .and_then(|m| m["target_directory"].as_str().map(PathBuf::from))
            .unwrap_or_else(|| root().join("target"))
    })
    .clone()
}

/// The model crate's directory.
fn model_dir() -> PathBuf {
    root().join("classification_model")
}

/// Reads `VERSION` as it is on disk now (it may be newer than the build).
fn current_version() -> Result<semver::Version> {
    let path = model_dir().join("VERSION");
    let text = std::fs::read_to_string(&path).with_context(|| path.display().to_string())?;
    semver::Version::parse(text.trim())
        .map_err(|e| anyhow!("{}: {:?} is not semver: {e}", path.display(), text.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Where cargo puts builds, as cargo says: `CARGO_TARGET_DIR` when the
    /// tests run with it, else `<root>/target`.
    #[test]
    fn the_target_directory_is_the_one_cargo_uses() {
        let expected = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .map(|dir| {
                if dir.is_absolute() {
                    dir
                } else {
                    root().join(dir)
                }
            })
            .unwrap_or_else(|| root().join("target"));
        assert_eq!(target_dir(), expected);
        // and the test binary itself is in it
        let exe = std::env::current_exe().unwrap();
        assert!(exe.starts_with(target_dir()), "{}", exe.display());
    }
}
