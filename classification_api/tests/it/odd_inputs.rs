//! A table of odd and hostile `/predict` inputs, each with its expected status
//! and the row and field its error must name, against the real server.

use crate::common::{Server, send};
use classification_model::{Passenger, make_prediction};
use serde_json::{Value, json};

const BASE: &str = r#""pclass": 3, "sex": "male", "age": 22, "sibsp": 1, "parch": 0, "fare": 7.25"#;

/// One record: the valid base with `extra` key-values appended (later keys
/// replace earlier ones only where noted; duplicates are tested on purpose).
fn record(extra: &str) -> String {
    if extra.is_empty() {
        format!("{{{BASE}}}")
    } else {
        format!("{{{BASE}, {extra}}}")
    }
}

fn one(record: &str) -> String {
    format!(r#"{{"inputs": [{record}]}}"#)
}

/// A record from the base with one key replaced (so the key appears once).
fn with(key: &str, value: &str) -> String {
    let base: serde_json::Map<String, Value> =
        serde_json::from_str(&format!("{{{BASE}}}")).unwrap();
    let mut parts: Vec<String> = base
        .iter()
        .filter(|(k, _)| k.as_str() != key)
        .map(|(k, v)| format!("{k:?}: {v}"))
        .collect();
    parts.push(format!("{key:?}: {value}"));
    one(&format!("{{{}}}", parts.join(", ")))
}

fn without(key: &str) -> String {
    let base: serde_json::Map<String, Value> =
        serde_json::from_str(&format!("{{{BASE}}}")).unwrap();
    let kept: serde_json::Map<String, Value> = base.into_iter().filter(|(k, _)| k != key).collect();
    one(&Value::Object(kept).to_string())
}

enum Expect {
    /// 200, with this many predictions
    Ok(usize),
    /// this status, with an error naming this row (if any) and field
    Err(u16, Option<u64>, &'static str),
}

use Expect::{Err, Ok};

fn cases() -> Vec<(&'static str, String, Expect)> {
    let nested = |depth: usize| format!("{}1{}", "[".repeat(depth), "]".repeat(depth));
    vec![
        ("valid record", one(&record("")), Ok(1)),
        ("numeric strings", with("pclass", r#""1""#), Ok(1)),
        ("padded numeric string", with("age", r#"" 29.5 ""#), Ok(1)),
        ("age as ?", with("age", r#""?""#), Ok(1)),
        ("age null", with("age", "null"), Ok(1)),
        ("age absent", without("age"), Ok(1)),
        ("age empty string", with("age", r#""""#), Ok(1)),
        ("age -0", with("age", "-0"), Ok(1)),
        ("age 120", with("age", "120"), Ok(1)),
        ("pclass 3.0", with("pclass", "3.0"), Ok(1)),
        ("sex in capitals", with("sex", r#""MALE""#), Ok(1)),
        ("embarked lower case", with("embarked", r#""s""#), Ok(1)),
        ("embarked empty", with("embarked", r#""""#), Ok(1)),
        (
            "cabin empty (crashes the reference)",
            with("cabin", r#""""#),
            Ok(1),
        ),
        ("cabin blank", with("cabin", r#""   ""#), Ok(1)),
        ("cabin a number", with("cabin", "123"), Ok(1)),
        (
            "name absent (crashes the reference)",
            without("name"),
            Ok(1),
        ),
        ("unicode name", with("name", r#""Ωmega, Mrs. 😀 ✈""#), Ok(1)),
        (
            "control characters in name",
            with("name", r#""\u0000\u001f\t Mr. \u007f""#),
            Ok(1),
        ),
        (
            "1 MB name",
            with("name", &format!("{:?}", "a".repeat(1_000_000))),
            Ok(1),
        ),
        (
            "dataset's other columns",
            one(&record(
                r#""survived": 1, "ticket": "A/5 21171", "boat": null, "body": "?", "home.dest": "x""#,
            )),
            Ok(1),
        ),
        (
            "wrong type: pclass word",
            with("pclass", r#""first""#),
            Err(422, Some(0), "pclass"),
        ),
        (
            "wrong type: pclass boolean",
            with("pclass", "true"),
            Err(422, Some(0), "pclass"),
        ),
        ("pclass 0", with("pclass", "0"), Err(422, Some(0), "pclass")),
        (
            "pclass 7 (accepted by the reference)",
            with("pclass", "7"),
            Err(422, Some(0), "pclass"),
        ),
        (
            "pclass absent",
            without("pclass"),
            Err(422, Some(0), "pclass"),
        ),
        ("sex absent", without("sex"), Err(422, Some(0), "sex")),
        ("sex empty", with("sex", r#""""#), Err(422, Some(0), "sex")),
        ("sex M", with("sex", r#""M""#), Err(422, Some(0), "sex")),
        (
            "sex array",
            with("sex", r#"["male"]"#),
            Err(422, Some(0), "sex"),
        ),
        (
            "sex object",
            with("sex", r#"{"a": 1}"#),
            Err(422, Some(0), "sex"),
        ),
        (
            "age negative (accepted by the reference)",
            with("age", "-5"),
            Err(422, Some(0), "age"),
        ),
        ("age 120.5", with("age", "120.5"), Err(422, Some(0), "age")),
        ("age huge", with("age", "1e308"), Err(422, Some(0), "age")),
        (
            "age overflowing JSON number",
            with("age", "1e999"),
            Err(422, Some(0), "age"),
        ),
        (
            "age NaN string",
            with("age", r#""NaN""#),
            Err(422, Some(0), "age"),
        ),
        (
            "age nan string",
            with("age", r#""nan""#),
            Err(422, Some(0), "age"),
        ),
        (
            "age Infinity string",
            with("age", r#""Infinity""#),
            Err(422, Some(0), "age"),
        ),
        (
            "age -inf string",
            with("age", r#""-inf""#),
            Err(422, Some(0), "age"),
        ),
        (
            "age inf string (crashes the reference)",
            with("age", r#""inf""#),
            Err(422, Some(0), "age"),
        ),
        (
            "age word",
            with("age", r#""old""#),
            Err(422, Some(0), "age"),
        ),
        (
            "age deeply nested",
            with("age", &nested(100)),
            Err(422, Some(0), "age"),
        ),
        (
            "fare negative",
            with("fare", "-0.01"),
            Err(422, Some(0), "fare"),
        ),
        (
            "fare string overflowing to inf",
            with("fare", r#""1e400""#),
            Err(422, Some(0), "fare"),
        ),
        (
            "sibsp fractional",
            with("sibsp", "2.5"),
            Err(422, Some(0), "sibsp"),
        ),
        (
            "sibsp negative",
            with("sibsp", "-1"),
            Err(422, Some(0), "sibsp"),
        ),
        (
            "parch too many",
            with("parch", "21"),
            Err(422, Some(0), "parch"),
        ),
        (
            "embarked unknown port",
            with("embarked", r#""X""#),
            Err(422, Some(0), "embarked"),
        ),
        (
            "unknown key Age (typo)",
            one(&record(r#""Age": 3"#)),
            Err(422, Some(0), "Age"),
        ),
        (
            "unknown key",
            one(&record(r#""foo": 1"#)),
            Err(422, Some(0), "foo"),
        ),
        (
            "duplicate key",
            one(&record(r#""age": 40"#)),
            Err(422, Some(0), "age"),
        ),
        (
            "non-object element",
            r#"{"inputs": [5]}"#.into(),
            Err(422, Some(0), "inputs"),
        ),
        (
            "null element",
            r#"{"inputs": [null]}"#.into(),
            Err(422, Some(0), "inputs"),
        ),
        (
            "string element",
            r#"{"inputs": ["x"]}"#.into(),
            Err(422, Some(0), "inputs"),
        ),
        (
            "bad second row",
            format!(r#"{{"inputs": [{}, {}]}}"#, record(""), r#"{"pclass": 2}"#),
            Err(422, Some(1), "sex"),
        ),
        (
            "empty list",
            r#"{"inputs": []}"#.into(),
            Err(422, None, "inputs"),
        ),
        (
            "10,001 records",
            format!(r#"{{"inputs": [{}]}}"#, vec!["{}"; 10_001].join(",")),
            Err(413, None, "inputs"),
        ),
        (
            "2 MB name",
            with("name", &format!("{:?}", "a".repeat(2_000_000))),
            Err(413, None, "body"),
        ),
        (
            "inputs null",
            r#"{"inputs": null}"#.into(),
            Err(400, None, "inputs"),
        ),
        (
            "inputs an object",
            r#"{"inputs": {"pclass": 1}}"#.into(),
            Err(400, None, "inputs"),
        ),
        (
            "no inputs",
            r#"{"records": []}"#.into(),
            Err(400, None, "inputs"),
        ),
        (
            "duplicate inputs",
            format!(r#"{{"inputs": [], "inputs": [{}]}}"#, record("")),
            Err(400, None, "inputs"),
        ),
        ("not JSON", "pclass=1".into(), Err(400, None, "body")),
        (
            "truncated JSON",
            r#"{"inputs": [{"pclass": 1"#.into(),
            Err(400, None, "body"),
        ),
        (
            "trailing garbage",
            format!("{} x", one(&record(""))),
            Err(400, None, "body"),
        ),
        (
            "400,000-deep nesting in a field",
            format!(r#"{{"inputs": [{{"age": {}}}]}}"#, nested(400_000)),
            Err(422, Some(0), "age"),
        ),
        (
            "deep nesting as a record",
            format!(r#"{{"inputs": [{}]}}"#, nested(1000)),
            Err(422, Some(0), "inputs"),
        ),
        (
            "deep nesting as the body",
            nested(100_000),
            Err(400, None, "body"),
        ),
        (
            "an array for the body",
            format!("[[{}]]", record("")),
            Err(400, None, "body"),
        ),
        (
            "byte-order mark",
            format!("\u{feff}{}", one(&record(""))),
            Err(400, None, "body"),
        ),
        (
            "raw control character inside a string",
            "{\"inputs\": [{\"name\": \"\u{fffd}\"}]}".replace('\u{fffd}', "\u{0}"),
            Err(400, None, "body"),
        ),
    ]
}

#[test]
fn every_odd_input_gets_its_status_and_names_row_and_field() {
    let server = Server::start(&[]);
    let cases = cases();
    assert!(cases.len() >= 40);
    for (name, body, expect) in cases {
        let r = server.predict(&body);
        let json = r.json();
        match expect {
            Ok(n) => {
                assert_eq!(r.status, 200, "{name}: {}", r.body);
                let p = json["probabilities"].as_array().unwrap();
                assert_eq!(p.len(), n, "{name}");
                assert!(
                    p.iter().all(|p| (0.0..=1.0).contains(&p.as_f64().unwrap())),
                    "{name}"
                );
                assert_eq!(json["errors"], Value::Null, "{name}");
            }
            Err(status, row, field) => {
                assert_eq!(r.status, status, "{name}: {}", r.body);
                assert_eq!(json["predictions"], Value::Null, "{name}");
                let errors = json["errors"].as_array().unwrap();
                assert!(
                    errors.iter().any(|e| e["field"] == field
                        && e.get("row").and_then(Value::as_u64) == row
                        && !e["message"].as_str().unwrap_or_default().is_empty()),
                    "{name}: expected row {row:?} field {field}: {}",
                    r.body
                );
            }
        }
    }
    // a handler that panicked would have cut its answer short (above), and
    // the server still serves
    assert_eq!(server.get("/health").status, 200);
}

#[test]
fn invalid_utf8_bodies_are_rejected_cleanly() {
    let server = Server::start(&[]);
    let body: &[u8] = b"{\"inputs\": [{\"pclass\": 1, \"sex\": \"m\xffle\"}]}";
    let mut raw = format!(
        "POST /predict HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    raw.extend_from_slice(body);
    let r = send(server.addr, &raw);
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["errors"][0]["field"], "body");
}

#[test]
fn case_insensitive_sex_scores_like_the_canonical_value() {
    let server = Server::start(&[]);
    let upper = server.predict(&with("sex", r#""MALE""#)).json();
    let canonical: Vec<Passenger> = serde_json::from_str(&format!("[{}]", record(""))).unwrap();
    let expected = make_prediction(&canonical).unwrap();
    assert_eq!(upper["probabilities"], json!(expected.probabilities));
}
