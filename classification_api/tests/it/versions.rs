//! Several model versions side by side, and hot reload, against the real
//! server binary: versions from `MODELS_DIR` chosen by `?version=` and by
//! the Open Inference Protocol's `versions/{v}` paths; reloads by the file
//! watcher, SIGHUP and `POST /admin/reload` while clients keep scoring.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use crate::common::eventually;
use crate::common::{Process, Server, artifact, install_artifact, temp_dir};
use classification_model::{Model, model_version};
use serde_json::{Value, json};

const MODEL: &str = "/v2/models/titanic_classification_model";

/// The first `n` dataset rows, with the columns the V2 bodies carry.
fn rows(n: usize) -> Vec<serde_json::Map<String, Value>> {
    crate::common::dataset_json_rows()
        .into_iter()
        .take(n)
        .map(|mut r| {
            r.retain(|k, _| COLUMNS.contains(&k.as_str()));
            r
        })
        .collect()
}

const COLUMNS: [&str; 5] = ["pclass", "sex", "age", "sibsp", "parch"];

/// The probabilities `artifact` gives [`rows`]`(n)`.
fn expected(artifact: &str, n: usize) -> Vec<f64> {
    let passengers: Vec<classification_model::Passenger> =
        serde_json::from_value(json!(rows(n))).unwrap();
    Model::from_json(artifact)
        .unwrap()
        .predict(&passengers)
        .unwrap()
        .iter()
        .map(|p| p.probability)
        .collect()
}

fn body(n: usize) -> String {
    json!({ "inputs": rows(n) }).to_string()
}

/// [`rows`]`(n)` as V2 inputs.
fn v2_body(n: usize) -> String {
    let rows = rows(n);
    let column = |name: &str, datatype: &str, f: &dyn Fn(&str) -> Value| {
        let data: Vec<Value> = rows.iter().map(|r| f(r[name].as_str().unwrap())).collect();
        json!({"name": name, "shape": [n], "datatype": datatype, "data": data})
    };
    let int = |v: &str| json!(v.parse::<i64>().unwrap());
    let text = |v: &str| json!(v);
    let age = |v: &str| v.parse::<f64>().map_or(Value::Null, |a| json!(a));
    json!({"inputs": [
        column("pclass", "INT64", &int),
        column("sex", "BYTES", &text),
        column("age", "FP64", &age),
        column("sibsp", "INT64", &int),
        column("parch", "INT64", &int),
    ]})
    .to_string()
}

#[test]
fn three_versions_are_served_side_by_side() {
    let dir = temp_dir("versions");
    let (two, three) = (artifact("9.2.0", 1), artifact("9.3.0", 2));
    install_artifact(&dir, "9.2.0", &two);
    install_artifact(&dir, "9.3.0", &three);
    let server = Server::start(&[("MODELS_DIR", dir.to_str().unwrap())]);
    let embedded = Model::embedded().unwrap().artifact().to_json().unwrap();

    // /model lists every version, with its data hash and metrics
    let info = server.get("/model").json();
    assert_eq!(info["version"], model_version());
    let versions = info["versions"].as_array().unwrap();
    let listed: Vec<_> = versions.iter().map(|v| v["version"].clone()).collect();
    assert_eq!(
        listed,
        [json!(model_version()), json!("9.2.0"), json!("9.3.0")]
    );
    assert_eq!(versions[0]["role"], "default");
    assert_eq!(versions[0]["source"], "embedded");
    assert_eq!(versions[1]["role"], "other");
    assert!(
        versions[1]["source"]
            .as_str()
            .unwrap()
            .ends_with("v9.2.0.json")
    );
    for v in versions {
        assert_eq!(v["training_data"]["sha256"].as_str().unwrap().len(), 64);
        assert!(v["metrics"]["train"]["roc_auc"].as_f64().unwrap() > 0.8);
    }
    let info = server.get("/model?version=9.3.0").json();
    assert_eq!(info["version"], "9.3.0");
    assert_eq!(info["config"]["seed"], 2);

    // each version scores as the library does with its artifact
    for (version, json) in [("", &embedded), ("9.2.0", &two), ("9.3.0", &three)] {
        let path = if version.is_empty() {
            "/predict".to_owned()
        } else {
            format!("/predict?version={version}")
        };
        let r = server.post(&path, "application/json", &body(50));
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.floats("probabilities"), expected(json, 50), "{version}");
        let served = if version.is_empty() {
            model_version()
        } else {
            version
        };
        assert_eq!(r.json()["version"], served);

        let v2 = if version.is_empty() {
            format!("{MODEL}/infer")
        } else {
            format!("{MODEL}/versions/{version}/infer")
        };
        let r = server.post(&v2, "application/json", &v2_body(50));
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.json()["model_version"], served);
        let outputs = r.json()["outputs"].clone();
        let p: Vec<f64> = serde_json::from_value(outputs[1]["data"].clone()).unwrap();
        assert_eq!(p, expected(json, 50), "V2 {version}");
        assert_eq!(
            server
                .get(&format!("{MODEL}/versions/{served}/ready"))
                .status,
            200
        );
    }
    let meta = server.get(MODEL).json();
    assert_eq!(meta["versions"], json!([model_version(), "9.2.0", "9.3.0"]));
    assert_eq!(
        meta["version_details"][2]["metrics"],
        versions[2]["metrics"]
    );

    // unknown versions: 404 naming the field and the versions served
    let r = server.post("/predict?version=9.4.0", "application/json", &body(1));
    assert_eq!(r.status, 404);
    let e = &r.json()["errors"][0];
    assert_eq!(e["field"], "version");
    assert!(
        e["message"].as_str().unwrap().contains("9.2.0, 9.3.0"),
        "{e}"
    );
    let r = server.post(
        &format!("{MODEL}/versions/9.4.0/infer"),
        "application/json",
        &v2_body(1),
    );
    assert_eq!(r.status, 404);
    assert_eq!(server.get("/model?version=latest").status, 404);

    // the history records the version that served each record, and
    // monitoring reads each version against its own training data
    let page = server.get("/history?version=9.2.0&limit=1000").json();
    assert_eq!(page["items"].as_array().unwrap().len(), 100);
    let report = server.get("/monitoring?version=9.3.0").json();
    assert_eq!(report["version"], "9.3.0");
    assert_eq!(report["count"], 100);
    assert_eq!(server.get("/monitoring?version=9.4.0").status, 400);

    let metrics = server.get("/metrics").body;
    for line in [
        format!(
            r#"model_versions_loaded{{version="{}",role="default"}} 1"#,
            model_version()
        ),
        r#"model_versions_loaded{version="9.3.0",role="other"} 1"#.to_owned(),
        "model_artifacts_refused_total 0".to_owned(),
    ] {
        assert!(metrics.contains(&line), "{line} not in {metrics}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_bad_configuration_stops_the_start_with_the_reason() {
    let dir = temp_dir("versions-config");
    install_artifact(&dir, "9.2.0", &artifact("9.2.0", 1));
    let d = dir.to_str().unwrap();
    for (env, reason) in [
        (
            vec![("MODELS_DIR", d), ("DEFAULT_MODEL_VERSION", "9.3.0")],
            "DEFAULT_MODEL_VERSION=9.3.0 is not loaded",
        ),
        (
            vec![("MODELS_DIR", d), ("SHADOW_MODEL_VERSION", model_version())],
            "a shadow must be another version",
        ),
        (vec![("DEFAULT_MODEL_VERSION", "two")], "semver"),
        (
            vec![("MODELS_DIR", "/nonexistent/models")],
            "cannot read MODELS_DIR",
        ),
    ] {
        let e = Process::try_start(&env).err().expect("refused");
        assert!(
            e.contains("exit status: 1") && e.contains(reason),
            "{env:?}: {e}"
        );
    }
    // a default from MODELS_DIR
    let server = Server::start(&[("MODELS_DIR", d), ("DEFAULT_MODEL_VERSION", "9.2.0")]);
    let r = server.predict(&body(1));
    assert_eq!(r.json()["version"], "9.2.0");
    assert_eq!(server.get("/health").json()["model_version"], "9.2.0");
    let _ = std::fs::remove_dir_all(&dir);
}

/// What one client saw.
#[derive(Default)]
struct Seen {
    answers: usize,
    failures: Vec<String>,
    /// Per response: which artifact its probabilities all came from.
    mixed: usize,
}

#[test]
fn reloads_under_load_fail_no_request_and_never_mix_versions() {
    let dir = temp_dir("reload");
    let (a, b) = (artifact("9.2.0", 1), artifact("9.2.0", 2));
    install_artifact(&dir, "9.2.0", &a);
    let server = Process::start(&[
        ("MODELS_DIR", dir.to_str().unwrap()),
        ("DEFAULT_MODEL_VERSION", "9.2.0"),
    ]);
    const N: usize = 40;
    let (pa, pb) = (expected(&a, N), expected(&b, N));
    assert_ne!(pa, pb);
    let stop = Arc::new(AtomicBool::new(false));
    let seen = Arc::new(Mutex::new(Seen::default()));
    let clients: Vec<_> = (0..4)
        .map(|i| {
            let (stop, seen, addr) = (stop.clone(), seen.clone(), server.addr);
            let (pa, pb) = (pa.clone(), pb.clone());
            let (json, v2) = (body(N), v2_body(N));
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let (path, body) = if i % 2 == 0 {
                        ("/predict", &json)
                    } else {
                        ("/v2/models/titanic_classification_model/infer", &v2)
                    };
                    let head = format!(
                        "POST {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                        body.len()
                    );
                    let r = crate::common::send(addr, &[head.as_bytes(), body.as_bytes()].concat());
                    let mut seen = seen.lock().unwrap();
                    if r.status != 200 {
                        seen.failures.push(format!("{path} {}: {}", r.status, r.body));
                        continue;
                    }
                    seen.answers += 1;
                    let p: Vec<f64> = if i % 2 == 0 {
                        r.floats("probabilities")
                    } else {
                        serde_json::from_value(r.json()["outputs"][1]["data"].clone()).unwrap()
                    };
                    if p != pa && p != pb {
                        seen.mixed += 1;
                    }
                }
            })
        })
        .collect();
    let answered = |probabilities: &[f64]| {
        let r = server.predict(&body(N));
        r.status == 200 && r.floats("probabilities") == probabilities
    };
    eventually("clients answered", || seen.lock().unwrap().answers > 20);

    // the watcher: the default version's file replaced by a retrained one
    install_artifact(&dir, "9.2.0", &b);
    let took = eventually("the new 9.2.0 served", || answered(&pb));
    eprintln!("replaced artifact served after {took:?}");
    // a corrupt artifact is refused, the others keep serving
    std::fs::write(
        dir.join(classification_model::artifact::artifact_file_name("9.9.9")),
        &a[..a.len() / 2],
    )
    .unwrap();
    eventually("the corrupt file refused", || {
        server
            .get("/metrics")
            .body
            .lines()
            .any(|l| l.starts_with("model_artifacts_refused_total ") && !l.ends_with(" 0"))
    });
    // a copy written in place (not renamed): served once complete
    std::fs::write(
        dir.join(classification_model::artifact::artifact_file_name("9.4.0")),
        artifact("9.4.0", 3),
    )
    .unwrap();
    let took = eventually("9.4.0 served", || {
        server
            .post("/predict?version=9.4.0", "application/json", &body(1))
            .status
            == 200
    });
    eprintln!("new artifact served after {took:?}");
    // SIGHUP, back to the first 9.2.0
    install_artifact(&dir, "9.2.0", &a);
    server.signal("HUP");
    eventually("the first 9.2.0 served again", || answered(&pa));
    // POST /admin/reload (from loopback, no admin key set) says what it did
    let report = server.post("/admin/reload", "application/json", "").json();
    assert_eq!(
        report["versions"],
        json!([model_version(), "9.2.0", "9.4.0"])
    );
    assert_eq!(report["default"], "9.2.0");
    let refused = report["refused"].as_array().unwrap();
    assert_eq!(refused.len(), 1, "{report}");
    assert!(
        refused[0]["file"]
            .as_str()
            .unwrap()
            .ends_with("v9.9.9.json")
    );
    assert!(
        refused[0]["reason"]
            .as_str()
            .unwrap()
            .contains("corrupt or truncated")
    );
    // removing a version unloads it; the default cannot be unloaded
    std::fs::remove_file(dir.join(classification_model::artifact::artifact_file_name("9.4.0")))
        .unwrap();
    std::fs::remove_file(dir.join(classification_model::artifact::artifact_file_name("9.2.0")))
        .unwrap();
    eventually("9.4.0 unloaded", || {
        server
            .post("/predict?version=9.4.0", "application/json", &body(1))
            .status
            == 404
    });
    assert!(answered(&pa));

    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.join().unwrap();
    }
    let seen = seen.lock().unwrap();
    assert!(seen.failures.is_empty(), "{:?}", seen.failures);
    assert_eq!(seen.mixed, 0, "responses mixing versions");
    assert!(seen.answers > 100, "only {} answers", seen.answers);
    let metrics = server.get("/metrics").body;
    let count = |name: &str| -> f64 {
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(name)?.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {name} in {metrics}"))
    };
    assert!(count("model_artifacts_refused_total") >= 2.0);
    assert!(count("model_loads_total") >= 5.0);
    let log = server.log.lock().unwrap();
    for trigger in ["file watcher", "SIGHUP", "POST /admin/reload"] {
        assert!(log.contains(trigger), "no reload by {trigger} in the log");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
