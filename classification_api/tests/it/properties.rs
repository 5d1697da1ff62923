//! Property tests of the `/predict` handler: arbitrary bodies never panic and
//! never get a 5xx; errors always name a field, and row-level errors a row.

use std::sync::Arc;

use classification_api::config::Config;
use classification_api::rest::routes::routes;
use classification_api::server::TABLE;
use classification_api::serving::models::{Loaded, Registry};
use classification_api::serving::state::AppState;
use proptest::prelude::*;
use serde_json::{Value, json};

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        ".{0,10}".prop_map(Value::String),
        prop::sample::select(vec!["male", "female", "?", "S", "C22", "1", "inf"])
            .prop_map(|s| json!(s)),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(
                prop::sample::select(vec![
                    "pclass", "sex", "age", "sibsp", "parch", "fare", "cabin", "embarked", "name",
                    "ticket", "Age", "x",
                ])
                .prop_map(String::from),
                inner,
                0..9
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn record() -> impl Strategy<Value = Value> {
    // mostly plausible records, with arbitrary values mixed in
    (
        prop::option::of(prop_oneof![(1i64..=3).prop_map(|n| json!(n)), json_value()]),
        prop::option::of(prop_oneof![
            Just(json!("male")),
            Just(json!("female")),
            json_value()
        ]),
        prop::option::of(prop_oneof![
            (0.0f64..=120.0).prop_map(|n| json!(n)),
            json_value()
        ]),
        prop::option::of(prop_oneof![
            (0i64..=20).prop_map(|n| json!(n)),
            json_value()
        ]),
        prop::option::of(prop_oneof![
            (0i64..=20).prop_map(|n| json!(n)),
            json_value()
        ]),
        prop::option::of(json_value()),
    )
        .prop_map(|(pclass, sex, age, sibsp, parch, other)| {
            let mut m = serde_json::Map::new();
            for (k, v) in [
                ("pclass", pclass),
                ("sex", sex),
                ("age", age),
                ("sibsp", sibsp),
                ("parch", parch),
                ("cabin", other),
            ] {
                if let Some(v) = v {
                    m.insert(k.into(), v);
                }
            }
            Value::Object(m)
        })
}

fn status_and_body(body: Vec<u8>) -> (u16, Value) {
    let config = Config {
        max_batch: 50,
        ..Config::default()
    };
    let (models, _) = Registry::open(Loaded::embedded().unwrap(), None, None, None).unwrap();
    let state = Arc::new(AppState::new(models, &config, &TABLE.labels()));
    let api = routes(state, &TABLE);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let r = runtime.block_on(
        warp::test::request()
            .method("POST")
            .path("/predict")
            .header("content-type", "application/json")
            .body(body)
            .reply(&api),
    );
    let json = serde_json::from_slice(r.body()).expect("every answer is JSON");
    (r.status().as_u16(), json)
}

fn check(status: u16, json: &Value, rows: Option<usize>) -> Result<(), TestCaseError> {
    prop_assert!(matches!(status, 200 | 400 | 413 | 422), "status {}", status);
    if status == 200 {
        let p = json["probabilities"].as_array().unwrap();
        if let Some(n) = rows {
            prop_assert_eq!(p.len(), n);
        }
        for p in p {
            prop_assert!((0.0..=1.0).contains(&p.as_f64().unwrap()));
        }
    } else {
        let errors = json["errors"].as_array().unwrap();
        prop_assert!(!errors.is_empty());
        for e in errors {
            prop_assert!(e["field"].as_str().is_some_and(|f| !f.is_empty()), "{}", e);
            prop_assert!(e["message"].as_str().is_some_and(|m| !m.is_empty()));
            if let (Some(row), Some(n)) = (e.get("row").and_then(Value::as_u64), rows) {
                prop_assert!((row as usize) < n);
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_record_batches(records in prop::collection::vec(record(), 0..6)) {
        let n = records.len();
        let (status, json) = status_and_body(json!({ "inputs": records }).to_string().into_bytes());
        check(status, &json, Some(n))?;
        if n == 0 {
            prop_assert_eq!(status, 422);
        }
    }

    #[test]
    fn arbitrary_json_bodies(body in json_value()) {
        let (status, json) = status_and_body(body.to_string().into_bytes());
        check(status, &json, None)?;
    }

    #[test]
    fn arbitrary_bytes(body in prop::collection::vec(any::<u8>(), 0..200)) {
        let (status, json) = status_and_body(body);
        check(status, &json, None)?;
    }
}
