//! The prediction history, feedback and monitoring, against the real server
//! binary: on SQLite always, and on PostgreSQL when `TEST_DATABASE_URL` is
//! set (each test in its own schema, so tests run in parallel).

use std::collections::HashSet;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common::{Process, Server, temp_dir};
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

fn predict(server: &Server, records: Vec<Value>) -> crate::common::Response {
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
fn try_send(addr: SocketAddr, raw: &[u8]) -> Option<crate::common::Response> {
    let mut stream = TcpStream::connect(addr).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    stream.write_all(raw).ok()?;
    let mut data = Vec::new();
    stream.read_to_end(&mut data).ok()?;
    data.windows(4)
        .any(|w| w == b"\r\n\r\n")
        .then(|| crate::common::parse(&data))
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
        crate::common::eventually(&format!("{n} answers under load"), || {
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

mod admin;
mod durability;
mod feedback;
mod records;
mod schema;
mod shadow;
