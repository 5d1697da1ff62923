//! The port against golden values from an independent reference
//! implementation (numpy + scikit-learn, Newton-solved to machine precision:
//! `tools/reference_pipeline.py`), on the committed dataset.

use approx::assert_abs_diff_eq;
use classification_model::{
    Model, PredictOptions, PredictionResult,
    artifact::{Artifact, FORMAT_REVISION, TrainingConfig},
    make_prediction, model_version,
    train::{read_dataset, train},
};
use serde_json::Value;

const DATA: &[u8] = include_bytes!("../datasets/titanic.csv");

fn reference() -> Value {
    serde_json::from_str(include_str!("golden/reference.json")).unwrap()
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_owned())
        .collect()
}

/// Every fitted parameter of `artifact` (read from its JSON) equals the
/// reference's `golden`.
fn assert_matches(artifact: &Artifact, golden: &Value) {
    let json: Value = serde_json::from_str(&artifact.to_json().unwrap()).unwrap();
    let p = &json["pipeline"];
    for (i, name) in ["age", "fare"].into_iter().enumerate() {
        let m = &p["median_imputer"]["medians"][i];
        assert_eq!(m["variable"], name);
        assert_abs_diff_eq!(
            m["value"].as_f64().unwrap(),
            golden["medians"][name].as_f64().unwrap(),
            epsilon = 1e-12
        );
    }
    for v in p["rare_label_encoder"]["frequent"].as_array().unwrap() {
        let variable = v["variable"].as_str().unwrap();
        assert_eq!(
            strings(&v["labels"]),
            strings(&golden["kept"][variable]),
            "kept labels of {variable}"
        );
    }
    for v in p["one_hot_encoder"]["categories"].as_array().unwrap() {
        let labels = strings(&v["labels"]);
        // the last category gets no column
        assert_eq!(
            labels[..labels.len() - 1],
            strings(&golden["onehot"][v["variable"].as_str().unwrap()])
        );
    }
    assert_eq!(
        strings(&p["scaler"]["columns"]),
        strings(&golden["columns"])
    );
    for (m, g) in floats(&p["scaler"]["mean"])
        .iter()
        .zip(floats(&golden["mean"]))
    {
        assert_abs_diff_eq!(*m, g, epsilon = 1e-12);
    }
    for (s, g) in floats(&p["scaler"]["scale"])
        .iter()
        .zip(floats(&golden["std"]))
    {
        assert_abs_diff_eq!(1.0 / s, g, epsilon = 1e-12);
    }
    let coefficients = floats(&golden["coefficients"]);
    let fitted = floats(&p["classifier"]["coefficients"]);
    assert_eq!(fitted.len(), coefficients.len());
    for (w, g) in fitted.iter().zip(coefficients) {
        assert_abs_diff_eq!(*w, g, epsilon = 1e-12);
    }
    assert_abs_diff_eq!(
        p["classifier"]["intercept"].as_f64().unwrap(),
        golden["intercept"].as_f64().unwrap(),
        epsilon = 1e-12
    );
    assert!(
        p["classifier"]["gradient_max_abs"].as_f64().unwrap() < 1e-12,
        "not at the optimum"
    );
}

fn assert_probabilities(model: &Model, golden: &Value) {
    let data = read_dataset(DATA).unwrap();
    let result = model.predict(data.passengers()).unwrap();
    let expected = floats(&golden["probabilities"]);
    assert_eq!(result.len(), 1309);
    for (row, (p, e)) in result.iter().zip(&expected).enumerate() {
        assert_abs_diff_eq!(p.probability, *e, epsilon = 1e-12);
        assert_eq!(p.label, u8::from(*e > 0.5), "row {row}");
        assert!(p.explanation.is_none());
    }
}

/// The tuned preset's configuration (`cargo xtask tune`).
fn tuned() -> TrainingConfig {
    let preset: Value = serde_json::from_str(include_str!("../presets/tuned.json")).unwrap();
    serde_json::from_value(preset["config"].clone()).unwrap()
}

#[test]
fn the_course_preset_reproduces_the_reference_split_model() {
    let golden = &reference()["split"];
    let version = semver::Version::parse(model_version()).unwrap();
    let model =
        Model::from_artifact(train(DATA, &TrainingConfig::default(), &version).unwrap()).unwrap();
    let model = &model;
    let artifact = model.artifact();
    assert_eq!(artifact.training_data().train_rows, 1047);
    assert_eq!(artifact.training_data().test_rows, 262);
    assert_matches(artifact, golden);
    assert_probabilities(model, golden);
    let m = artifact.metrics();
    let test = m.test.unwrap();
    assert_abs_diff_eq!(
        m.train.roc_auc,
        golden["train_roc_auc"].as_f64().unwrap(),
        epsilon = 1e-12
    );
    assert_abs_diff_eq!(
        m.train.accuracy,
        golden["train_accuracy"].as_f64().unwrap(),
        epsilon = 1e-12
    );
    assert_abs_diff_eq!(
        test.roc_auc,
        golden["test_roc_auc"].as_f64().unwrap(),
        epsilon = 1e-12
    );
    assert_abs_diff_eq!(
        test.accuracy,
        golden["test_accuracy"].as_f64().unwrap(),
        epsilon = 1e-12
    );
}

#[test]
fn make_prediction_scores_with_the_embedded_tuned_model() {
    let data = read_dataset(DATA).unwrap();
    let result = make_prediction(data.passengers()).unwrap();
    let version = semver::Version::parse(model_version()).unwrap();
    let tuned = Model::from_artifact(train(DATA, &tuned(), &version).unwrap()).unwrap();
    assert_eq!(
        result,
        PredictionResult::new(&tuned.predict(data.passengers()).unwrap(), tuned.version())
    );
    assert_eq!(result.version, model_version());
    // not the course's model
    let course = floats(&reference()["split"]["probabilities"]);
    assert!(
        result
            .probabilities
            .iter()
            .zip(&course)
            .any(|(p, c)| (p - c).abs() > 0.01)
    );
}

#[test]
fn fitting_on_all_rows_reproduces_the_reference_full_model() {
    let golden = &reference()["full"];
    let config = TrainingConfig {
        test_size: 0.0,
        ..TrainingConfig::default()
    };
    let version = semver::Version::parse(model_version()).unwrap();
    let artifact = train(DATA, &config, &version).unwrap();
    assert_eq!(artifact.training_data().train_rows, 1309);
    assert!(artifact.metrics().test.is_none());
    // docs/PIPELINE.md, "Reference figures"
    assert_eq!(
        artifact.summary().columns[7..]
            .iter()
            .map(|c| c.column.as_str())
            .collect::<Vec<_>>(),
        [
            "sex_female",
            "cabin_Rare",
            "cabin_C",
            "embarked_S",
            "embarked_C",
            "embarked_Rare",
            "title_Miss",
            "title_Rare",
            "title_Mr"
        ]
    );
    assert_matches(&artifact, golden);
    assert_probabilities(&Model::from_artifact(artifact).unwrap(), golden);
}

#[test]
fn training_is_deterministic_and_the_committed_artifact_is_fresh() {
    let version = semver::Version::parse(model_version()).unwrap();
    let a = train(DATA, &tuned(), &version).unwrap().to_json().unwrap();
    let b = train(DATA, &tuned(), &version).unwrap().to_json().unwrap();
    assert_eq!(a, b);
    let committed = std::fs::read_to_string(format!(
        "{}/trained_models/{}",
        env!("CARGO_MANIFEST_DIR"),
        classification_model::artifact::artifact_file_name(model_version())
    ))
    .unwrap();
    assert_eq!(a, committed, "run `cargo xtask train` (the tuned preset)");
    // and it reads back to the same artifact
    assert_eq!(Artifact::from_json(&a).unwrap().to_json().unwrap(), a);
}

#[test]
fn faulty_artifacts_fail_to_load_with_a_clear_error() {
    let good = Model::embedded().unwrap().artifact().to_json().unwrap();
    let truncated = &good[..good.len() / 2];
    let e = Model::from_json(truncated).unwrap_err().to_string();
    assert!(e.contains("corrupt or truncated"), "{e}");

    let revision = good.replacen(
        &format!("\"format_revision\": {FORMAT_REVISION}"),
        "\"format_revision\": 99",
        1,
    );
    let e = Model::from_json(&revision).unwrap_err().to_string();
    assert!(e.contains("format revision 99"), "{e}");

    // drift shares that do not match the bins
    let mut json: Value = serde_json::from_str(&good).unwrap();
    json["drift"]["features"][0]["shares"]
        .as_array_mut()
        .unwrap()
        .pop();
    let e = Model::from_json(&json.to_string()).unwrap_err().to_string();
    assert!(e.contains("drift bins of pclass"), "{e}");

    let other_version = good.replacen(
        &format!("\"model_version\": \"{}\"", model_version()),
        "\"model_version\": \"9.9.9\"",
        1,
    );
    // another version scores exactly as the one it was copied from
    let other = Model::from_json(&other_version).unwrap();
    assert_eq!(other.version(), "9.9.9");
    let not_semver = good.replacen(
        &format!("\"model_version\": \"{}\"", model_version()),
        "\"model_version\": \"nine\"",
        1,
    );
    let e = Model::from_json(&not_semver).unwrap_err().to_string();
    assert!(e.contains("nine"), "{e}");

    let mut json: Value = serde_json::from_str(&good).unwrap();
    let coefficients = json["pipeline"]["classifier"]["coefficients"]
        .as_array_mut()
        .unwrap();
    coefficients.pop();
    let e = Model::from_json(&json.to_string()).unwrap_err().to_string();
    assert!(e.contains("inconsistent"), "{e}");
    // serde alone cannot make an inconsistent artifact either
    let e = serde_json::from_value::<Artifact>(json)
        .unwrap_err()
        .to_string();
    assert!(e.contains("inconsistent"), "{e}");

    // derived features: the pipeline's switches must be its configuration's,
    // and its columns must be the ones they add
    let json: Value = serde_json::from_str(&good).unwrap();
    assert_eq!(
        json["pipeline"]["derived"], json["config"]["pipeline"]["derived"],
        "the embedded model has derived features"
    );
    let refused = |edit: &dyn Fn(&mut Value)| {
        let mut other = json.clone();
        edit(&mut other);
        Model::from_json(&other.to_string())
            .unwrap_err()
            .to_string()
    };
    let e = refused(&|a| a["config"]["pipeline"]["derived"]["child"] = true.into());
    assert!(e.contains("derived features"), "{e}");
    let e = refused(&|a| {
        a["pipeline"]["derived"]["child"] = true.into();
        a["config"]["pipeline"]["derived"]["child"] = true.into();
    });
    assert!(e.contains("inconsistent"), "{e}");
    refused(&|a| a["pipeline"]["derived"]["typo"] = true.into());

    let corrupted = good.replacen("\"scale\": [", "\"scale\": [\"x\", ", 1);
    assert!(Model::from_json(&corrupted).is_err());
    assert!(Model::load("/nonexistent/artifact.json").is_err());
}

#[test]
fn explanations_sum_to_the_log_odds_of_every_dataset_row() {
    let data = read_dataset(DATA).unwrap();
    let model = Model::embedded().unwrap();
    let options = PredictOptions {
        explain: true,
        ..PredictOptions::default()
    };
    let predictions = model.predict_with(data.passengers(), &options).unwrap();
    let result = PredictionResult::new(&predictions, model.version());
    assert_eq!(result, make_prediction(data.passengers()).unwrap());
    let intercept = model.artifact().summary().intercept;
    for prediction in &predictions {
        let (p, e) = (
            &prediction.probability,
            prediction.explanation.as_ref().unwrap(),
        );
        assert_eq!(e.baseline, intercept);
        assert_eq!(e.contributions.len(), 9);
        // the served probability is the logistic of exactly this sum
        let log_odds = e.baseline + e.contributions.values().sum::<f64>();
        assert_eq!(*p, 1.0 / (1.0 + (-log_odds).exp()));
        assert_abs_diff_eq!(e.log_odds(), (p / (1.0 - p)).ln(), epsilon = 1e-9);
    }
}
