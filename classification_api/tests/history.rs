//! The prediction history, feedback and monitoring, against the real server
//! binary: on SQLite always, and on PostgreSQL when `TEST_DATABASE_URL` is
//! set (each test in its own schema, so tests run in parallel).

mod common;

use std::collections::HashSet;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Process, Server, temp_dir};
use serde_json::{Value, json};

/// Where a test's history lives.
struct Db {
    /// The server's environment for it.
    env: Vec<(String, String)>,
    /// A connection URL for checks made directly on the database.
    url: String,
    postgres: bool,
    _dir: Option<std::path::PathBuf>,
}

impl Db {
    fn env(&self) -> Vec<(&str, &str)> {
        self.env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    }

    fn with(&self, extra: &[(&'static str, &'static str)]) -> Vec<(&str, &str)> {
        let mut env = self.env();
        env.extend_from_slice(extra);
        env
    }

    async fn pool(&self) -> sqlx::AnyPool {
        sqlx::any::install_default_drivers();
        sqlx::AnyPool::connect(&self.url).await.unwrap()
    }

    /// How many of `ids` are stored.
    fn count_stored(&self, ids: &[String]) -> usize {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            let pool = self.pool().await;
            let mut found = 0;
            for chunk in ids.chunks(500) {
                let list = chunk
                    .iter()
                    .map(|id| format!("'{}'", id.replace('\'', "''")))
                    .collect::<Vec<_>>()
                    .join(",");
                let n: i64 = sqlx::query_scalar(&format!(
                    "SELECT COUNT(*) FROM predictions WHERE id IN ({list})"
                ))
                .fetch_one(&pool)
                .await
                .unwrap();
                found += n as usize;
            }
            found
        })
    }
}

/// A fresh SQLite file, and a fresh PostgreSQL schema when
/// `TEST_DATABASE_URL` is set.
fn databases(test: &str) -> Vec<Db> {
    let dir = temp_dir(test);
    let path = dir.join("history.sqlite3");
    let mut dbs = vec![Db {
        env: vec![("HISTORY_PATH".into(), path.display().to_string())],
        url: format!("sqlite://{}", path.display()),
        postgres: false,
        _dir: Some(dir),
    }];
    if let Some(db) = postgres(test) {
        dbs.push(db);
    }
    dbs
}

/// A fresh schema in the `TEST_DATABASE_URL` database, or `None` (said on
/// stderr) when it is not set. Each test that gets one appends its tag to
/// the file `POSTGRES_TESTS_LOG` names, so that `.ci/run` can fail when a
/// PostgreSQL test did not run.
fn postgres(test: &str) -> Option<Db> {
    let Ok(base) = std::env::var("TEST_DATABASE_URL") else {
        eprintln!("{test}: PostgreSQL skipped (TEST_DATABASE_URL is not set)");
        return None;
    };
    if let Ok(log) = std::env::var("POSTGRES_TESTS_LOG") {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .unwrap_or_else(|e| panic!("POSTGRES_TESTS_LOG {log}: {e}"));
        writeln!(f, "{test}").unwrap();
    }
    // unique among this run's tests and any other run's on the same database
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let schema = format!(
        "t_{}_{}_{}_{}",
        test,
        std::process::id(),
        since_epoch.as_micros() % 1_000_000_000,
        N.fetch_add(1, Ordering::Relaxed)
    );
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        sqlx::any::install_default_drivers();
        let pool = sqlx::AnyPool::connect(&base)
            .await
            .unwrap_or_else(|e| panic!("TEST_DATABASE_URL is set but unreachable: {e}"));
        sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
            .execute(&pool)
            .await
            .unwrap();
        sqlx::query(&format!("CREATE SCHEMA {schema}"))
            .execute(&pool)
            .await
            .unwrap();
    });
    let sep = if base.contains('?') { '&' } else { '?' };
    let url = format!("{base}{sep}options=-c%20search_path%3D{schema}");
    Some(Db {
        env: vec![("DATABASE_URL".into(), url.clone())],
        url,
        postgres: true,
        _dir: None,
    })
}

fn record(id: Option<&str>) -> Value {
    let mut r = json!({"pclass": 3, "name": "Braund, Mr. Owen Harris", "sex": "male", "age": 22,
        "sibsp": 1, "parch": 0, "fare": 7.25, "embarked": "S"});
    if let Some(id) = id {
        r["id"] = id.into();
    }
    r
}

fn predict(server: &Server, records: Vec<Value>) -> common::Response {
    server.predict(&json!({ "inputs": records }).to_string())
}

fn predict_explained(server: &Server, records: Vec<Value>) -> Value {
    let r = server.post(
        "/predict?explain=true",
        "application/json",
        &json!({ "inputs": records }).to_string(),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()
}

/// Sends a request, or says why it could not be sent or answered.
fn try_send(addr: SocketAddr, raw: &[u8]) -> Option<common::Response> {
    let mut stream = TcpStream::connect(addr).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    stream.write_all(raw).ok()?;
    let mut data = Vec::new();
    stream.read_to_end(&mut data).ok()?;
    data.windows(4)
        .any(|w| w == b"\r\n\r\n")
        .then(|| common::parse(&data))
}

fn predict_raw(id: &str) -> Vec<u8> {
    let body = json!({ "inputs": [record(Some(id))] }).to_string();
    format!(
        "POST /predict HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Clients predicting one record at a time with their own ids until `stop`;
/// `answered` counts the 200s as they come, and the handle returns the ids
/// answered 200 and any other statuses seen.
struct Load {
    handle: std::thread::JoinHandle<(Vec<String>, Vec<u16>)>,
    answered: Arc<Mutex<Vec<String>>>,
}

impl Load {
    /// Waits until `n` more requests were answered 200 than when called.
    fn answers(&self, n: usize) {
        let from = self.answered.lock().unwrap().len();
        common::eventually(&format!("{n} answers under load"), || {
            self.answered.lock().unwrap().len() >= from + n
        });
    }

    fn join(self) -> std::thread::Result<(Vec<String>, Vec<u16>)> {
        self.handle.join()
    }
}

fn load(addrs: Vec<SocketAddr>, clients: usize, stop: Arc<AtomicBool>, tag: &'static str) -> Load {
    let ok = Arc::new(Mutex::new(Vec::new()));
    let answered = ok.clone();
    let handle = std::thread::spawn(move || {
        let other = Arc::new(Mutex::new(Vec::new()));
        let threads: Vec<_> = (0..clients)
            .map(|c| {
                let (stop, ok, other, addrs) =
                    (stop.clone(), ok.clone(), other.clone(), addrs.clone());
                std::thread::spawn(move || {
                    let mut n = 0;
                    while !stop.load(Ordering::Relaxed) {
                        let id = format!("{tag}-{c}-{n}");
                        n += 1;
                        match try_send(addrs[n % addrs.len()], &predict_raw(&id)) {
                            Some(r) if r.status == 200 => ok.lock().unwrap().push(id),
                            Some(r) => other.lock().unwrap().push(r.status),
                            // refused (the server is killed): back off, and go on
                            None => std::thread::yield_now(),
                        }
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let ok = ok.lock().unwrap().clone();
        let other = other.lock().unwrap().clone();
        (ok, other)
    });
    Load { handle, answered }
}

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
        let r = common::send(server.addr, raw.as_bytes());
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
        let csv = common::send(server.addr, raw.as_bytes());
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
        common::eventually("the clock ticks", || time::OffsetDateTime::now_utc() > last);
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
        common::eventually("the monitoring gauges", || {
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

#[test]
fn the_admin_endpoints_need_the_admin_key_when_one_is_set() {
    let db = &databases("access")[0];
    let server = Server::start(&db.with(&[
        ("ADMIN_API_KEY", "admin-key-0123456789"),
        ("API_KEY", "predict-key-0123456789"),
    ]));
    let get = |auth: &str| {
        common::send(
            server.addr,
            format!("GET /history HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{auth}\r\n")
                .as_bytes(),
        )
    };
    assert_eq!(get("").status, 401);
    assert_eq!(
        get("Authorization: Bearer predict-key-0123456789\r\n").status,
        401
    );
    assert_eq!(
        get("Authorization: Bearer admin-key-0123456789\r\n").status,
        200
    );

    // HISTORY=off: no history, no endpoints, no store
    let dir = temp_dir("off");
    let path = dir.join("h.sqlite3");
    let server = Server::start(&[("HISTORY", "off"), ("HISTORY_PATH", path.to_str().unwrap())]);
    let r = predict(&server, vec![record(None)]);
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["ids"].as_array().unwrap().len(), 1);
    assert_eq!(server.get("/history").status, 404);
    let spec = server.get("/openapi.json").json();
    assert!(
        spec["paths"]
            .as_object()
            .unwrap()
            .keys()
            .all(|p| !p.starts_with("/history"))
    );
    assert!(!path.exists());
}

#[test]
fn schemas_are_created_upgraded_and_newer_ones_refused() {
    for db in databases("schema") {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let dir = format!(
            "{}/migrations/{}",
            env!("CARGO_MANIFEST_DIR"),
            if db.postgres { "postgres" } else { "sqlite" }
        );
        // an older schema: only the first migration applied
        rt.block_on(async {
            if !db.postgres {
                let path = db.url.trim_start_matches("sqlite://");
                std::fs::File::create(path).unwrap();
            }
            let pool = db.pool().await;
            let mut migrator = sqlx::migrate::Migrator::new(std::path::Path::new(&dir)).await.unwrap();
            let first: Vec<_> = migrator.migrations.iter().take(1).cloned().collect();
            migrator.migrations = first.into();
            migrator.run(&pool).await.unwrap();
            let r = sqlx::query("INSERT INTO predictions (id, request_id, time_us, version, probability, prediction, bins) VALUES ('old', 'r', 1, '0.1.0', 0.5, 1, 0)")
                .execute(&pool)
                .await;
            r.unwrap();
        });
        let server = Server::start(&db.env());
        assert_eq!(predict(&server, vec![record(Some("new"))]).status, 200);
        assert_eq!(server.get("/history/old").json()["survived"], Value::Null);
        let fb = json!({"feedback": [{"id": "old", "survived": 1}]});
        assert_eq!(
            server
                .post("/feedback", "application/json", &fb.to_string())
                .status,
            200
        );
        drop(server);
        let versions: Vec<i64> = rt.block_on(async {
            sqlx::query_scalar("SELECT version FROM _sqlx_migrations ORDER BY version")
                .fetch_all(&db.pool().await)
                .await
                .unwrap()
        });
        assert_eq!(versions, [1, 2, 3]);
        // a schema from a newer build: refused with exit code 1
        rt.block_on(async {
            sqlx::query("INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) VALUES (99, 'future', TRUE, X'00', 0)")
                .execute(&db.pool().await)
                .await
                .ok();
        });
        if db.postgres {
            rt.block_on(async {
                sqlx::query("INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) VALUES (99, 'future', TRUE, '\\x00', 0) ON CONFLICT DO NOTHING")
                    .execute(&db.pool().await)
                    .await
                    .unwrap();
            });
        }
        let e = Process::try_start(&db.env())
            .err()
            .expect("a newer schema is refused");
        assert!(e.contains("exit status: 1"), "{e}");
        assert!(e.contains("schema version 99, newer than the 3"), "{e}");
    }
}

#[test]
fn stored_values_this_build_would_not_write_are_counted_not_fatal() {
    for db in databases("invalid") {
        let server = Server::start(&db.env());
        let ids: Vec<String> =
            serde_json::from_value(predict(&server, vec![record(None); 3]).json()["ids"].clone())
                .unwrap();
        let version = server.get("/health").json()["model_version"]
            .as_str()
            .unwrap()
            .to_owned();
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            let pool = db.pool().await;
            // every feature's bin 31 (one past the most any feature has),
            // and an outcome that is neither 0 nor 1
            let all_31: i64 = (0..9).map(|i| 0x1f_i64 << (5 * i)).sum();
            for (id, bins, survived) in [("bad-bins", all_31, "NULL"), ("bad-label", 0, "7")] {
                sqlx::query(&format!(
                    "INSERT INTO predictions (id, request_id, time_us, version, probability, prediction, bins, survived) \
                     VALUES ('{id}', 'r', 1, '{version}', 0.5, 1, {bins}, {survived})"
                ))
                .execute(&pool)
                .await
                .unwrap();
            }
        });
        let m = server.get("/monitoring");
        assert_eq!(m.status, 200, "{}", m.body);
        let m = m.json();
        // the bad-bins row is skipped; the bad-label one is served but its
        // feedback skipped
        assert_eq!(m["invalid"], 2, "{m}");
        assert_eq!(m["count"], 4, "{m}");
        assert_eq!(m["live"], Value::Null, "{m}");
        assert_eq!(
            server.get("/history?limit=10").json()["items"]
                .as_array()
                .unwrap()
                .len(),
            5
        );
        assert!(
            ids.iter()
                .all(|id| server.get(&format!("/history/{id}")).status == 200)
        );
        // a row with no inputs has no explanation, and is still shown
        let bad = server.get("/history/bad-bins");
        assert_eq!(bad.status, 200, "{}", bad.body);
        assert_eq!(bad.json()["explanation"], Value::Null);
        // the gauges read the same way and the server lives on
        assert_eq!(server.get("/health").status, 200);
    }
}

#[test]
fn kill_9_under_load_loses_no_answered_record() {
    for db in databases("kill") {
        let mut server = Process::start(&db.env());
        let stop = Arc::new(AtomicBool::new(false));
        let clients = load(vec![server.addr], 8, stop.clone(), "k");
        clients.answers(300);
        server.child.kill().unwrap();
        server.child.wait().unwrap();
        stop.store(true, Ordering::Relaxed);
        let (ok, _) = clients.join().unwrap();
        assert!(ok.len() > 100, "too little load: {}", ok.len());
        assert_eq!(
            db.count_stored(&ok),
            ok.len(),
            "answered 200 but not stored"
        );
        eprintln!(
            "kill -9 ({}): {} answered records, all stored",
            if db.postgres { "postgres" } else { "sqlite" },
            ok.len()
        );
    }
}

#[test]
fn two_replicas_share_one_postgresql() {
    let Some(db) = postgres("replicas") else {
        return;
    };
    let a = Server::start(&db.env());
    let b = Server::start(&db.env());
    let stop = Arc::new(AtomicBool::new(false));
    let clients = load(vec![a.addr, b.addr], 8, stop.clone(), "r");
    clients.answers(300);
    stop.store(true, Ordering::Relaxed);
    let (ok, other) = clients.join().unwrap();
    assert!(other.is_empty(), "{other:?}");
    // server-made ids from both, too
    let ids_a: Vec<String> =
        serde_json::from_value(predict(&a, vec![record(None); 50]).json()["ids"].clone()).unwrap();
    let ids_b: Vec<String> =
        serde_json::from_value(predict(&b, vec![record(None); 50]).json()["ids"].clone()).unwrap();
    let total = ok.len() + 100;
    for server in [&a, &b] {
        assert_eq!(server.get("/monitoring").json()["count"], total);
        let mut seen = HashSet::new();
        let mut cursor = String::new();
        loop {
            let page = server.get(&format!("/history?limit=1000{cursor}")).json();
            for item in page["items"].as_array().unwrap() {
                assert!(
                    seen.insert(item["id"].as_str().unwrap().to_owned()),
                    "a repeated id"
                );
            }
            match page["next_cursor"].as_str() {
                Some(c) => cursor = format!("&cursor={c}"),
                None => break,
            }
        }
        assert_eq!(seen.len(), total);
        assert!(ids_a.iter().chain(&ids_b).all(|id| seen.contains(id)));
    }
}

/// A TCP proxy whose connections the test can cut and restore.
struct Proxy {
    addr: SocketAddr,
    up: Arc<AtomicBool>,
    open: Arc<Mutex<Vec<TcpStream>>>,
}

impl Proxy {
    fn start(target: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let up = Arc::new(AtomicBool::new(true));
        let open: Arc<Mutex<Vec<TcpStream>>> = Arc::default();
        let (up2, open2) = (up.clone(), open.clone());
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                if !up2.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let Ok(server) = TcpStream::connect(target) else {
                    continue;
                };
                open2
                    .lock()
                    .unwrap()
                    .extend([client.try_clone().unwrap(), server.try_clone().unwrap()]);
                for (mut from, mut to) in [
                    (client.try_clone().unwrap(), server.try_clone().unwrap()),
                    (server, client),
                ] {
                    std::thread::spawn(move || {
                        let _ = std::io::copy(&mut from, &mut to);
                        let _ = to.shutdown(std::net::Shutdown::Both);
                    });
                }
            }
        });
        Proxy { addr, up, open }
    }

    fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        for s in self.open.lock().unwrap().drain(..) {
            let _ = s.shutdown(std::net::Shutdown::Both);
        }
    }

    fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

#[test]
fn a_cut_postgresql_connection_gives_503s_and_recovers_by_itself() {
    let Some(db) = postgres("cut") else {
        return;
    };
    // the same database through the proxy
    let base = std::env::var("TEST_DATABASE_URL").unwrap();
    let rest = base.split_once("://").unwrap().1;
    let (auth, hostpath) = rest.rsplit_once('@').map_or(("", rest), |(a, h)| (a, h));
    let (hostport, path) = hostpath.split_once('/').unwrap();
    let target: SocketAddr = std::net::ToSocketAddrs::to_socket_addrs(&if hostport.contains(':') {
        hostport.to_owned()
    } else {
        format!("{hostport}:5432")
    })
    .unwrap()
    .next()
    .unwrap();
    let proxy = Proxy::start(target);
    let at = if auth.is_empty() {
        String::new()
    } else {
        format!("{auth}@")
    };
    let url = db.url.replacen(
        &format!("{at}{hostport}/"),
        &format!("{at}{}/", proxy.addr),
        1,
    );
    assert!(url.contains(&proxy.addr.to_string()), "{url} via {path}");
    let server = Server::start(&[("DATABASE_URL", url.as_str())]);
    assert_eq!(predict(&server, vec![record(Some("before"))]).status, 200);

    let stop = Arc::new(AtomicBool::new(false));
    let clients = load(vec![server.addr], 4, stop.clone(), "c");
    clients.answers(50);
    proxy.cut();
    let mut r = predict(&server, vec![record(Some("during"))]);
    common::eventually("503s once the connection is cut", || {
        r = predict(&server, vec![record(Some("during"))]);
        r.status == 503
    });
    assert!(r.header("retry-after").is_some());
    assert!(
        r.json()["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("postgres"),
        "{}",
        r.body
    );
    let ready = server.get("/health/ready");
    assert_eq!(ready.status, 503);
    assert!(
        ready.json()["status"]
            .as_str()
            .unwrap()
            .contains("history store"),
        "{}",
        ready.body
    );

    proxy.restore();
    let back = Instant::now();
    assert!(
        common::within(Duration::from_secs(5), || {
            predict(&server, vec![record(None)]).status == 200
                && server.get("/health/ready").status == 200
        }),
        "not recovered within 5 s"
    );
    eprintln!(
        "recovered {:?} after the connection came back",
        back.elapsed()
    );
    stop.store(true, Ordering::Relaxed);
    let (ok, other) = clients.join().unwrap();
    assert!(other.iter().all(|s| *s == 503), "{other:?}");
    assert!(!other.is_empty(), "no 503 while the connection was cut");
    assert_eq!(
        db.count_stored(&ok),
        ok.len(),
        "answered 200 but not stored"
    );
}

#[test]
fn shadow_mode_stores_both_probabilities_and_reports_agreement() {
    let dir = temp_dir("shadow-models");
    let shadow = common::artifact("9.2.0", 3);
    common::install_artifact(&dir, "9.2.0", &shadow);
    let rows: Vec<Value> = common::dataset_json_rows()
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
        common::eventually("the shadow's 200 records", || {
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
