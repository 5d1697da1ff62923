//! Feedback and the monitoring it feeds: live metrics, gauges.

use super::*;

#[test]
fn feedback_gives_live_metrics_equal_to_those_of_the_responses() {
    let data = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../classification_model/datasets/titanic.csv"
    ))
    .unwrap();
    let labels: Vec<u8> = csv::Reader::from_reader(data.as_bytes())
        .deserialize::<std::collections::HashMap<String, String>>()
        .map(|r| r.unwrap()["survived"].parse().unwrap())
        .collect();
    for db in databases("feedback") {
        let server = Server::start(&db.with(&[("MONITORING_REFRESH_SECS", "1")]));
        let r = server.post("/predict", "text/csv", &data);
        assert_eq!(r.status, 200);
        let ids: Vec<String> = serde_json::from_value(r.json()["ids"].clone()).unwrap();
        let probabilities = r.floats("probabilities");
        assert_eq!(ids.len(), 1309);

        // all or nothing: one unknown id and one bad value refuse them all
        let mut items: Vec<Value> = ids
            .iter()
            .zip(&labels)
            .map(|(id, y)| json!({"id": id, "survived": y}))
            .collect();
        let mut bad = items.clone();
        bad.push(json!({"id": "unknown", "survived": 1}));
        bad.push(json!({"id": ids[0], "survived": 1 - labels[0]}));
        let r = server.post(
            "/feedback",
            "application/json",
            &json!({"feedback": bad}).to_string(),
        );
        assert_eq!(r.status, 422, "{}", r.body);
        let errors = r.json()["errors"].as_array().unwrap().clone();
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert_eq!(errors[0]["row"], 1309);
        assert_eq!(errors[1]["field"], "survived");
        assert_eq!(
            server.get("/history?has_feedback=true").json()["items"]
                .as_array()
                .unwrap()
                .len(),
            0
        );

        let r = server.post(
            "/feedback",
            "application/json",
            &json!({"feedback": items}).to_string(),
        );
        assert_eq!(r.status, 200, "{}", r.body);
        // the same again is accepted; another value is a conflict
        items.truncate(3);
        let r = server.post(
            "/feedback",
            "application/json",
            &json!({"feedback": items}).to_string(),
        );
        assert_eq!(r.status, 200);
        let flipped = json!({"feedback": [{"id": ids[0], "survived": 1 - labels[0]}]});
        assert_eq!(
            server
                .post("/feedback", "application/json", &flipped.to_string())
                .status,
            422
        );
        assert_eq!(
            server.get(&format!("/history/{}", ids[0])).json()["survived"],
            labels[0]
        );

        let m = server.get("/monitoring").json();
        assert_eq!(m["count"], 1309);
        let live = &m["live"];
        assert_eq!(live["rows"], 1309);
        let auc = classification_model::metrics::roc_auc(&labels, &probabilities);
        let accuracy = classification_model::metrics::accuracy(&labels, &probabilities);
        approx::assert_abs_diff_eq!(live["roc_auc"].as_f64().unwrap(), auc, epsilon = 1e-12);
        approx::assert_abs_diff_eq!(
            live["accuracy"].as_f64().unwrap(),
            accuracy,
            epsilon = 1e-12
        );
        assert!(
            m["drift"]
                .as_array()
                .unwrap()
                .iter()
                .all(|f| f["drifted"] == false),
            "{m}"
        );
        let histogram: u64 = m["probability_histogram"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["count"].as_u64().unwrap())
            .sum();
        assert_eq!(histogram, 1309);
        // the timeline covers every record, and its positive rates the served one
        let timeline = &m["timeline"];
        let buckets = timeline["buckets"].as_array().unwrap();
        assert!(timeline["bucket_seconds"].as_u64().unwrap() >= 1);
        assert!(!buckets.is_empty() && buckets.len() <= 60, "{timeline}");
        let counted: u64 = buckets.iter().map(|b| b["count"].as_u64().unwrap()).sum();
        assert_eq!(counted, 1309);
        let positives: f64 = buckets
            .iter()
            .map(|b| b["count"].as_f64().unwrap() * b["positive_rate"].as_f64().unwrap())
            .sum();
        approx::assert_abs_diff_eq!(
            positives / 1309.0,
            m["positive_rate"].as_f64().unwrap(),
            epsilon = 1e-12
        );
        assert_eq!(
            server.get("/monitoring?until=2000-01-01T00:00:00Z").json()["timeline"],
            json!({"bucket_seconds": 0, "buckets": []})
        );
        assert_eq!(
            server.get("/monitoring?until=2000-01-01T00:00:00Z").json()["count"],
            0
        );
        assert_eq!(server.get("/monitoring?version=9.9.9").status, 400);

        // drift: only first-class women, watched on their own
        // a `since` after every record so far: the clock has moved on
        let last = time::OffsetDateTime::now_utc();
        crate::common::eventually("the clock ticks", || time::OffsetDateTime::now_utc() > last);
        let since = time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap();
        let women: Vec<Value> = (0..200)
            .map(|_| json!({"pclass": 1, "sex": "female", "age": 30, "sibsp": 0, "parch": 0}))
            .collect();
        assert_eq!(predict(&server, women).status, 200);
        let m = server.get(&format!("/monitoring?since={since}")).json();
        assert_eq!(m["count"], 200);
        let sex = m["drift"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["feature"] == "sex")
            .unwrap();
        assert_eq!(sex["drifted"], true, "{sex}");

        // the same figures as gauges
        let mut metrics = String::new();
        crate::common::eventually("the monitoring gauges", || {
            metrics = server.get("/metrics").body;
            metrics.contains(r#"monitoring{figure="records"} 1509"#)
        });
        assert!(
            metrics.contains(r#"monitoring{figure="feedback_rows"} 1309"#),
            "{metrics}"
        );
        assert!(metrics.contains(r#"monitoring_psi{feature="sex"}"#));
        assert!(metrics.contains("history_store_up 1"));
    }
}
