//! `cargo xtask loadtest --reload`: one-record `/predict` under `wrk` with
//! and without model reloads in the same run, then how soon a new artifact
//! copied into `MODELS_DIR` is served.

use anyhow::{Context as _, anyhow};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use classification_model::{artifact::TrainingConfig, train::train};

use crate::service::{Server, build_release, status};
use crate::train::install;
use crate::wrk::Wrk;
use crate::wrk::WrkArgs;
use crate::{Result, root, target_dir};

/// Time between two reloads while `wrk` runs.
const EVERY: Duration = Duration::from_millis(250);

/// New versions timed from copy to first answer.
const ARRIVALS: u64 = 10;

pub fn run(o: &WrkArgs) -> Result<()> {
    let wrk = Wrk::new(o, target_dir().join("loadtest"))?;
    let models = wrk.dir.join("models");
    let _ = std::fs::remove_dir_all(&models);
    std::fs::create_dir_all(&models).with_context(|| models.display().to_string())?;
    let data = std::fs::read(root().join("classification_model/datasets/titanic.csv"))
        .map_err(|e| anyhow!("the dataset: {e}"))?;
    let artifact = |version: &str, seed: u32| -> Result<String> {
        let config = TrainingConfig {
            seed,
            ..Default::default()
        };
        let version = semver::Version::parse(version).map_err(anyhow::Error::from)?;
        train(&data, &config, &version)
            .map_err(anyhow::Error::from)?
            .to_json()
            .map_err(anyhow::Error::from)
    };
    let contents = [artifact("0.2.0", 1)?, artifact("0.2.0", 2)?];
    install(&models, "0.2.0", &contents[0])?;
    build_release()?;
    let dir = models.display().to_string();
    let server = Server::start_with(
        &wrk.dir,
        "reload",
        &[
            ("HISTORY", "off"),
            ("MODELS_DIR", &dir),
            ("DEFAULT_MODEL_VERSION", "0.2.0"),
        ],
    )?;
    let url = format!("http://{}", server.addr);
    let addr = server.addr;

    let quiet = wrk.run(&url, "/predict", Some(1))?;
    // reloads while wrk runs: the watcher (the default version's file
    // replaced, alternately by two different artifacts) and POST /admin/reload
    let stop = Arc::new(AtomicBool::new(false));
    let reloader = {
        let (stop, models, contents) = (stop.clone(), models.clone(), contents.clone());
        std::thread::spawn(move || -> Result<u64> {
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(EVERY);
                if n.is_multiple_of(2) {
                    install(&models, "0.2.0", &contents[(n / 2 % 2) as usize])?;
                } else if status(addr, "POST", "/admin/reload", "") != Some(200) {
                    return Err(anyhow!("POST /admin/reload failed"));
                }
                n += 1;
            }
            Ok(n)
        })
    };
    let loads_before = loads(addr)?;
    let busy = wrk.run(&url, "/predict", Some(1));
    stop.store(true, Ordering::Relaxed);
    let triggered = reloader
        .join()
        .map_err(|_| anyhow!("the reloader panicked"))??;
    let busy = busy?;
    let reloads = loads(addr)? - loads_before;
    let again = wrk.run(&url, "/predict", Some(1))?;

    // from the rename into MODELS_DIR to the first 200 for that version
    let one = r#"{"inputs": [{"pclass": 1, "sex": "female", "sibsp": 0, "parch": 0}]}"#;
    let mut waits = Vec::new();
    for k in 0..ARRIVALS {
        let version = format!("0.5.{k}");
        let json = artifact(&version, k as u32 + 3)?;
        let path = format!("/predict?version={version}");
        let start = Instant::now();
        install(&models, &version, &json)?;
        while status(addr, "POST", &path, one) != Some(200) {
            if start.elapsed() > Duration::from_secs(30) {
                return Err(anyhow!("{version} was never served"));
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        waits.push(start.elapsed());
    }
    server.stop()?;
    waits.sort();

    let base = (quiet.requests_per_sec + again.requests_per_sec) / 2.0;
    let mut report = format!(
        "One-record /predict, wrk -t{} -c{} -d{}s, history off, MODELS_DIR with 0.2.0 as the default\n\n\
         | scenario | requests/s | ratio to the runs without reloads (mean) | p50 | p99 | max | errors |\n|---|---|---|---|---|---|---|\n",
        wrk.threads, wrk.connections, wrk.duration
    );
    for (name, r) in [
        ("no reloads", &quiet),
        ("a reload every 250 ms", &busy),
        ("no reloads, again", &again),
    ] {
        report.push_str(&format!(
            "| {name} | {:.0} | {:.2} | {} | {} | {} | {} |\n",
            r.requests_per_sec,
            r.requests_per_sec / base,
            r.p50,
            r.p99,
            r.max,
            r.errors
        ));
    }
    report.push_str(&format!(
        "\nreloads during the busy run: {reloads} ({triggered} triggered: file replaced or POST /admin/reload)\n\
         a new artifact renamed into MODELS_DIR, to its first 200 ({ARRIVALS} versions): median {:.0} ms, max {:.0} ms\n",
        waits[waits.len() / 2].as_secs_f64() * 1000.0,
        waits[waits.len() - 1].as_secs_f64() * 1000.0,
    ));
    println!("{report}");
    let path = wrk.dir.join("reload.md");
    std::fs::write(&path, &report).with_context(|| path.display().to_string())?;
    println!("(written to {})", path.display());
    if busy.errors > 0 {
        return Err(anyhow!("{} errors under reloads", busy.errors));
    }
    Ok(())
}

/// `model_loads_total` from `/metrics`.
fn loads(addr: std::net::SocketAddr) -> Result<u64> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).map_err(anyhow::Error::from)?;
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .map_err(anyhow::Error::from)?;
    let mut text = String::new();
    s.read_to_string(&mut text).map_err(anyhow::Error::from)?;
    text.lines()
        .find_map(|l| l.strip_prefix("model_loads_total "))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .map(|v| v as u64)
        .ok_or_else(|| anyhow!("no model_loads_total in /metrics"))
}
