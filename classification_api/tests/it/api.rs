//! The real server binary, over HTTP on a random loopback port.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::common::{Process, Server, read_response, send};
use classification_model::train::read_dataset;
use classification_model::{make_prediction, model_version};
use serde_json::json;

const ALLEN: &str = r#"{"pclass": 1, "name": "Allen, Miss. Elisabeth Walton", "sex": "female", "age": 29,
    "sibsp": 0, "parch": 0, "fare": 211.3375, "cabin": "B5", "embarked": "S"}"#;

#[test]
fn health_reports_versions() {
    let server = Server::start(&[]);
    let r = server.get("/health");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/json"));
    let body = r.json();
    assert_eq!(body["api_version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(body["model_version"], model_version());
    assert!(body["name"].as_str().unwrap().contains("Titanic"));
}

#[test]
fn the_index_is_the_web_app_with_a_strict_policy_and_its_files() {
    let server = Server::start(&[]);
    let r = server.get("/");
    assert_eq!(r.status, 200);
    assert!(r.header("content-type").unwrap().starts_with("text/html"));
    let policy = r.header("content-security-policy").unwrap();
    assert!(policy.starts_with("default-src 'self'"), "{policy}");
    assert!(!policy.contains("unsafe"), "{policy}");
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    // every file the page names is served, with its type
    for (file, kind) in [
        ("/app/app.js", "text/javascript"),
        ("/app/app.css", "text/css"),
        ("/app/favicon.svg", "image/svg+xml"),
    ] {
        assert!(r.body.contains(file), "{file}");
        let f = server.get(file);
        assert_eq!(f.status, 200, "{file}");
        assert!(
            f.header("content-type").unwrap().starts_with(kind),
            "{file}"
        );
    }
    assert_eq!(server.get("/app/nope.js").status, 404);
    assert_eq!(server.get("/app/..%2FCargo.toml").status, 404);
    // the report /model links
    let model = server.get("/model").json();
    let report = model["versions"][0]["report"].as_str().unwrap().to_owned();
    let r = server.get(&report);
    assert_eq!(r.status, 200);
    assert!(
        r.body
            .contains(model["training_data"]["sha256"].as_str().unwrap())
    );
    assert!(
        r.header("content-security-policy")
            .unwrap()
            .starts_with("default-src 'none'")
    );
    assert_eq!(server.get("/reports/nope.html").status, 404);
}

#[test]
fn predictions_equal_the_library_to_the_last_digit_for_every_dataset_row() {
    let server = Server::start(&[]);
    let rows = crate::common::dataset_json_rows();
    let r = server.predict(&json!({ "inputs": rows }).to_string());
    assert_eq!(r.status, 200, "{}", r.body);
    let body = r.json();
    let data = read_dataset(include_bytes!(
        "../../../classification_model/datasets/titanic.csv"
    ))
    .unwrap();
    let expected = make_prediction(data.passengers()).unwrap();
    assert_eq!(r.floats("probabilities"), expected.probabilities);
    assert_eq!(body["predictions"], json!(expected.predictions));
    assert_eq!(body["version"], model_version());
    assert_eq!(body["errors"], json!(null));
}

#[test]
fn one_passenger() {
    let server = Server::start(&[]);
    let r = server.predict(&format!(r#"{{"inputs": [{ALLEN}]}}"#));
    assert_eq!(r.status, 200);
    let body = r.json();
    assert_eq!(body["predictions"], json!([1]));
    let p = body["probabilities"][0].as_f64().unwrap();
    let passengers: Vec<classification_model::Passenger> =
        serde_json::from_str(&format!("[{ALLEN}]")).unwrap();
    assert_eq!(p, make_prediction(&passengers).unwrap().probabilities[0]);
}

#[test]
fn invalid_rows_get_422_naming_every_row_and_field() {
    let server = Server::start(&[]);
    let body = format!(
        r#"{{"inputs": [{ALLEN}, {{"pclass": 7, "sex": "Male", "age": -5, "sibsp": 0, "parch": 0}},
            5, {{"Age": 3}}, {{"pclass": 1, "pclass": 2}}, {{"sex": "female", "pclass": 1, "sibsp": 0, "parch": 0, "fare": 1e999}}]}}"#
    );
    let r = server.predict(&body);
    assert_eq!(r.status, 422, "{}", r.body);
    let body = r.json();
    assert_eq!(body["predictions"], json!(null));
    assert_eq!(body["probabilities"], json!(null));
    assert_eq!(body["version"], model_version());
    let errors: Vec<(u64, String)> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            assert!(!e["message"].as_str().unwrap().is_empty());
            (
                e["row"].as_u64().unwrap(),
                e["field"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expected: Vec<(u64, String)> = [
        (1, "pclass"),
        (1, "age"),
        (2, "inputs"),
        (3, "Age"),
        (4, "pclass"),
        (5, "fare"),
    ]
    .iter()
    .map(|(r, f)| (*r, f.to_string()))
    .collect();
    assert_eq!(errors, expected);
}

#[test]
fn malformed_bodies_get_400() {
    let server = Server::start(&[]);
    for body in [
        "",
        "{",
        "[]",
        "{\"inputs\": 5}",
        "{\"input\": []}",
        "{}",
        "null",
        "{\"inputs\": [1,]}",
    ] {
        let r = server.predict(body);
        assert_eq!(r.status, 400, "{body:?}: {}", r.body);
        assert!(
            r.json()["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("inputs")
        );
    }
}

#[test]
fn empty_inputs_get_422() {
    let server = Server::start(&[]);
    let r = server.predict(r#"{"inputs": []}"#);
    assert_eq!(r.status, 422);
    assert_eq!(r.json()["errors"][0]["field"], "inputs");
}

#[test]
fn wrong_content_type_gets_415() {
    let server = Server::start(&[]);
    for ct in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/jsonx",
    ] {
        let r = server.post("/predict", ct, r#"{"inputs": []}"#);
        assert_eq!(r.status, 415, "{ct}");
        assert!(
            r.json()["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("application/json")
        );
    }
    let r = server.post(
        "/predict",
        "Application/JSON; charset=utf-8",
        &format!(r#"{{"inputs": [{ALLEN}]}}"#),
    );
    assert_eq!(r.status, 200);
    let raw =
        "POST /predict HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}";
    assert_eq!(send(server.addr, raw.as_bytes()).status, 415);
}

#[test]
fn oversized_bodies_and_batches_get_413() {
    let server = Server::start(&[("MAX_BODY_BYTES", "2000"), ("MAX_BATCH", "3")]);
    let big = format!(r#"{{"inputs": [{}]}}"#, [ALLEN; 20].join(","));
    let r = server.predict(&big);
    assert_eq!(r.status, 413, "{}", r.body);
    assert!(
        r.json()["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("2000")
    );
    // the same without a Content-Length: chunked
    let chunk = big.as_bytes();
    let mut raw = b"POST /predict HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for part in chunk.chunks(500) {
        raw.extend(format!("{:x}\r\n", part.len()).as_bytes());
        raw.extend(part);
        raw.extend(b"\r\n");
    }
    raw.extend(b"0\r\n\r\n");
    assert_eq!(send(server.addr, &raw).status, 413);
    let four = format!(r#"{{"inputs": [{}]}}"#, ["{}"; 4].join(","));
    let r = server.predict(&four);
    assert_eq!(r.status, 413);
    assert_eq!(r.json()["errors"][0]["field"], "inputs");
    let three = format!(r#"{{"inputs": [{}]}}"#, [ALLEN; 3].join(","));
    assert_eq!(server.predict(&three).status, 200);
}

#[test]
fn unknown_paths_get_404_and_wrong_methods_405() {
    let server = Server::start(&[]);
    let r = server.get("/nope");
    assert_eq!(r.status, 404);
    assert!(r.json()["errors"][0]["message"].is_string());
    let r = server.get("/predict");
    assert_eq!(r.status, 405);
    assert_eq!(r.header("allow"), Some("POST"));
    let r = server.post("/health", "application/json", "{}");
    assert_eq!(r.status, 405);
    assert_eq!(r.header("allow"), Some("GET"));
    let raw = "DELETE / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    assert_eq!(send(server.addr, raw.as_bytes()).status, 405);
}

#[test]
fn stopping_lets_in_flight_requests_finish() {
    let mut server = Server::start(&[]);
    let body = format!(r#"{{"inputs": [{ALLEN}]}}"#);
    let mut stream = TcpStream::connect(server.addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    // with `Expect: 100-continue`, the server says `100 Continue` once its
    // handler reads the body: the request is in flight
    let head = format!(
        "POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nExpect: 100-continue\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    let mut interim = Vec::new();
    while !interim.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        stream.read_exact(&mut byte).unwrap();
        interim.push(byte[0]);
    }
    assert!(interim.starts_with(b"HTTP/1.1 100"), "{interim:?}");
    stream.write_all(&body.as_bytes()[..10]).unwrap();
    server.begin_stop();
    // it has stopped listening: new clients are refused
    crate::common::eventually("the server stops accepting", || {
        TcpStream::connect(server.addr).is_err()
    });
    stream.write_all(&body.as_bytes()[10..]).unwrap();
    let r = read_response(&mut stream);
    assert_eq!(r.status, 200, "{}", r.body);
    server.stop();
}

#[test]
fn sigterm_stops_the_process_with_exit_code_0() {
    let mut server = Process::start(&[]);
    assert_eq!(server.get("/health").status, 200);
    server.signal("TERM");
    let status = server
        .wait(Duration::from_secs(15))
        .expect("the server exits");
    assert_eq!(status.code(), Some(0));
    assert!(TcpStream::connect(server.addr).is_err());
}

#[test]
fn startup_failures_are_clear_errors_not_panics() {
    let first = Server::start(&[]);
    // the HTTP port taken, then the gRPC one
    for (port, grpc_port, taken, what, setting) in [
        (first.addr.port(), 0, first.addr, "port", "PORT"),
        (0, first.grpc.port(), first.grpc, "gRPC port", "GRPC_PORT"),
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_classification_api"))
            .env("PORT", port.to_string())
            .env("GRPC_PORT", grpc_port.to_string())
            .env("HOST", "127.0.0.1")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        let stderr = String::from_utf8_lossy(&out.stderr);
        let said = format!("{what} {} on 127.0.0.1 is taken", taken.port());
        assert!(
            stderr.contains(&said)
                && stderr.contains(&format!("set {setting} to another port"))
                && !stderr.contains("panicked"),
            "{stderr}"
        );
    }

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_classification_api"))
        .env("PORT", "eighty")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("PORT"));
}

#[test]
fn help_lists_every_setting_and_serves_nothing() {
    let dir = crate::common::temp_dir("help");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_classification_api"))
        .arg("--help")
        .current_dir(&dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let help = String::from_utf8_lossy(&out.stdout);
    for (name, default, _) in classification_api::config::SETTINGS {
        assert!(help.contains(&format!("[env: {name}]")), "{name}: {help}");
        if let Some(default) = default {
            assert!(help.contains(&format!("[default: {default}]")), "{name}");
        }
    }
    // it answered and stopped: no history file was made where it ran
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_classification_api"))
        .arg("--version")
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!(
            "classification_api {} (model {})",
            env!("CARGO_PKG_VERSION"),
            classification_model::model_version()
        )
    );
}
