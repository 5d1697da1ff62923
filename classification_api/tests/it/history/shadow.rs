//! Shadow mode: both probabilities stored, agreement reported.

use super::*;

#[test]
fn shadow_mode_stores_both_probabilities_and_reports_agreement() {
    let dir = temp_dir("shadow-models");
    let shadow = crate::common::artifact("9.2.0", 3);
    crate::common::install_artifact(&dir, "9.2.0", &shadow);
    let rows: Vec<Value> = crate::common::dataset_json_rows()
        .into_iter()
        .take(200)
        .map(Value::Object)
        .collect();
    let passengers: Vec<classification_model::Passenger> =
        serde_json::from_value(Value::Array(rows.clone())).unwrap();
    let served = classification_model::make_prediction(&passengers).unwrap();
    let shadow_model = classification_model::Model::from_json(&shadow).unwrap();
    let shadowed = classification_model::PredictionResult::new(
        &shadow_model.predict(&passengers).unwrap(),
        shadow_model.version(),
    );
    let agree = served
        .predictions
        .iter()
        .zip(&shadowed.predictions)
        .filter(|(a, b)| a == b)
        .count();
    let differences: Vec<f64> = served
        .probabilities
        .iter()
        .zip(&shadowed.probabilities)
        .map(|(a, b)| (a - b).abs())
        .collect();
    for db in databases("shadow") {
        let mut env = db.env();
        env.extend([
            ("MODELS_DIR", dir.to_str().unwrap()),
            ("SHADOW_MODEL_VERSION", "9.2.0"),
        ]);
        let server = Server::start(&env);
        // two requests; the shadow scores them after they are answered
        let first = predict(&server, rows[..150].to_vec());
        assert_eq!(first.status, 200, "{}", first.body);
        assert_eq!(
            first.json()["version"],
            classification_model::model_version()
        );
        assert_eq!(first.floats("probabilities"), served.probabilities[..150]);
        assert_eq!(predict(&server, rows[150..].to_vec()).status, 200);
        // a request for the shadow's own version is not shadowed
        let own = server.post(
            "/predict?version=9.2.0",
            "application/json",
            &json!({"inputs": [rows[0]]}).to_string(),
        );
        assert_eq!(own.floats("probabilities"), shadowed.probabilities[..1]);
        let mut report = Value::Null;
        crate::common::eventually("the shadow's 200 records", || {
            report = server.get("/monitoring").json();
            report["shadow"][0]["records"] == 200
        });
        let s = &report["shadow"][0];
        assert_eq!(s["version"], "9.2.0");
        approx::assert_relative_eq!(
            s["agreement"].as_f64().unwrap(),
            agree as f64 / 200.0,
            max_relative = 1e-12
        );
        approx::assert_relative_eq!(
            s["mean_abs_difference"].as_f64().unwrap(),
            differences.iter().sum::<f64>() / 200.0,
            max_relative = 1e-9
        );
        approx::assert_relative_eq!(
            s["max_abs_difference"].as_f64().unwrap(),
            differences.iter().cloned().fold(0.0, f64::max),
            max_relative = 1e-12
        );
        // the 9.2.0 request's own report has no shadow
        let own = server.get("/monitoring?version=9.2.0").json();
        assert_eq!(own["count"], 1);
        assert_eq!(own["shadow"], json!([]));
        // stored beside the served record
        let id = first.json()["ids"][7].as_str().unwrap().to_owned();
        let rt = tokio::runtime::Runtime::new().unwrap();
        let (p, version): (f64, String) = rt.block_on(async {
            sqlx::query_as(&format!(
                "SELECT shadow_probability, shadow_version FROM shadow_predictions WHERE id = '{id}'"
            ))
            .fetch_one(&db.pool().await)
            .await
            .unwrap()
        });
        assert_eq!((p, version.as_str()), (shadowed.probabilities[7], "9.2.0"));
        let metrics = server.get("/metrics").body;
        for line in [
            "shadow_records_total 200".to_owned(),
            format!("shadow_agreements_total {agree}"),
            "shadow_dropped_total 0".to_owned(),
            r#"model_versions_loaded{version="9.2.0",role="shadow"} 1"#.to_owned(),
        ] {
            assert!(metrics.contains(&line), "{line} not in {metrics}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
