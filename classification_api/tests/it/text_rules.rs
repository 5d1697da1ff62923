//! One parser: the same text gives the same outcome as a JSON string, as a
//! JSON number (where the text is one) and as a CSV cell, against the real
//! server (`docs/PIPELINE.md`, "Input rules").

use crate::common::Server;
use serde_json::{Map, Value, json};

/// One case: a field, its text, and whether it is accepted.
type Case = (String, String, bool);

/// The base record and the cases, shared with the Python package's tests.
fn table() -> (Map<String, Value>, Vec<Case>) {
    let table: Value = serde_json::from_str(include_str!("text_rules.json")).unwrap();
    let base = table["base"].as_object().unwrap().clone();
    let cases = serde_json::from_value(table["cases"].clone()).unwrap();
    (base, cases)
}

/// The outcome of one request: the probability, or the field its error names.
#[derive(Debug, PartialEq)]
enum Outcome {
    Probability(f64),
    Error(String),
}

fn outcome(r: crate::common::Response) -> Outcome {
    let body = r.json();
    match r.status {
        200 => Outcome::Probability(body["probabilities"][0].as_f64().unwrap()),
        422 => Outcome::Error(body["errors"][0]["field"].as_str().unwrap().to_owned()),
        s => panic!("status {s}: {}", r.body),
    }
}

fn record(base: &Map<String, Value>, field: &str, value: Value) -> Map<String, Value> {
    let mut r = base.clone();
    r.insert(field.to_owned(), value);
    r
}

fn csv_body(record: &Map<String, Value>) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(record.keys()).unwrap();
    w.write_record(record.values().map(|v| v.as_str().unwrap()))
        .unwrap();
    String::from_utf8(w.into_inner().unwrap()).unwrap()
}

/// The text as a JSON number literal, where it is one in plain decimal notation.
fn json_number(text: &str) -> Option<Value> {
    let literal = text.trim_matches([' ', '\t']);
    if literal.contains(['e', 'E']) {
        return None;
    }
    serde_json::from_str::<serde_json::Number>(literal)
        .ok()
        .map(Value::Number)
}

#[test]
fn the_same_text_reads_alike_as_json_string_json_number_and_csv_cell() {
    let (base, cases) = table();
    assert!(cases.len() >= 30);
    let server = Server::start(&[]);
    let mut numbers = 0;
    for (field, text, accepted) in &cases {
        let (field, text, accepted) = (field.as_str(), text.as_str(), *accepted);
        let as_string = record(&base, field, json!(text));
        let expected = outcome(server.predict(&json!({ "inputs": [as_string] }).to_string()));
        match &expected {
            Outcome::Probability(_) => assert!(accepted, "{field}={text:?} was accepted"),
            Outcome::Error(f) => {
                assert!(!accepted, "{field}={text:?} was refused");
                assert_eq!(f, field, "{field}={text:?}");
            }
        }
        let csv = outcome(server.post("/predict", "text/csv", &csv_body(&as_string)));
        assert_eq!(csv, expected, "{field}={text:?} as a CSV cell");
        if let Some(number) = json_number(text) {
            numbers += 1;
            let as_number = record(&base, field, number);
            let got = outcome(server.predict(&json!({ "inputs": [as_number] }).to_string()));
            assert_eq!(got, expected, "{field}={text:?} as a JSON number");
        }
    }
    assert!(numbers >= 15, "{numbers} cases had a JSON number form");
    // A JSON number is a number however it is written: 1e0 is 1. In text
    // the exponent is refused (above), as documented.
    let r = server.predict(&json!({ "inputs": [record(&base, "pclass", json!(1e0))] }).to_string());
    assert_eq!(r.status, 200);
}
