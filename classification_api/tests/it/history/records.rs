//! Stored predictions: ids, names minimised, explanations, CSV export.

use super::*;

#[test]
fn predictions_are_stored_with_ids_and_the_title_instead_of_the_name() {
    for db in databases("stored") {
        let server = Server::start(&db.env());
        let raw = format!(
            "POST /predict HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nX-Request-Id: req-42\r\nContent-Length: {len}\r\n\r\n{body}",
            body = json!({"inputs": [record(Some("mine-1")), record(None)]}),
            len = json!({"inputs": [record(Some("mine-1")), record(None)]})
                .to_string()
                .len(),
        );
        let r = crate::common::send(server.addr, raw.as_bytes());
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.header("x-request-id"), Some("req-42"));
        let ids: Vec<String> = serde_json::from_value(r.json()["ids"].clone()).unwrap();
        assert_eq!(ids[0], "mine-1");
        assert_eq!(ids[1].len(), 36, "a UUID: {}", ids[1]);
        // every response carries a request id
        assert!(server.get("/health").header("x-request-id").is_some());

        let item = server.get("/history/mine-1").json();
        assert_eq!(item["request_id"], "req-42");
        assert_eq!(item["inputs"]["name"], "Mr", "only the title is stored");
        assert_eq!(item["inputs"]["pclass"], 3);
        assert_eq!(item["inputs"]["cabin"], Value::Null);
        assert_eq!(item["probability"], r.json()["probabilities"][0]);
        assert_eq!(item["survived"], Value::Null);
        // the explanation, recomputed from the stored inputs, is the served
        // one (the stored count below counts this record too)
        let explained = predict_explained(&server, vec![record(None)]);
        assert_eq!(item["explanation"], explained["explanations"][0]);
        assert_eq!(server.get("/history/nope").status, 404);

        // a taken id: 409, and nothing of that request is stored
        let r = predict(&server, vec![record(Some("fresh")), record(Some("mine-1"))]);
        assert_eq!(r.status, 409, "{}", r.body);
        assert_eq!(r.json()["errors"][0]["row"], 1);
        assert_eq!(r.json()["errors"][0]["field"], "id");
        assert_eq!(server.get("/history/fresh").status, 404);
        // a bad id: 422; an id repeated in one request: 409; each naming the row
        let r = predict(
            &server,
            vec![record(Some("a")), record(Some("a")), record(Some(""))],
        );
        assert_eq!(r.status, 422, "{}", r.body);
        assert_eq!(r.json()["errors"][0]["row"], 2);
        let r = predict(&server, vec![record(Some("a")), record(Some("a"))]);
        assert_eq!(r.status, 409, "{}", r.body);
        assert_eq!(r.json()["errors"][0]["row"], 1);

        // pages: newest first, no overlap, all of them
        for chunk in 0..5 {
            let records = (0..50)
                .map(|i| record(Some(&format!("p{chunk}-{i:02}"))))
                .collect();
            assert_eq!(predict(&server, records).status, 200);
        }
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let path = match &cursor {
                None => "/history?limit=100".to_owned(),
                Some(c) => format!("/history?limit=100&cursor={c}"),
            };
            let page = server.get(&path).json();
            for item in page["items"].as_array().unwrap() {
                seen.push((
                    item["time"].as_str().unwrap().to_owned(),
                    item["id"].as_str().unwrap().to_owned(),
                ));
            }
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => break,
            }
        }
        assert_eq!(seen.len(), 253);
        let mut sorted = seen.clone();
        sorted.sort_by(|a, b| b.cmp(a));
        assert_eq!(seen, sorted, "newest first");
        assert_eq!(seen.iter().map(|s| &s.1).collect::<HashSet<_>>().len(), 253);
        let none = server.get("/history?has_feedback=true").json();
        assert_eq!(none["items"].as_array().unwrap().len(), 0);
        assert_eq!(server.get("/history?limit=0").status, 400);
        assert_eq!(
            server.get("/history?since=yesterday").json()["errors"][0]["field"],
            "since"
        );

        // the CSV export: the dataset's columns and what was served
        let raw =
            "GET /history HTTP/1.1\r\nHost: x\r\nAccept: text/csv\r\nConnection: close\r\n\r\n";
        let csv = crate::common::send(server.addr, raw.as_bytes());
        assert_eq!(csv.status, 200);
        let mut lines = csv.body.lines();
        assert_eq!(
            lines.next().unwrap(),
            "id,time,version,pclass,name,sex,age,sibsp,parch,fare,cabin,embarked,probability,prediction,survived"
        );
        assert_eq!(lines.count(), 253);
        assert!(csv.body.contains("mine-1,"));

        // HISTORY_KEEP_NAMES=true keeps them
        drop(server);
        let server = Server::start(&db.with(&[("HISTORY_KEEP_NAMES", "true")]));
        assert_eq!(predict(&server, vec![record(Some("named"))]).status, 200);
        assert_eq!(
            server.get("/history/named").json()["inputs"]["name"],
            "Braund, Mr. Owen Harris"
        );
    }
}
