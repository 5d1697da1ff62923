//! Project automation: `cargo xtask <command>` (see `cargo xtask help`).

mod loadtest;
mod modules;
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

const HELP: &str = "\
cargo xtask <command>

Commands:
  train [--preset course|tuned] [--data FILE] [--test-size F] [--seed N] [--out DIR [--version X.Y.Z]] [--check]
      Retrain the model for the current VERSION and write its artifact
      (default: the tuned preset, which the embedded model uses, the
      committed dataset, 0.2, 0, classification_model/trained_models, where
      it replaces any other version's). --preset course gives the course's
      reference model. --test-size 0 fits on all rows in
      file order. --out DIR writes into DIR (a MODELS_DIR) beside the versions
      already there, atomically; --version labels it with another model version.
      Also writes the version's report (see `report`): under reports/ for
      the embedded version (replacing any other version's), beside the
      artifact with --out.
      --check retrains in memory and fails if the committed artifact differs.
  report ARTIFACT [--data CSV] [--out DIR]
      Draw the training report of any artifact (HTML, figures as inline SVG
      drawn with plotters) from the data it was trained on (its SHA-256 is
      checked; default: the committed dataset) into DIR (default: reports/).
  tune [--check]
      5-fold stratified cross-validation (seed 0) on the course split's 1047
      training rows of every C in 1e-4..1e2 (13 values) with and without
      balanced class weights, for each set of derived features that forward
      selection tries; print the table and write the best mean ROC-AUC
      as the tuned preset (classification_model/presets/tuned.json). --check
      fails if the committed preset differs.
  bump <major|minor|patch|X.Y.Z>
      Set a greater model version in VERSION, the model crate's Cargo.toml, the
      API's dependency on it and Cargo.lock; start its CHANGELOG section; retrain.
  check-release <TAG>
      Fail unless TAG is v<VERSION>, the versions agree, the artifact for VERSION
      is the only one and is fresh, and the model crate packages.
  loadtest [--duration SECS] [--connections N] [--threads N] [--history sqlite|postgres [--rows N] | --v2 | --reload]
      Build the API and a bare warp handler (the framework's floor) in release
      mode, start them on 127.0.0.1, drive the bare handler, then GET /health and
      POST /predict (1 and 100 records), then the bare handler again, with wrk for
      SECS each (default 10, 32 connections, 2 threads); report requests/s, the
      ratio to the bare handler's mean, p50/p99, errors, cold start and peak RSS,
      then stop the server with SIGTERM. Needs wrk. With --history: one-record
      /predict with history off, on (SQLite in target/loadtest, or the
      TEST_DATABASE_URL PostgreSQL in a `loadtest` schema) and off again, then
      fill the store to N rows (default 1,000,000) and time /monitoring and
      /history pages. Needs curl too (and psql for postgres). With --v2: the
      Open Inference Protocol's infer against /predict, one record and the
      1309 dataset rows (JSON records; V2 JSON; V2 binary tensors). With
      --reload: one-record /predict without reloads, with a reload every
      250 ms (MODELS_DIR's default version replaced; POST /admin/reload),
      and without again; then the time from renaming a new artifact into
      MODELS_DIR to its first 200, for 10 new versions.
  soak [--duration SECS] [--clients N]
      Build the API in release mode and drive it with N keep-alive clients
      (default 8) of mixed valid and invalid traffic for SECS (default 60), then
      send SIGTERM under load. Fails on any 5xx, unexpected status, broken
      connection, request lost at shutdown, RSS growth of 5 MB or more, or an
      exit code other than 0.
  replay --db URL --model FILE
      Score a prediction history's logged inputs (sqlite://FILE or
      postgres://...) with the artifact FILE (e.g. from `train --out DIR`): agreement rate, mean and max |Δp|, and both models'
      accuracy, ROC-AUC, log-loss and Brier on the rows with feedback.
  modules
      Print each crate's module graph (who imports whom through crate::) and
      fail if two modules import each other, directly or around a cycle.
  help
      This text.
";

type Result<T> = std::result::Result<T, String>;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("train") => train::run(&args[1..]),
        Some("tune") => tune::run(&args[1..]),
        Some("report") => report::run(&args[1..]),
        Some("loadtest") => loadtest::run(&args[1..]),
        Some("soak") => soak::run(&args[1..]),
        Some("replay") => replay::run(&args[1..]),
        Some("modules") => modules::run(&args[1..]),
        Some("bump") => release::bump(&args[1..]),
        Some("check-release") => release::check_release(&args[1..]),
        Some("help" | "--help" | "-h") | None => {
            print!("{HELP}");
            Ok(())
        }
        Some(other) => Err(format!("unknown command {other:?}\n\n{HELP}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
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

/// The model crate's directory.
fn model_dir() -> PathBuf {
    root().join("classification_model")
}

/// Reads `VERSION` as it is on disk now (it may be newer than the build).
fn current_version() -> Result<semver::Version> {
    let path = model_dir().join("VERSION");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    semver::Version::parse(text.trim())
        .map_err(|e| format!("{}: {:?} is not semver: {e}", path.display(), text.trim()))
}

/// Parsed `--flag value` options and bare flags.
struct Options {
    pairs: Vec<(String, String)>,
    flags: Vec<String>,
    positional: Vec<String>,
}

impl Options {
    fn parse(args: &[String], with_value: &[&str], bare: &[&str]) -> Result<Self> {
        let mut o = Options {
            pairs: Vec::new(),
            flags: Vec::new(),
            positional: Vec::new(),
        };
        let mut it = args.iter();
        while let Some(a) = it.next() {
            if with_value.contains(&a.as_str()) {
                let v = it.next().ok_or_else(|| format!("{a} needs a value"))?;
                o.pairs.push((a.clone(), v.clone()));
            } else if bare.contains(&a.as_str()) {
                o.flags.push(a.clone());
            } else if a.starts_with("--") {
                return Err(format!("unknown option {a}"));
            } else {
                o.positional.push(a.clone());
            }
        }
        Ok(o)
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A whole-number option, or `default` when it is absent.
    fn number(&self, name: &str, default: u64) -> Result<u64> {
        self.get(name).map_or(Ok(default), |v| {
            v.parse()
                .map_err(|_| format!("{name}: {v:?} is not a whole number"))
        })
    }

    fn flag(&self, name: &str) -> bool {
        self.flags.iter().any(|f| f == name)
    }
}
