//! What users of model servers expect: explanations, CSV batches, model
//! metadata, metrics, liveness and readiness, CORS.

use crate::common::{Server, send};
use classification_model::train::read_dataset;
use classification_model::{Model, make_prediction};
use serde_json::{Value, json};

const DATA: &[u8] = include_bytes!("../../../classification_model/datasets/titanic.csv");

fn dataset_csv() -> String {
    String::from_utf8(DATA.to_vec()).unwrap()
}

#[test]
fn explanations_sum_to_the_log_odds_for_every_dataset_row() {
    let server = Server::start(&[]);
    let rows = crate::common::dataset_json_rows();
    let r = server.post(
        "/predict?explain=true",
        "application/json",
        &json!({ "inputs": rows }).to_string(),
    );
    assert_eq!(r.status, 200);
    let body = r.json();
    let probabilities = body["probabilities"].as_array().unwrap();
    let explanations = body["explanations"].as_array().unwrap();
    assert_eq!(explanations.len(), 1309);
    let intercept = Model::embedded().unwrap().artifact().summary().intercept;
    for (p, e) in probabilities.iter().zip(explanations) {
        let p = p.as_f64().unwrap();
        let contributions = e["contributions"].as_object().unwrap();
        assert_eq!(contributions.len(), 9);
        let log_odds = e["baseline"].as_f64().unwrap()
            + contributions
                .values()
                .map(|c| c.as_f64().unwrap())
                .sum::<f64>();
        assert!(
            (log_odds - (p / (1.0 - p)).ln()).abs() < 1e-9,
            "{log_odds} vs {p}"
        );
        assert_eq!(e["baseline"].as_f64().unwrap(), intercept);
        // summed in the order served, exactly the log-odds behind p
        let e: classification_model::Explanation = serde_json::from_value(e.clone()).unwrap();
        assert_eq!(p, 1.0 / (1.0 + (-e.log_odds()).exp()));
    }
    // the same as the library
    let data = read_dataset(DATA).unwrap();
    let library = classification_model::Model::embedded()
        .unwrap()
        .explain(data.passengers())
        .unwrap();
    assert_eq!(
        serde_json::to_value(&library).unwrap(),
        body["explanations"]
    );
    // without explain, no explanations key
    let r = server.post(
        "/predict?explain=false",
        "application/json",
        &json!({ "inputs": [rows[0]] }).to_string(),
    );
    assert!(r.json().get("explanations").is_none());
    let r = server.post(
        "/predict?explain=maybe",
        "application/json",
        &json!({ "inputs": [rows[0]] }).to_string(),
    );
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["errors"][0]["field"], "explain");
}

#[test]
fn csv_gives_the_same_numbers_as_json_for_every_dataset_row() {
    let server = Server::start(&[]);
    let expected = make_prediction(read_dataset(DATA).unwrap().passengers()).unwrap();
    // CSV in, CSV out
    let raw = format!(
        "POST /predict HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: text/csv\r\nAccept: text/csv\r\nContent-Length: {}\r\n\r\n{}",
        DATA.len(),
        dataset_csv()
    );
    let r = send(server.addr, raw.as_bytes());
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.header("content-type").unwrap().starts_with("text/csv"));
    let mut lines = r.body.lines();
    assert_eq!(lines.next(), Some("row,prediction,probability,id"));
    let mut n = 0;
    for (i, line) in lines.enumerate() {
        let f: Vec<&str> = line.split(',').collect();
        assert_eq!(f[0].parse::<usize>().unwrap(), i);
        assert_eq!(f[1].parse::<u8>().unwrap(), expected.predictions[i]);
        assert_eq!(
            f[2].parse::<f64>().unwrap(),
            expected.probabilities[i],
            "row {i}"
        );
        n += 1;
    }
    assert_eq!(n, 1309);
    // CSV in, JSON out (the default)
    let r = server.post("/predict", "text/csv", &dataset_csv());
    assert_eq!(r.status, 200);
    assert_eq!(r.floats("probabilities"), expected.probabilities);
    // and JSON in, CSV out
    let rows = crate::common::dataset_json_rows();
    let body = json!({ "inputs": rows }).to_string();
    let raw = format!(
        "POST /predict HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nAccept: text/csv, application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let r = send(server.addr, raw.as_bytes());
    assert!(r.body.starts_with("row,prediction,probability,id\n0,"));
}

#[test]
fn csv_subsets_and_errors_name_line_and_column() {
    let server = Server::start(&[]);
    let r = server.post(
        "/predict",
        "text/csv",
        "sex,pclass,sibsp,parch\nfemale,1,0,0\nmale,3,1,1\n",
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["predictions"].as_array().unwrap().len(), 2);

    let r = server.post(
        "/predict",
        "text/csv",
        "sex,pclass,sibsp,parch,age\nfemale,1,0,0,30\nmale,9,1,1,-4\n",
    );
    assert_eq!(r.status, 422);
    let errors = r.json()["errors"].clone();
    assert_eq!(
        errors[0],
        json!({"row": 1, "line": 3, "field": "pclass", "message": "must be 1, 2 or 3, got 9"})
    );
    assert_eq!(errors[1]["field"], "age");
    assert_eq!(errors[1]["line"], 3);

    let r = server.post(
        "/predict",
        "text/csv",
        "sex,pclass,sibsp,parch,Fare\nfemale,1,0,0,3\n",
    );
    assert_eq!(r.status, 422);
    assert_eq!(r.json()["errors"][0]["field"], "Fare");
    assert_eq!(r.json()["errors"][0]["line"], 1);

    let r = server.post("/predict", "text/csv", "pclass,sibsp,parch\n1,0,0\n");
    assert_eq!(r.status, 422);
    assert_eq!(r.json()["errors"][0]["field"], "sex");

    let r = server.post(
        "/predict",
        "text/csv",
        "sex,pclass,sibsp,parch\nfemale,1,0\n",
    );
    assert_eq!(r.status, 422);
    assert_eq!(r.json()["errors"][0]["line"], 2);

    let r = server.post("/predict", "text/csv", "sex,pclass,sibsp,parch\n");
    assert_eq!(r.status, 422);
    assert_eq!(r.json()["errors"][0]["field"], "inputs");
}

#[test]
fn model_metadata_describes_features_training_and_parameters() {
    let server = Server::start(&[]);
    let r = server.get("/model");
    assert_eq!(r.status, 200);
    let m = r.json();
    let artifact = Model::embedded().unwrap().artifact();
    assert_eq!(m["version"], artifact.model_version());
    assert_eq!(
        m["training_data"]["sha256"],
        artifact.training_data().sha256
    );
    assert_eq!(
        m["metrics"]["test"]["roc_auc"].as_f64().unwrap(),
        artifact.metrics().test.unwrap().roc_auc
    );
    let features: Vec<&str> = m["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        features,
        [
            "pclass", "name", "sex", "age", "sibsp", "parch", "fare", "cabin", "embarked"
        ]
    );
    assert_eq!(m["features"][0]["allowed_values"], json!([1, 2, 3]));
    assert_eq!(m["pipeline"]["medians"]["age"], 28.0);
    assert_eq!(
        m["pipeline"]["frequent_labels"]["sex"],
        json!(["female", "male"])
    );
    let columns = m["pipeline"]["columns"].as_array().unwrap();
    assert_eq!(columns.len(), artifact.summary().columns.len());
    assert_eq!(columns[0]["column"], "pclass");
}

fn metric(text: &str, name_and_labels: &str) -> f64 {
    text.lines()
        .find_map(|l| {
            l.strip_prefix(name_and_labels)
                .and_then(|v| v.trim().parse().ok())
        })
        .unwrap_or(0.0)
}

#[test]
fn metrics_move_with_the_traffic() {
    let server = Server::start(&[]);
    let before = server.get("/metrics").body;
    let valid = r#"{"inputs": [{"pclass": 1, "name": "Allen, Miss. Elisabeth Walton", "sex": "female", "age": 29, "sibsp": 0, "parch": 0, "fare": 211.3375, "cabin": "B5", "embarked": "S"}, {"pclass": 3, "sex": "male", "sibsp": 0, "parch": 0}]}"#;
    for _ in 0..3 {
        assert_eq!(server.predict(valid).status, 200);
    }
    assert_eq!(
        server
            .predict(r#"{"inputs": [{"pclass": 9, "sex": "male", "sibsp": 0, "parch": 0}]}"#)
            .status,
        422
    );
    assert_eq!(server.get("/nope").status, 404);
    let r = server.get("/metrics");
    assert_eq!(r.status, 200);
    let after = r.body;
    let delta = |m: &str| metric(&after, m) - metric(&before, m);
    assert_eq!(
        delta(r#"http_requests_total{route="/predict",method="POST",status="200"}"#),
        3.0
    );
    assert_eq!(
        delta(r#"http_requests_total{route="/predict",method="POST",status="422"}"#),
        1.0
    );
    assert_eq!(
        delta(r#"http_requests_total{route="other",method="GET",status="404"}"#),
        1.0
    );
    assert_eq!(delta(r#"predictions_total{class="1"}"#), 3.0);
    assert_eq!(delta(r#"predictions_total{class="0"}"#), 3.0);
    assert_eq!(delta("validation_failures_total"), 1.0);
    assert_eq!(delta(r#"validation_errors_total{field="pclass"}"#), 1.0);
    assert!(delta(r#"http_request_duration_seconds_count{route="/predict"}"#) >= 4.0);
    assert!(after.contains(&format!(
        r#"model_info{{name="titanic_classification_model",version="{}"}} 1"#,
        classification_model::model_version()
    )));
    // well-formed exposition: every sample line is `name{labels} value`
    for line in after.lines().filter(|l| !l.starts_with('#')) {
        let (_, value) = line.rsplit_once(' ').unwrap();
        assert!(value.parse::<f64>().is_ok(), "{line}");
    }
}

#[test]
fn liveness_and_readiness() {
    let server = Server::start(&[]);
    assert_eq!(
        server.get("/health/live").json(),
        json!({"status": "alive"})
    );
    assert_eq!(
        server.get("/health/ready").json(),
        json!({"status": "ready"})
    );
    assert_eq!(
        server
            .post("/health/ready", "application/json", "{}")
            .status,
        405
    );
}

#[test]
fn cors_is_off_by_default_and_follows_cors_origins() {
    let preflight = "OPTIONS /predict HTTP/1.1\r\nHost: x\r\nConnection: close\r\nOrigin: https://app.example\r\nAccess-Control-Request-Method: POST\r\nAccess-Control-Request-Headers: content-type\r\n\r\n";
    let server = Server::start(&[]);
    let r = send(server.addr, preflight.as_bytes());
    assert_eq!(r.header("access-control-allow-origin"), None);

    let server = Server::start(&[("CORS_ORIGINS", "https://app.example, https://other.example")]);
    let r = send(server.addr, preflight.as_bytes());
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("https://app.example")
    );
    let r = send(
        server.addr,
        b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\nOrigin: https://app.example\r\n\r\n",
    );
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("https://app.example")
    );
    let r = send(
        server.addr,
        preflight
            .replace("https://app.example", "https://evil.example")
            .as_bytes(),
    );
    assert_ne!(
        r.header("access-control-allow-origin"),
        Some("https://evil.example")
    );
    assert!(r.status >= 400 && r.status < 500);
    let _: Value = r.json();
}
