//! `cargo xtask loadtest`: the API in release mode on 127.0.0.1 under `wrk`.

use anyhow::{Context as _, anyhow};
use std::process::Command;

use crate::service::{Server, build_bare_warp, build_release};
use crate::wrk::WrkArgs;
use crate::wrk::{PASSENGER, Wrk};
use crate::{Result, root, target_dir, v2_bodies};

/// The history backend a load test stores into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Backend {
    /// A SQLite file in target/loadtest.
    Sqlite,
    /// The TEST_DATABASE_URL PostgreSQL, in a `loadtest` schema.
    Postgres,
}

/// `cargo xtask loadtest`'s flags.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub wrk: WrkArgs,
    /// One-record /predict with history off, on and off again, then fill the
    /// store to --rows rows and time /monitoring and /history pages.
    #[arg(long, value_enum, conflicts_with_all = ["v2", "reload"])]
    pub history: Option<Backend>,
    /// Rows the history is filled to (with --history).
    #[arg(long, default_value_t = 1_000_000, requires = "history")]
    pub rows: u64,
    /// The Open Inference Protocol's infer against /predict: one record and
    /// the 1309 dataset rows (JSON records, V2 JSON, V2 binary tensors).
    #[arg(long, conflicts_with = "reload")]
    pub v2: bool,
    /// gRPC ModelInfer (a tonic client) against REST V2 infer with JSON
    /// and binary tensors: one row and the 1309 dataset rows.
    #[arg(long, conflicts_with_all = ["reload", "v2", "history"])]
    pub grpc: bool,
    /// One-record /predict with traces off, on (every request sampled,
    /// exported over OTLP/gRPC to a local receiver) and off again.
    #[arg(long, conflicts_with_all = ["reload", "v2", "history", "grpc"])]
    pub traces: bool,
    /// One-record /predict without reloads, with a reload every 250 ms, and
    /// without again; then the time from a new artifact to its first 200.
    #[arg(long)]
    pub reload: bool,
    /// The cargo profile to build and measure: `deploy` (fat LTO, as Railway
    /// and images build) or `release` (the README's quick build).
    #[arg(long, default_value = "deploy", value_parser = ["deploy", "release"])]
    pub profile: String,
}

pub fn run(o: Args) -> Result<()> {
    crate::service::use_profile(if o.profile == "release" {
        "release"
    } else {
        "deploy"
    });
    if let Some(backend) = o.history {
        return history(&o, backend);
    }
    if o.v2 {
        return v2(&o);
    }
    if o.grpc {
        return grpc(&o);
    }
    if o.traces {
        let wrk = Wrk::new(&o.wrk, target_dir().join("loadtest"))?;
        std::fs::create_dir_all(&wrk.dir).with_context(|| wrk.dir.display().to_string())?;
        let report = crate::otlp_sink::compare(&wrk)?;
        println!("{report}");
        let path = wrk.dir.join("traces.md");
        std::fs::write(&path, &report).with_context(|| path.display().to_string())?;
        println!("(written to {})", path.display());
        return Ok(());
    }
    if o.reload {
        return crate::reload_load::run(&o.wrk);
    }
    if Command::new("wrk").arg("--version").output().is_err() {
        return Err(anyhow!(
            "wrk is not installed: `apt-get install wrk` (Debian/Ubuntu) or `brew install wrk`"
        ));
    }
    build_release()?;
    let bare = build_bare_warp()?;
    let dir = target_dir().join("loadtest");
    std::fs::create_dir_all(&dir).with_context(|| dir.display().to_string())?;
    let wrk = Wrk::new(&o.wrk, dir.clone())?;

    // the floor (a bare warp handler) before and after the service, so that
    // the machine's drift shows and the ratios use their mean
    let mut floor = Vec::new();
    let mut report = String::from(
        "| scenario | requests/s | ratio to the bare handler | p50 | p99 | errors |\n|---|---|---|---|---|---|\n",
    );
    let mut rows = Vec::new();
    floor.push(wrk.measure_bare(&bare)?);
    let server = Server::start(&dir)?;
    let cold_start = server.cold_start;
    let url = format!("http://{}", server.addr);
    for (name, path, records) in [
        ("GET /health", "/health", None),
        ("POST /predict, 1 record", "/predict", Some(1)),
        ("POST /predict, 100 records", "/predict", Some(100)),
    ] {
        rows.push((name, wrk.run(&url, path, records)?));
    }
    let (_, peak_rss_kib) = server.rss_kib()?;
    let exit = server.stop()?;
    floor.push(wrk.measure_bare(&bare)?);
    let base = (floor[0].requests_per_sec + floor[1].requests_per_sec) / 2.0;
    for (i, r) in floor.iter().enumerate() {
        let name = ["bare warp, before", "bare warp, after"][i];
        report.push_str(&r.row(name, base));
    }
    for (name, r) in &rows {
        report.push_str(&r.row(name, base));
    }
    report.push_str(&format!(
        "\nthe bare handler's mean: {base:.0} requests/s; `/health` at {:.2}x, one-record `/predict` at {:.2}x\n\
         cold start (exec to first 200 from /health): {:.1} ms; peak RSS of the server: {:.1} MB\n\
         server exit on SIGTERM: {exit}\n",
        rows[0].1.requests_per_sec / base,
        rows[1].1.requests_per_sec / base,
        cold_start.as_secs_f64() * 1000.0,
        peak_rss_kib as f64 / 1024.0
    ));
    if !exit.success() {
        return Err(anyhow!("the server did not exit cleanly: {exit}\n{report}"));
    }
    println!("{report}");
    let path = dir.join("report.md");
    std::fs::write(&path, &report).with_context(|| path.display().to_string())?;
    println!("(written to {})", path.display());
    Ok(())
}

/// `--history sqlite|postgres`: one-record `/predict` with history off and
/// on in the same run, then `/monitoring` and `/history` pages over
/// `--rows` stored rows (default 1,000,000).
fn history(o: &Args, kind: Backend) -> Result<()> {
    let backend = match kind {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    let wrk = Wrk::new(&o.wrk, target_dir().join("loadtest"))?;
    let rows = o.rows;
    std::fs::create_dir_all(&wrk.dir).with_context(|| wrk.dir.display().to_string())?;
    let store: Vec<(String, String)> = match kind {
        Backend::Sqlite => {
            let path = wrk.dir.join("history.sqlite3");
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
            }
            vec![("HISTORY_PATH".into(), path.display().to_string())]
        }
        Backend::Postgres => {
            let base = std::env::var("TEST_DATABASE_URL")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
            let status = Command::new("psql")
                .args([
                    &base,
                    "-qc",
                    "DROP SCHEMA IF EXISTS loadtest CASCADE; CREATE SCHEMA loadtest",
                ])
                .status()
                .map_err(|e| anyhow!("psql: {e}"))?;
            if !status.success() {
                return Err(anyhow!("cannot reset the loadtest schema in {base}"));
            }
            let sep = if base.contains('?') { '&' } else { '?' };
            vec![(
                "DATABASE_URL".into(),
                format!("{base}{sep}options=-c%20search_path%3Dloadtest"),
            )]
        }
    };
    build_release()?;
    let env: Vec<(&str, &str)> = store
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let mut report = format!(
        "history on {backend}: one-record POST /predict, wrk -t{} -c{} -d{}s\n\n| scenario | requests/s | ratio to history off | p50 | p99 | errors |\n|---|---|---|---|---|---|\n",
        wrk.threads, wrk.connections, wrk.duration
    );
    let mut results = Vec::new();
    for (name, env) in [
        ("history off", vec![("HISTORY", "off")]),
        ("history on", env.clone()),
        ("history off, again", vec![("HISTORY", "off")]),
    ] {
        let server = Server::start_with(&wrk.dir, "server", &env)?;
        let r = wrk.run(&format!("http://{}", server.addr), "/predict", Some(1))?;
        server.stop()?;
        results.push((name, r));
    }
    let base = (results[0].1.requests_per_sec + results[2].1.requests_per_sec) / 2.0;
    for (name, r) in &results {
        report.push_str(&r.row(name, base));
    }
    // fill up to `rows`, then time the reads
    let server = Server::start_with(&wrk.dir, "server", &env)?;
    let url = format!("http://{}", server.addr);
    let batch = wrk.dir.join("batch_1000.json");
    let body = format!(r#"{{"inputs": [{}]}}"#, vec![PASSENGER; 1000].join(", "));
    std::fs::write(&batch, body).map_err(anyhow::Error::from)?;
    let stored = |url: &str| -> Result<u64> {
        let out = curl(&[&format!("{url}/monitoring")])?;
        let v: serde_json::Value =
            serde_json::from_str(&out.0).map_err(|e| anyhow!("/monitoring: {e}: {}", out.0))?;
        Ok(v["count"].as_u64().unwrap_or(0))
    };
    let mut count = stored(&url)?;
    let at_start = count;
    let fill = std::time::Instant::now();
    while count < rows {
        let n = ((rows - count) / 1000).clamp(1, 50);
        let mut args = vec![
            "--parallel".to_owned(),
            "--parallel-max".to_owned(),
            "8".to_owned(),
        ];
        for i in 0..n {
            // without --next, curl would join every --data-binary into one body
            if i > 0 {
                args.push("--next".into());
            }
            args.extend([
                "--fail".into(),
                "-o".into(),
                "/dev/null".into(),
                "-H".into(),
                "content-type: application/json".into(),
                "--data-binary".into(),
                format!("@{}", batch.display()),
                format!("{url}/predict"),
            ]);
        }
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        curl(&refs)?;
        let before = count;
        count = stored(&url)?;
        if count <= before {
            return Err(anyhow!(
                "filling the history stopped at {count} rows: see {}",
                wrk.dir.join("server.log").display()
            ));
        }
    }
    let filled = match count - at_start {
        // the store held --rows already (an earlier run's)
        0 => "none added: the store held that many already".to_owned(),
        added => format!(
            "{added} added in {:.0} s, {:.0} rows/s in batches of 1,000",
            fill.elapsed().as_secs_f64(),
            added as f64 / fill.elapsed().as_secs_f64()
        ),
    };
    report.push_str(&format!(
        "\n{count} rows stored ({filled})\n\n| read over {count} rows | best of 5 | worst of 5 |\n|---|---|---|\n",
    ));
    let page: serde_json::Value =
        serde_json::from_str(&curl(&[&format!("{url}/history?limit=1")])?.0)
            .map_err(anyhow::Error::from)?;
    let newest = page["items"][0]["time"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let deep_page = format!("{url}/history?limit=100&until={newest}");
    let mut middle = String::new();
    // a cursor halfway down: the time of the row at half the count, found by paging 1,000 at a time
    {
        let mut cursor = String::new();
        let mut seen = 0;
        while seen < count / 2 {
            let v: serde_json::Value =
                serde_json::from_str(&curl(&[&format!("{url}/history?limit=1000{cursor}")])?.0)
                    .map_err(anyhow::Error::from)?;
            seen += v["items"].as_array().map_or(0, Vec::len) as u64;
            match v["next_cursor"].as_str() {
                Some(c) => cursor = format!("&cursor={c}"),
                None => break,
            }
            middle = cursor.clone();
        }
    }
    for (name, target) in [
        (
            "GET /monitoring (everything)".to_owned(),
            format!("{url}/monitoring"),
        ),
        (
            "GET /history, first page of 100".to_owned(),
            format!("{url}/history"),
        ),
        (
            "GET /history, 100 rows halfway down (cursor)".to_owned(),
            format!("{url}/history?limit=100{middle}"),
        ),
        (
            "GET /history?until=, 100 rows".to_owned(),
            deep_page.clone(),
        ),
        (
            "GET /history?prediction=1, 100 rows halfway down".to_owned(),
            format!("{url}/history?limit=100&prediction=1{middle}"),
        ),
    ] {
        let times: Vec<f64> = (0..5)
            .map(|_| {
                curl(&["-o", "/dev/null", "-w", "%{time_total}", &target])
                    .map(|o| o.0.trim().parse::<f64>().unwrap_or(f64::NAN))
            })
            .collect::<Result<_>>()?;
        let best = times.iter().copied().fold(f64::INFINITY, f64::min);
        let worst = times.iter().copied().fold(0.0, f64::max);
        report.push_str(&format!(
            "| {name} | {:.1} ms | {:.1} ms |\n",
            best * 1000.0,
            worst * 1000.0
        ));
    }
    server.stop()?;
    println!("{report}");
    let path = wrk.dir.join(format!("history_{backend}.md"));
    std::fs::write(&path, &report).with_context(|| path.display().to_string())?;
    println!("(written to {})", path.display());
    Ok(())
}

/// Runs curl quietly; its output.
fn curl(args: &[&str]) -> Result<(String,)> {
    let out = Command::new("curl")
        .arg("-sS")
        .args(args)
        .output()
        .map_err(|e| anyhow!("curl: {e}"))?;
    if !out.status.success() {
        return Err(anyhow!(
            "curl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok((String::from_utf8_lossy(&out.stdout).into_owned(),))
}

/// `--v2`: the Open Inference Protocol against `/predict` on one server:
/// one record, then the 1309 dataset rows (JSON records, V2 JSON, V2 with
/// binary tensors in and out).
fn v2(o: &Args) -> Result<()> {
    let wrk = Wrk::new(&o.wrk, target_dir().join("loadtest"))?;
    std::fs::create_dir_all(&wrk.dir).with_context(|| wrk.dir.display().to_string())?;
    let data = std::fs::read(root().join("classification_model/datasets/titanic.csv"))
        .map_err(|e| anyhow!("the dataset: {e}"))?;
    let dataset = classification_model::train::read_dataset(&data).map_err(anyhow::Error::from)?;
    let all = dataset.passengers();
    let one = &all[..1];
    let infer = format!(
        "/v2/models/{}/infer",
        classification_model::artifact::MODEL_NAME
    );
    build_release()?;
    let server = Server::start(&wrk.dir)?;
    let url = format!("http://{}", server.addr);
    // each /predict before and after the V2 runs it is compared with, so
    // that the machine's drift shows and the ratios use their mean
    let p1 = v2_bodies::records("p1", one);
    let pall = v2_bodies::records("pall", all);
    let (v1, vall, ball) = (
        v2_bodies::json("v1", one),
        v2_bodies::json("vall", all),
        v2_bodies::binary("ball", all),
    );
    let scenarios = [
        ("POST /predict, 1 record (JSON)", "/predict", &p1),
        ("POST V2 infer, 1 row (JSON)", infer.as_str(), &v1),
        ("POST /predict, 1 record (JSON), again", "/predict", &p1),
        ("POST /predict, 1309 records (JSON)", "/predict", &pall),
        ("POST V2 infer, 1309 rows (JSON)", infer.as_str(), &vall),
        (
            "POST V2 infer, 1309 rows (binary tensors)",
            infer.as_str(),
            &ball,
        ),
        (
            "POST /predict, 1309 records (JSON), again",
            "/predict",
            &pall,
        ),
    ];
    let mut results = Vec::new();
    for (name, path, body) in &scenarios {
        results.push((*name, wrk.run_body(&url, path, Some(body))?));
    }
    server.stop()?;
    let mean =
        |a: usize, b: usize| (results[a].1.requests_per_sec + results[b].1.requests_per_sec) / 2.0;
    let (small, large) = (mean(0, 2), mean(3, 6));
    let mut report = format!(
        "V2 infer against /predict, wrk -t{} -c{} -d{}s, history off\n\n| scenario | requests/s | ratio to /predict of the same size (mean of its two runs) | p50 | p99 | errors |\n|---|---|---|---|---|---|\n",
        wrk.threads, wrk.connections, wrk.duration
    );
    for (i, (name, r)) in results.iter().enumerate() {
        report.push_str(&r.row(name, if i < 3 { small } else { large }));
    }
    println!("{report}");
    let path = wrk.dir.join("v2.md");
    std::fs::write(&path, &report).with_context(|| path.display().to_string())?;
    println!("(written to {})", path.display());
    Ok(())
}

/// `--grpc`: see [`crate::grpc_load`].
fn grpc(o: &Args) -> Result<()> {
    let wrk = Wrk::new(&o.wrk, target_dir().join("loadtest"))?;
    std::fs::create_dir_all(&wrk.dir).with_context(|| wrk.dir.display().to_string())?;
    let data = std::fs::read(root().join("classification_model/datasets/titanic.csv"))
        .map_err(|e| anyhow!("the dataset: {e}"))?;
    let dataset = classification_model::train::read_dataset(&data).map_err(anyhow::Error::from)?;
    build_release()?;
    let server = Server::start(&wrk.dir)?;
    let url = format!("http://{}", server.addr);
    let grpc = server
        .grpc
        .ok_or_else(|| anyhow!("the server wrote no gRPC address"))?;
    let report = crate::grpc_load::compare(&wrk, &url, grpc, dataset.passengers());
    server.stop()?;
    let report = report?;
    println!("{report}");
    let path = wrk.dir.join("grpc.md");
    std::fs::write(&path, &report).with_context(|| path.display().to_string())?;
    println!("(written to {})", path.display());
    Ok(())
}
