//! The Open Inference Protocol (V2, REST) against the real server binary:
//! metadata, both shapes, every datatype, `null`, errors naming input and
//! row, explanations, binary tensors, auth and history.

use crate::common::{Server, send};
use classification_model::{Model, make_prediction, model_version, train::read_dataset};
use serde_json::{Value, json};

fn model_name() -> &'static str {
    Model::embedded().unwrap().name()
}

fn infer_path() -> String {
    format!("/v2/models/{}/infer", model_name())
}

/// The dataset's columns as V2 inputs, each with its own datatype and shape:
/// text as BYTES, whole numbers as INT64 or INT32, the rest as FP64 or FP32,
/// `null` for missing; even columns `[N]`, odd ones `[N, 1]`.
fn dataset_inputs() -> Vec<Value> {
    let rows = crate::common::dataset_json_rows();
    let n = rows.len();
    let columns: [(&str, &str); 10] = [
        ("pclass", "INT64"),
        ("name", "BYTES"),
        ("sex", "BYTES"),
        ("age", "FP64"),
        ("sibsp", "INT32"),
        ("parch", "INT64"),
        ("fare", "FP32"),
        ("cabin", "BYTES"),
        ("embarked", "BYTES"),
        ("ticket", "BYTES"),
    ];
    columns
        .iter()
        .enumerate()
        .map(|(i, (name, datatype))| {
            let data: Vec<Value> = rows
                .iter()
                .map(|r| {
                    let text = r[*name].as_str().unwrap().trim();
                    let missing = text.is_empty() || text == "?";
                    match *datatype {
                        "BYTES" if missing => Value::Null,
                        "BYTES" => json!(text),
                        _ if missing => Value::Null,
                        // the number as written in the dataset
                        _ => serde_json::from_str(text).unwrap(),
                    }
                })
                .collect();
            let (shape, data) = if i % 2 == 0 {
                (json!([n]), json!(data))
            } else {
                (
                    json!([n, 1]),
                    Value::Array(data.into_iter().map(|v| json!([v])).collect()),
                )
            };
            json!({"name": name, "datatype": datatype, "shape": shape, "data": data,
                   "parameters": {"content_type": "str"}})
        })
        .collect()
}

fn output<'a>(body: &'a Value, name: &str) -> &'a Value {
    body["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == name)
        .unwrap_or_else(|| panic!("no output {name}: {body}"))
}

fn floats(v: &Value) -> Vec<f64> {
    v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

#[test]
fn metadata_health_and_readiness() {
    let server = Server::start(&[]);
    let body = server.get("/v2").json();
    assert_eq!(body["extensions"], json!(["binary_tensor_data"]));
    for path in ["/v2/health/live", "/v2/health/ready"] {
        assert_eq!(server.get(path).status, 200, "{path}");
    }
    let model = format!("/v2/models/{}", model_name());
    let versioned = format!("{model}/versions/{}", model_version());
    for path in [&model, &versioned] {
        let r = server.get(path);
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        let body = r.json();
        assert_eq!(body["name"], model_name());
        assert_eq!(body["versions"], json!([model_version()]));
        let inputs = body["inputs"].as_array().unwrap();
        assert_eq!(inputs.len(), classification_model::schema::FIELDS.len());
        assert_eq!(
            inputs[0],
            json!({"name": "pclass", "datatype": "INT64", "shape": [-1]})
        );
        assert_eq!(
            inputs[2],
            json!({"name": "sex", "datatype": "BYTES", "shape": [-1]})
        );
        assert_eq!(
            inputs[3],
            json!({"name": "age", "datatype": "FP64", "shape": [-1]})
        );
        assert_eq!(
            body["outputs"][0],
            json!({"name": "predictions", "datatype": "INT64", "shape": [-1]})
        );
        assert_eq!(server.get(&format!("{path}/ready")).status, 200);
    }
    for path in [
        "/v2/models/nope".to_owned(),
        format!("{model}/versions/9.9.9"),
        format!("{model}/versions/9.9.9/ready"),
    ] {
        let r = server.get(&path);
        assert_eq!(r.status, 404, "{path}");
        assert!(
            r.json()["error"].as_str().unwrap().contains("serve"),
            "{}",
            r.body
        );
    }
}

#[test]
fn every_dataset_row_as_the_library_scores_it() {
    let server = Server::start(&[("HISTORY", "off")]);
    let request =
        json!({"id": "batch-1", "inputs": dataset_inputs(), "parameters": {"content_type": "pd"}});
    for path in [
        infer_path(),
        format!(
            "/v2/models/{}/versions/{}/infer",
            model_name(),
            model_version()
        ),
    ] {
        let r = server.post(&path, "application/json", &request.to_string());
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.header("content-type"), Some("application/json"));
        let body = r.json();
        assert_eq!(body["model_name"], model_name());
        assert_eq!(body["model_version"], model_version());
        assert_eq!(body["id"], "batch-1");
        let data = read_dataset(include_bytes!(
            "../../../classification_model/datasets/titanic.csv"
        ))
        .unwrap();
        let expected = make_prediction(data.passengers()).unwrap();
        let probabilities = output(&body, "probabilities");
        assert_eq!(probabilities["datatype"], "FP64");
        assert_eq!(probabilities["shape"], json!([1309]));
        for (got, want) in floats(probabilities).iter().zip(&expected.probabilities) {
            approx::assert_abs_diff_eq!(got, want, epsilon = 1e-12);
        }
        assert_eq!(
            output(&body, "predictions")["data"],
            json!(expected.predictions)
        );
        assert_eq!(output(&body, "ids")["data"].as_array().unwrap().len(), 1309);
    }
}

fn one(column_overrides: &[(&str, Value)]) -> Value {
    let mut inputs = vec![
        json!({"name": "pclass", "shape": [1], "datatype": "INT64", "data": [1]}),
        json!({"name": "sex", "shape": [1], "datatype": "BYTES", "data": ["female"]}),
        json!({"name": "age", "shape": [1], "datatype": "FP64", "data": [29]}),
        json!({"name": "sibsp", "shape": [1], "datatype": "INT64", "data": [0]}),
        json!({"name": "parch", "shape": [1], "datatype": "INT64", "data": [0]}),
    ];
    for (name, input) in column_overrides {
        inputs.retain(|i| i["name"] != *name);
        if !input.is_null() {
            inputs.push(input.clone());
        }
    }
    json!({ "inputs": inputs })
}

#[test]
fn bad_requests_get_400_naming_input_and_row() {
    let server = Server::start(&[("HISTORY", "off")]);
    let cases: Vec<(Value, &str)> = vec![
        (
            one(&[(
                "age",
                json!({"name": "age", "shape": [1], "datatype": "FP64", "data": [130]}),
            )]),
            "input \"age\", row 0: must be a number from 0 to 120, got 130",
        ),
        (
            one(&[(
                "age",
                json!({"name": "age", "shape": [1], "datatype": "FP64", "data": ["x"]}),
            )]),
            "input \"age\", row 0: FP64 data must be numbers or null, got a string",
        ),
        (
            one(&[(
                "sex",
                json!({"name": "sex", "shape": [1], "datatype": "INT64", "data": [1]}),
            )]),
            "input \"sex\", row 0: must be \"male\" or \"female\"",
        ),
        (
            one(&[(
                "age",
                json!({"name": "age", "shape": [1, 2], "datatype": "FP64", "data": [1, 2]}),
            )]),
            "input \"age\" has shape [1, 2]: send [N] or [N, 1]",
        ),
        (
            one(&[(
                "Age",
                json!({"name": "Age", "shape": [1], "datatype": "FP64", "data": [1]}),
            )]),
            "input \"Age\" is no input of this model",
        ),
        (
            one(&[(
                "age",
                json!({"name": "age", "shape": [1], "datatype": "BOOL", "data": [true]}),
            )]),
            "input \"age\" has datatype \"BOOL\": send BYTES, INT64, INT32, FP64 or FP32",
        ),
        (
            one(&[("sex", Value::Null)]),
            "input \"sex\" is required: \"male\" or \"female\"",
        ),
        (
            one(&[(
                "age",
                json!({"name": "age", "shape": [2], "datatype": "FP64", "data": [1, 2]}),
            )]),
            "has 2 rows, but input",
        ),
        (json!({"inputs": []}), "inputs: is empty"),
        (json!([1]), "body: the body must be an inference request"),
        (
            json!({"inputs": one(&[])["inputs"], "outputs": [{"name": "nope"}]}),
            "output \"nope\" is no output of this model",
        ),
    ];
    for (request, expected) in cases {
        let r = server.post(&infer_path(), "application/json", &request.to_string());
        assert_eq!(r.status, 400, "{request}: {}", r.body);
        let error = r.json()["error"].as_str().unwrap().to_owned();
        assert!(
            error.contains(expected),
            "{request}:\n{error}\nlacks {expected}"
        );
    }
    let r = server.post(
        "/v2/models/nope/infer",
        "application/json",
        &one(&[]).to_string(),
    );
    assert_eq!(r.status, 404);
    // a huge N is refused before anything is allocated, and the server lives on
    let huge = json!({"inputs": [{"name": "pclass", "shape": [9223372036854775806u64],
                                   "datatype": "INT64", "data": [1]}]});
    let r = server.post(&infer_path(), "application/json", &huge.to_string());
    assert_eq!(r.status, 413, "{}", r.body);
    assert!(
        r.json()["error"]
            .as_str()
            .unwrap()
            .contains("split the batch")
    );
    assert_eq!(server.get("/v2/health/live").status, 200);
}

#[test]
fn explanations_and_chosen_outputs() {
    let server = Server::start(&[("HISTORY", "off")]);
    let mut request = one(&[]);
    request["parameters"] = json!({"explain": true});
    let r = server.post(&infer_path(), "application/json", &request.to_string());
    assert_eq!(r.status, 200, "{}", r.body);
    let body = r.json();
    let p = floats(output(&body, "probabilities"))[0];
    let mut log_odds = floats(output(&body, "baseline"))[0];
    for feature in classification_model::schema::features() {
        log_odds += floats(output(&body, &format!("contribution_{feature}")))[0];
    }
    approx::assert_abs_diff_eq!(log_odds, (p / (1.0 - p)).ln(), epsilon = 1e-9);

    let mut request = one(&[]);
    request["outputs"] = json!([{"name": "contribution_sex"}, {"name": "probabilities"}]);
    let body = server
        .post(&infer_path(), "application/json", &request.to_string())
        .json();
    let names: Vec<&str> = body["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["contribution_sex", "probabilities"]);
}

/// Sends raw bytes and returns the status, headers and body bytes.
fn exchange(server: &Server, head: &str, body: &[u8]) -> (u16, Vec<(String, String)>, Vec<u8>) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(server.addr).unwrap();
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut data = Vec::new();
    stream.read_to_end(&mut data).unwrap();
    let split = data.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let parsed = crate::common::parse(&data[..split + 4]);
    (parsed.status, parsed.headers, data[split + 4..].to_vec())
}

#[test]
fn binary_tensors_in_and_out() {
    let server = Server::start(&[("HISTORY", "off")]);
    let header = json!({
        "inputs": [
            {"name": "pclass", "shape": [2], "datatype": "INT64", "parameters": {"binary_data_size": 16}},
            {"name": "sex", "shape": [2, 1], "datatype": "BYTES", "parameters": {"binary_data_size": 18}},
            {"name": "age", "shape": [2], "datatype": "FP64", "parameters": {"binary_data_size": 16}},
            {"name": "sibsp", "shape": [2], "datatype": "INT32", "data": [0, 1]},
            {"name": "parch", "shape": [2], "datatype": "FP32", "parameters": {"binary_data_size": 8}},
        ],
        "parameters": {"binary_data_output": true},
        "outputs": [{"name": "probabilities"}, {"name": "predictions", "parameters": {"binary_data": false}}, {"name": "ids"}],
    })
    .to_string();
    let mut body = header.as_bytes().to_vec();
    for v in [1i64, 3] {
        body.extend_from_slice(&v.to_le_bytes());
    }
    for s in ["female", "male"] {
        body.extend_from_slice(&(s.len() as u32).to_le_bytes());
        body.extend_from_slice(s.as_bytes());
    }
    for v in [29.0f64, f64::NAN] {
        body.extend_from_slice(&v.to_le_bytes());
    }
    for v in [0.0f32, 2.0] {
        body.extend_from_slice(&v.to_le_bytes());
    }
    let head = format!(
        "POST {} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/octet-stream\r\nInference-Header-Content-Length: {}\r\nContent-Length: {}\r\n\r\n",
        infer_path(),
        header.len(),
        body.len()
    );
    let (status, headers, answer) = exchange(&server, &head, &body);
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&answer));
    let get = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    assert_eq!(
        get("content-type").as_deref(),
        Some("application/octet-stream")
    );
    let json_len: usize = get("inference-header-content-length")
        .unwrap()
        .parse()
        .unwrap();
    let meta: Value = serde_json::from_slice(&answer[..json_len]).unwrap();
    let binary = &answer[json_len..];
    assert_eq!(meta["outputs"][0]["parameters"]["binary_data_size"], 16);
    let probabilities: Vec<f64> = binary[..16]
        .chunks_exact(8)
        .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
        .collect();
    let ids_len = meta["outputs"][2]["parameters"]["binary_data_size"]
        .as_u64()
        .unwrap() as usize;
    assert_eq!(binary.len(), 16 + ids_len);

    // the same two passengers through /predict
    let predicted = server.predict(
        &json!({"inputs": [
            {"pclass": 1, "sex": "female", "age": 29, "sibsp": 0, "parch": 0},
            {"pclass": 3, "sex": "male", "sibsp": 1, "parch": 2},
        ]})
        .to_string(),
    );
    assert_eq!(probabilities, predicted.floats("probabilities"));
    assert_eq!(meta["outputs"][1]["data"], predicted.json()["predictions"]);

    // binary data the header does not account for
    let mut extra = body.clone();
    extra.push(0);
    let head = head.replace(
        &format!("Content-Length: {}", body.len()),
        &format!("Content-Length: {}", extra.len()),
    );
    let (status, _, answer) = exchange(&server, &head, &extra);
    assert_eq!(status, 400);
    assert!(String::from_utf8_lossy(&answer).contains("binary data that no input"));
}

#[test]
fn the_api_key_ids_and_history_apply_too() {
    let server = Server::start(&[("API_KEY", "k3y-k3y-k3y-k3y-k3y")]);
    let mut request = one(&[]);
    request["inputs"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "id", "shape": [1], "datatype": "BYTES", "data": ["ticket-42"]}));
    let body = request.to_string();
    let r = server.post(&infer_path(), "application/json", &body);
    assert_eq!(r.status, 401);
    assert!(r.json()["error"].as_str().unwrap().contains("Bearer"));
    let head = format!(
        "POST {} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer k3y-k3y-k3y-k3y-k3y\r\nX-Request-Id: req-7\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        infer_path(),
        body.len()
    );
    let r = send(server.addr, format!("{head}{body}").as_bytes());
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("x-request-id"), Some("req-7"));
    assert_eq!(r.json()["id"], "req-7");
    assert_eq!(output(&r.json(), "ids")["data"], json!(["ticket-42"]));
    let stored = server.get("/history/ticket-42");
    assert_eq!(stored.status, 200, "{}", stored.body);
    assert_eq!(stored.json()["request_id"], "req-7");
    // the same id again collides
    let r = send(server.addr, format!("{head}{body}").as_bytes());
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(
        r.json()["error"]
            .as_str()
            .unwrap()
            .contains("input \"id\", row 0")
    );
}
