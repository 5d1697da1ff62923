//! Property tests: no input panics; valid input gives probabilities that agree
//! with an independent computation from the artifact's parameters; invalid
//! input gives errors naming row and field.

use classification_model::{FieldValue, Model, Passenger, make_prediction, schema::FIELDS};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use serde_json::Value;

fn field_value() -> impl Strategy<Value = FieldValue> {
    prop_oneof![
        Just(FieldValue::Missing),
        any::<f64>().prop_map(FieldValue::Number),
        (-5i64..130).prop_map(FieldValue::from),
        ".{0,12}".prop_map(FieldValue::Text),
        prop::sample::select(vec![
            "male", "female", "FEMALE", "?", "", " ", "1", "2.0", "3", "NaN", "inf", "-1", "1e999",
            "C", "q", "C22 C26", "Mrs", "Mr. X", "\u{0}", "😀",
        ])
        .prop_map(FieldValue::from),
        prop::sample::select(vec!["a boolean", "an array", "an object"])
            .prop_map(FieldValue::Invalid),
    ]
}

fn any_passenger() -> impl Strategy<Value = Passenger> {
    (
        (
            field_value(),
            field_value(),
            field_value(),
            field_value(),
            field_value(),
        ),
        (field_value(), field_value(), field_value(), field_value()),
    )
        .prop_map(
            |((pclass, name, sex, age, sibsp), (parch, fare, cabin, embarked))| Passenger {
                pclass,
                name,
                sex,
                age,
                sibsp,
                parch,
                fare,
                cabin,
                embarked,
            },
        )
}

fn valid_passenger() -> impl Strategy<Value = Passenger> {
    let opt_num = |lo: f64, hi: f64| prop::option::of(lo..=hi).prop_map(FieldValue::from);
    (
        (
            1i64..=3,
            prop::sample::select(vec!["male", "female", "Male", "FEMALE"]),
            opt_num(0.0, 120.0),
        ),
        (0i64..=20, 0i64..=20, opt_num(0.0, 600.0)),
        (
            prop::option::of(prop::sample::select(vec![
                "C85", "B5 B7", "E", "G6", "T", " ", "", "Z1", "É9",
            ])),
            prop::option::of(prop::sample::select(vec!["C", "Q", "S", "s", ""])),
            prop::option::of(
                prop::sample::select(vec![
                    "Doe, Mr. J",
                    "Roe, Mrs. A (B)",
                    "X, Miss. Y",
                    "Y, Master. Z",
                    "Z, Dr. W",
                ])
                .prop_map(String::from)
                .boxed()
                .prop_union(".{0,20}".boxed()),
            ),
        ),
    )
        .prop_map(
            |((pclass, sex, age), (sibsp, parch, fare), (cabin, embarked, name))| Passenger {
                pclass: pclass.into(),
                sex: sex.into(),
                age,
                sibsp: sibsp.into(),
                parch: parch.into(),
                fare,
                cabin: cabin.into(),
                embarked: embarked.into(),
                name: name.into(),
            },
        )
}

/// `P(survived = 1)` computed from the artifact's JSON alone, step by step as
/// `docs/PIPELINE.md` describes, without the crate's transformers.
fn independent_probability(artifact: &Value, p: &Passenger) -> f64 {
    let pl = &artifact["pipeline"];
    // the text rules: spaces and tabs around are ignored; blank and `?` are missing
    let present = |t: &str| {
        let t = t.trim_matches([' ', '\t']);
        (!t.is_empty() && t != "?").then(|| t.to_owned())
    };
    let num = |v: &FieldValue| match v {
        FieldValue::Number(n) => Some(*n),
        FieldValue::Text(t) => present(t).map(|t| t.parse::<f64>().unwrap()),
        _ => None,
    };
    let text = |v: &FieldValue| match v {
        FieldValue::Text(t) => present(t).map(|_| t.clone()),
        _ => None,
    };
    let median = |i: usize| {
        pl["median_imputer"]["medians"][i]["value"]
            .as_f64()
            .unwrap()
    };
    let (age, fare) = (num(&p.age), num(&p.fare));
    let on = |switch: &str| pl["derived"][switch].as_bool().unwrap_or(false);
    let imputed_fare = fare.unwrap_or(median(1));
    let mut x = vec![
        num(&p.pclass).unwrap(),
        age.unwrap_or(median(0)),
        num(&p.sibsp).unwrap(),
        num(&p.parch).unwrap(),
        if on("log_fare") {
            imputed_fare.ln_1p()
        } else {
            imputed_fare
        },
        if age.is_none() { 1.0 } else { 0.0 },
        if fare.is_none() { 1.0 } else { 0.0 },
    ];
    let title = text(&p.name).map(|n| {
        if n.contains("Mrs") {
            "Mrs"
        } else if n.contains("Mr") {
            "Mr"
        } else if n.contains("Miss") {
            "Miss"
        } else if n.contains("Master") {
            "Master"
        } else {
            "Other"
        }
        .to_string()
    });
    let values = [
        text(&p.sex).map(|s| s.trim().to_lowercase()),
        text(&p.cabin).map(|c| {
            c.split_whitespace()
                .next()
                .unwrap()
                .chars()
                .next()
                .unwrap()
                .to_string()
        }),
        text(&p.embarked).map(|e| e.trim().to_uppercase()),
        title,
    ];
    for (var, value) in values.into_iter().enumerate() {
        let mut v = value.unwrap_or_else(|| "Missing".into());
        if var == 1 {
            v = v.chars().next().unwrap().to_string();
        }
        let kept = pl["rare_label_encoder"]["frequent"][var]["labels"]
            .as_array()
            .unwrap();
        if !kept.iter().any(|k| k == &Value::String(v.clone())) {
            v = "Rare".into();
        }
        let cats = pl["one_hot_encoder"]["categories"][var]["labels"]
            .as_array()
            .unwrap();
        for c in &cats[..cats.len() - 1] {
            x.push(if c == &Value::String(v.clone()) {
                1.0
            } else {
                0.0
            });
        }
    }
    // the derived columns (docs/PIPELINE.md, "Derived features")
    let family = num(&p.sibsp).unwrap() + num(&p.parch).unwrap() + 1.0;
    let female = text(&p.sex).is_some_and(|s| s.trim().eq_ignore_ascii_case("female"));
    let flag = |b: bool| if b { 1.0 } else { 0.0 };
    if on("fare_per_person") {
        x.push((imputed_fare / family).ln_1p());
    }
    if on("family_group") {
        x.extend([flag(family == 1.0), flag(family >= 5.0)]);
    }
    if on("sex_class") {
        let class = num(&p.pclass).unwrap();
        x.extend([1.0, 2.0, 3.0].map(|c| flag(female && class == c)));
    }
    if on("child") {
        x.push(flag(age.is_some_and(|a| a < 14.0)));
    }
    let mean = pl["scaler"]["mean"].as_array().unwrap();
    let scale = pl["scaler"]["scale"].as_array().unwrap();
    let coef = pl["classifier"]["coefficients"].as_array().unwrap();
    assert_eq!(x.len(), coef.len());
    let z: f64 = pl["classifier"]["intercept"].as_f64().unwrap()
        + x.iter()
            .enumerate()
            .map(|(j, v)| {
                coef[j].as_f64().unwrap()
                    * ((v - mean[j].as_f64().unwrap()) * scale[j].as_f64().unwrap())
            })
            .sum::<f64>();
    1.0 / (1.0 + (-z).exp())
}

fn artifact_json() -> Value {
    serde_json::from_str(&Model::embedded().unwrap().artifact().to_json().unwrap()).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_passengers_never_panic_and_errors_name_row_and_field(batch in prop::collection::vec(any_passenger(), 1..8)) {
        match make_prediction(&batch) {
            Ok(result) => {
                prop_assert_eq!(result.probabilities.len(), batch.len());
                for p in &result.probabilities {
                    prop_assert!((0.0..=1.0).contains(p));
                }
            }
            Err(e) => {
                let errors = e.field_errors().expect("only validation errors");
                prop_assert!(!errors.is_empty());
                for fe in errors {
                    prop_assert!(fe.row < batch.len());
                    prop_assert!(FIELDS.iter().any(|f| f.name == fe.field), "{}", fe.field);
                    prop_assert!(!fe.message.is_empty());
                }
            }
        }
    }

    #[test]
    fn valid_passengers_agree_with_an_independent_computation(batch in prop::collection::vec(valid_passenger(), 1..8)) {
        let artifact = artifact_json();
        let result = make_prediction(&batch).expect("valid input");
        for (p, got) in batch.iter().zip(&result.probabilities) {
            let expected = independent_probability(&artifact, p);
            prop_assert!((0.0..=1.0).contains(got));
            prop_assert!((got - expected).abs() < 1e-12, "{} vs {}", got, expected);
        }
        for (pred, p) in result.predictions.iter().zip(&result.probabilities) {
            prop_assert_eq!(*pred, u8::from(*p > 0.5));
        }
    }

    #[test]
    fn one_bad_field_is_reported_with_its_row(
        batch in prop::collection::vec(valid_passenger(), 1..6),
        row_seed in any::<prop::sample::Index>(),
        bad in prop::sample::select(vec![
            ("pclass", FieldValue::Number(4.0)),
            ("sex", FieldValue::from("unknown")),
            ("age", FieldValue::Number(-1.0)),
            ("age", FieldValue::from("NaN")),
            ("sibsp", FieldValue::Number(0.5)),
            ("parch", FieldValue::Missing),
            ("fare", FieldValue::Number(f64::INFINITY)),
            ("embarked", FieldValue::from("X")),
            ("cabin", FieldValue::Invalid("an array")),
            ("name", FieldValue::Invalid("a boolean")),
        ]),
    ) {
        let mut batch = batch;
        let row = row_seed.index(batch.len());
        let (field, value) = bad;
        let p = &mut batch[row];
        match field {
            "pclass" => p.pclass = value,
            "sex" => p.sex = value,
            "age" => p.age = value,
            "sibsp" => p.sibsp = value,
            "parch" => p.parch = value,
            "fare" => p.fare = value,
            "embarked" => p.embarked = value,
            "cabin" => p.cabin = value,
            _ => p.name = value,
        }
        let err = make_prediction(&batch).unwrap_err();
        let errors = err.field_errors().unwrap();
        prop_assert_eq!(errors.len(), 1);
        prop_assert_eq!(errors[0].row, row);
        prop_assert_eq!(errors[0].field.as_str(), field);
    }

    #[test]
    fn arbitrary_json_records_never_panic(json in record_json()) {
        match serde_json::from_str::<Passenger>(&json) {
            Ok(p) => match make_prediction(&[p]) {
                Ok(r) => prop_assert!((0.0..=1.0).contains(&r.probabilities[0])),
                Err(e) => {
                    let errors = e.field_errors().unwrap();
                    prop_assert!(!errors.is_empty());
                    let names: Vec<&str> = classification_model::schema::column_names().collect();
                    prop_assert!(errors.iter().all(|e| names.contains(&e.field.as_str())));
                }
            },
            Err(_) => {
                let (_field, message) = classification_model::schema::explain_json_record(&json);
                prop_assert!(!message.is_empty());
            }
        }
    }
}

/// A JSON record: each dataset column present or not, its value mostly one
/// the field accepts and sometimes any JSON (so most records reach scoring
/// and the rest test every refusal), now and then an unknown key.
fn record_json() -> impl Strategy<Value = String> {
    let junk = || {
        prop::sample::select(vec![
            "null", "true", "[]", "{}", "-1", "1e5", "\"\"", "\"?\"", "\"x\"", "2.5", "\"1,5\"",
        ])
        .prop_map(str::to_owned)
    };
    let field = |good: BoxedStrategy<String>, present: f64| {
        prop::option::weighted(present, prop_oneof![24 => good, 1 => junk()])
    };
    let quoted = |re: &'static str| re.prop_map(|s: String| format!("{s:?}")).boxed();
    let number = |re: &'static str| re.prop_map(|s: String| s).boxed();
    (
        (
            field(prop_oneof![number("[123]"), quoted("[123]")].boxed(), 0.97),
            field(
                quoted("[A-Za-z ,.]{0,20}(Mr|Mrs|Miss|Master)?\\.? ?[A-Za-z]{0,8}"),
                0.7,
            ),
            field(quoted("(male|female|MALE|Female| male )"), 0.97),
            field(
                prop_oneof![number("[0-9]{1,2}(\\.[05])?"), quoted(" ?[0-9]{1,2} ?")].boxed(),
                0.7,
            ),
            field(number("[0-8]"), 0.97),
            field(prop_oneof![number("[0-6]"), quoted("[0-6]")].boxed(), 0.97),
        ),
        (
            field(number("[0-9]{1,3}(\\.[0-9]{1,4})?"), 0.7),
            field(quoted("[A-G][0-9]{1,3}( [A-G][0-9]{1,3})?"), 0.4),
            field(quoted("[CQScqs]"), 0.7),
            prop::option::weighted(0.3, quoted("[0-9]{3,6}")),
            prop::option::weighted(0.05, ("[a-z]{1,6}", junk())),
        ),
    )
        .prop_map(
            |((pclass, name, sex, age, sibsp, parch), (fare, cabin, embarked, ticket, other))| {
                let mut parts = Vec::new();
                for (key, value) in [
                    ("pclass", pclass),
                    ("name", name),
                    ("sex", sex),
                    ("age", age),
                    ("sibsp", sibsp),
                    ("parch", parch),
                    ("fare", fare),
                    ("cabin", cabin),
                    ("embarked", embarked),
                    ("ticket", ticket),
                ] {
                    if let Some(value) = value {
                        parts.push(format!("\"{key}\": {value}"));
                    }
                }
                if let Some((key, value)) = other {
                    parts.push(format!("\"{key}\": {value}"));
                }
                format!("{{{}}}", parts.join(", "))
            },
        )
}

/// The records above reach scoring most of the time, so the property is
/// about scoring, not only about refusals.
#[test]
fn most_arbitrary_records_reach_scoring() {
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let strategy = record_json();
    let (mut scored, n) = (0, 400);
    for _ in 0..n {
        let json = strategy.new_tree(&mut runner).unwrap().current();
        let scores = serde_json::from_str::<Passenger>(&json)
            .ok()
            .is_some_and(|p| make_prediction(&[p]).is_ok());
        scored += usize::from(scores);
    }
    assert!(
        scored * 2 > n,
        "only {scored} of {n} records reached scoring"
    );
}

/// Text in the shapes the rules talk about: signs, zeros, points, exponents,
/// padding, markers, words.
fn text_value() -> impl Strategy<Value = String> {
    prop_oneof![
        "[ \t]{0,2}[+-]?[0-9]{0,4}(\\.[0-9]{0,3})?([eE][0-9])?[ \t]{0,2}",
        "[ \t]{0,2}[+-]?0{0,3}(1[0-2][0-9]|2[01]|[0-9])(\\.0{0,2}[0-9]?)?[ \t]{0,2}",
        prop::sample::select(vec![
            "",
            "?",
            " ? ",
            "male",
            " FEMALE\t",
            "mal",
            "C",
            "q",
            "s ",
            "X",
            "inf",
            "NaN",
            "-0",
            "-.0",
            "+.5",
            ".",
            "1,5",
            "0x1",
            "١",
            "\u{a0}1",
        ])
        .prop_map(String::from),
        ".{0,6}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// The JSON Schema's string patterns accept exactly the text the
    /// validator accepts, field by field.
    #[test]
    fn schema_patterns_agree_with_the_validator(text in text_value()) {
        for field in &FIELDS {
            let schema = classification_model::schema::field_schema(field);
            let pattern = schema["anyOf"]
                .as_array()
                .unwrap()
                .iter()
                .find_map(|s| s["pattern"].as_str());
            let accepted = field.check(&FieldValue::Text(text.clone())).is_ok();
            match pattern {
                Some(p) => {
                    let matched = regex_lite::Regex::new(p).unwrap().is_match(&text);
                    prop_assert_eq!(matched, accepted, "{} {:?} {}", field.name, text, p);
                }
                // free text: any string
                None => prop_assert!(accepted),
            }
        }
    }

    /// A JSON number and the same number as a JSON string read alike.
    #[test]
    fn numbers_and_their_text_read_alike(n in prop_oneof![-2.0f64..130.0, (-2i64..130).prop_map(|i| i as f64)]) {
        for field in &FIELDS {
            let (number, text) = (FieldValue::Number(n), FieldValue::Text(n.to_string()));
            let (as_number, as_text) = (field.check(&number), field.check(&text));
            if !matches!(field.kind, classification_model::schema::Kind::Text) {
                prop_assert_eq!(as_number.is_ok(), as_text.is_ok(), "{} {}", field.name, n);
                if let (Ok(a), Ok(b)) = (as_number, as_text) {
                    prop_assert_eq!(a, b);
                }
            }
        }
    }
}
