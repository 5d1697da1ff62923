//! The schema: created, upgraded, newer ones refused; rows this build would not write.

use super::*;

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
