//! Transport limits, authentication and artifact faults, against the real binary.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::common::{Process, Server, read_response, send};

const ALLEN: &str =
    r#"{"pclass": 1, "sex": "female", "age": 29, "sibsp": 0, "parch": 0, "fare": 211.3375}"#;

fn predict_body() -> String {
    format!(r#"{{"inputs": [{ALLEN}]}}"#)
}

fn raw_predict(auth: Option<&str>) -> Vec<u8> {
    let body = predict_body();
    let auth = auth
        .map(|a| format!("Authorization: {a}\r\n"))
        .unwrap_or_default();
    format!(
        "POST /predict HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

#[test]
fn api_key_guards_predict_but_not_health() {
    let key = "k3y-0123456789abcdef";
    let server = Server::start(&[("API_KEY", key)]);
    for auth in [
        None,
        Some("Bearer wrong-key-0123456789"),
        Some(key),
        Some("Basic abc"),
        Some("Bearer"),
    ] {
        let r = send(server.addr, &raw_predict(auth));
        assert_eq!(r.status, 401, "{auth:?}");
        assert_eq!(r.header("www-authenticate"), Some("Bearer"));
        assert_eq!(r.json()["errors"][0]["field"], "Authorization");
    }
    let r = send(server.addr, &raw_predict(Some(&format!("Bearer {key}"))));
    assert_eq!(r.status, 200, "{}", r.body);
    let r = send(server.addr, &raw_predict(Some(&format!("bearer {key}"))));
    assert_eq!(r.status, 200);
    assert_eq!(server.get("/health").status, 200);
    // the key never reaches the log, which has every request
    let log = server.log.lock().unwrap();
    assert!(
        log.contains("status=401") && log.contains("status=200"),
        "{log}"
    );
    assert!(!log.contains(key));
}

/// A POST head for `/predict` declaring `len` bytes of JSON.
fn predict_head(len: usize) -> String {
    format!(
        "POST /predict HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {len}\r\n\r\n"
    )
}

#[test]
fn slow_uploaders_do_not_starve_predictions() {
    // the default MAX_IN_FLIGHT (256) is below the number of slow uploaders
    let server = Server::start(&[]);
    let body = predict_body();
    // each says `Expect: 100-continue` and waits for the `100 Continue` the
    // server sends once its handler reads the body: then all 300 are in
    // flight, mid-body
    let head = predict_head(body.len()).replace("\r\n\r\n", "\r\nExpect: 100-continue\r\n\r\n");
    let mut slow: Vec<TcpStream> = (0..300)
        .map(|_| {
            let mut s = TcpStream::connect(server.addr).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
            s.write_all(head.as_bytes()).unwrap();
            s
        })
        .collect();
    for s in &mut slow {
        let mut interim = Vec::new();
        while !interim.ends_with(b"\r\n\r\n") {
            let mut byte = [0u8; 1];
            s.read_exact(&mut byte).unwrap();
            interim.push(byte[0]);
        }
        assert!(interim.starts_with(b"HTTP/1.1 100"));
        s.write_all(&body.as_bytes()[..5]).unwrap();
    }
    // while all 300 are mid-body, every fast prediction is served
    for _ in 0..20 {
        let r = send(server.addr, &raw_predict(None));
        assert_eq!(r.status, 200, "{}", r.body);
    }
    for s in &mut slow {
        s.write_all(&body.as_bytes()[5..]).unwrap();
    }
    for s in &mut slow {
        assert_eq!(read_response(s).status, 200);
    }
}

#[test]
fn excess_predictions_in_flight_get_503_with_retry_after() {
    let server = Server::start(&[("MAX_IN_FLIGHT", "1"), ("MAX_BODY_BYTES", "4000000")]);
    // big batches, so that predictions overlap once their bodies are in
    let body = format!(r#"{{"inputs": [{}]}}"#, [ALLEN; 8000].join(","));
    let addr = server.addr;
    let statuses: Vec<(u16, Option<String>)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..6)
            .map(|_| {
                let body = &body;
                scope.spawn(move || {
                    (0..4)
                        .map(|_| {
                            let raw =
                                [predict_head(body.len()).as_bytes(), body.as_bytes()].concat();
                            let r = send(addr, &raw);
                            (r.status, r.header("retry-after").map(str::to_owned))
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    });
    assert!(
        statuses.iter().all(|(s, _)| *s == 200 || *s == 503),
        "{statuses:?}"
    );
    let busy: Vec<_> = statuses.iter().filter(|(s, _)| *s == 503).collect();
    assert!(!busy.is_empty(), "no prediction was refused: {statuses:?}");
    assert!(busy.iter().all(|(_, retry)| retry.as_deref() == Some("1")));
    assert!(statuses.iter().any(|(s, _)| *s == 200));
    // the permits came back
    assert_eq!(send(server.addr, &raw_predict(None)).status, 200);
}

#[test]
fn an_oversized_body_written_whole_still_gets_its_413() {
    let server = Server::start(&[("MAX_BODY_BYTES", "10000")]);
    // 5x the limit, as Python's requests and http.client send it: the whole
    // body first, then read the answer
    let body = format!(r#"{{"inputs": [{}]}}"#, [ALLEN; 600].join(","));
    assert!(body.len() > 40_000 && body.len() < 80_000);
    for chunked in [false, true] {
        let mut s = TcpStream::connect(server.addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        if chunked {
            s.write_all(b"POST /predict HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n").unwrap();
            for part in body.as_bytes().chunks(1000) {
                s.write_all(format!("{:x}\r\n", part.len()).as_bytes())
                    .unwrap();
                s.write_all(part).unwrap();
                s.write_all(b"\r\n").unwrap();
            }
            s.write_all(b"0\r\n\r\n").unwrap();
        } else {
            s.write_all(predict_head(body.len()).as_bytes()).unwrap();
            // every byte is accepted: no reset while writing
            s.write_all(body.as_bytes()).unwrap();
        }
        let r = read_response(&mut s);
        assert_eq!(r.status, 413, "{}", r.body);
        assert_eq!(r.json()["errors"][0]["field"], "body");
    }
    // far beyond the bound (and declared so) it is refused at once
    let r = send(server.addr, predict_head(10_000_000).as_bytes());
    assert_eq!(r.status, 413);
}

#[test]
fn connections_over_the_limit_get_503() {
    let server = Server::start(&[("MAX_CONNECTIONS", "2")]);
    // two kept-alive connections, each answered once: the server holds both
    let held: Vec<TcpStream> = (0..2)
        .map(|_| {
            let mut s = TcpStream::connect(server.addr).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            s.write_all(b"GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n")
                .unwrap();
            let mut head = [0u8; 12];
            s.read_exact(&mut head).unwrap();
            assert_eq!(&head, b"HTTP/1.1 200");
            s
        })
        .collect();
    let r = send(server.addr, &raw_predict(None));
    assert_eq!(r.status, 503);
    assert_eq!(r.header("retry-after"), Some("1"));
    drop(held);
}

#[test]
fn slow_loris_clients_are_cut_off_and_others_served() {
    let server = Server::start(&[("HEADER_TIMEOUT_SECS", "1")]);
    let mut lorises: Vec<TcpStream> = (0..20)
        .map(|_| {
            let mut s = TcpStream::connect(server.addr).unwrap();
            s.write_all(b"POST /predict HTTP/1.1\r\nHost: x\r\n")
                .unwrap();
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            s
        })
        .collect();
    // meanwhile, a normal client is served
    assert_eq!(send(server.addr, &raw_predict(None)).status, 200);
    // a loris that keeps dribbling header bytes is still cut off
    for _ in 0..4 {
        std::thread::sleep(Duration::from_millis(400));
        for s in &mut lorises {
            let _ = s.write_all(b"X-A: b\r\n");
        }
    }
    for s in &mut lorises {
        // the server closes it: an end of stream, not the 5 s read timeout
        let mut buf = Vec::new();
        let end = s.read_to_end(&mut buf);
        assert!(end.is_ok(), "the connection was not closed: {end:?}");
    }
}

#[test]
fn malformed_http_is_answered_by_hyper_and_closed() {
    // documented exception to the JSON errors: hyper answers these itself
    let server = Server::start(&[]);
    for (raw, status) in [
        (
            &b"GET /health HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n"[..],
            400,
        ),
        (b"G@T /health HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        (b"GET /health HTTP/9.9\r\nHost: x\r\n\r\n", 400),
    ] {
        let r = send(server.addr, raw);
        assert_eq!(r.status, status, "{}", String::from_utf8_lossy(raw));
        assert_eq!(r.body, "");
    }
    // the service itself is unharmed
    assert_eq!(server.get("/health").status, 200);
}

#[test]
fn oversized_headers_get_431_and_slow_bodies_408() {
    let server = Server::start(&[("REQUEST_TIMEOUT_SECS", "1")]);
    let raw = format!(
        "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Big: {}\r\n\r\n",
        "a".repeat(64 * 1024)
    );
    assert_eq!(send(server.addr, raw.as_bytes()).status, 431);

    let mut s = TcpStream::connect(server.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(b"POST /predict HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"inp").unwrap();
    let r = read_response(&mut s);
    assert_eq!(r.status, 408, "{}", r.body);
}

#[test]
fn faulty_model_files_stop_the_start_and_a_good_one_is_served() {
    let dir =
        std::env::temp_dir().join(format!("classification_api_models_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let good = classification_model::Model::embedded()
        .unwrap()
        .artifact()
        .to_json()
        .unwrap();
    let cases = [
        (
            "truncated",
            good[..good.len() / 3].to_owned(),
            "corrupt or truncated",
        ),
        (
            "garbage",
            "\u{0}\u{1}not json".to_owned(),
            "corrupt or truncated",
        ),
        (
            "revision",
            good.replacen(
                &format!(
                    "\"format_revision\": {}",
                    classification_model::artifact::FORMAT_REVISION
                ),
                "\"format_revision\": 7",
                1,
            ),
            "format revision 7",
        ),
        (
            "version",
            good.replacen(
                &format!(
                    "\"model_version\": \"{}\"",
                    classification_model::model_version()
                ),
                "\"model_version\": \"nine\"",
                1,
            ),
            "nine",
        ),
    ];
    for (name, text, expected) in cases {
        let path = dir.join(format!("{name}.json"));
        std::fs::write(&path, text).unwrap();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_classification_api"))
            .env("PORT", "0")
            .env("GRPC_PORT", "0")
            .env("HOST", "127.0.0.1")
            .env("MODEL_PATH", &path)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{name}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("cannot load the model") && stderr.contains(expected),
            "{name}: {stderr}"
        );
        assert!(!stderr.contains("panicked"));
    }
    let missing = dir.join("missing.json");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_classification_api"))
        .env("MODEL_PATH", &missing)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));

    // a retrained artifact (all rows) is served instead of the embedded one
    let version = semver::Version::parse(classification_model::model_version()).unwrap();
    let config = classification_model::artifact::TrainingConfig {
        test_size: 0.0,
        ..Default::default()
    };
    let data = include_bytes!("../../../classification_model/datasets/titanic.csv");
    let artifact = classification_model::train::train(data, &config, &version).unwrap();
    let path = dir.join("retrained.json");
    std::fs::write(&path, artifact.to_json().unwrap()).unwrap();
    let server = Server::start(&[("MODEL_PATH", path.to_str().unwrap())]);
    let r = server.predict(&predict_body());
    assert_eq!(r.status, 200);
    let passengers: Vec<classification_model::Passenger> =
        serde_json::from_str(&format!("[{ALLEN}]")).unwrap();
    let expected = classification_model::Model::from_artifact(artifact)
        .unwrap()
        .predict(&passengers)
        .unwrap();
    assert_eq!(
        r.json()["probabilities"][0].as_f64().unwrap(),
        expected[0].probability
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The server's peak resident memory so far, in bytes (Linux).
fn peak_rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    kb * 1024
}

#[test]
fn bodies_that_expand_are_refused_in_bounded_memory() {
    // the process's own memory is measured: the binary, alone
    let server = Process::start(&[("HISTORY", "off")]);
    let limit = 1024 * 1024;
    // ~349,000 empty JSON records, and ~262,000 empty CSV rows, each just
    // under the 1 MiB body limit
    let mut json = String::from(r#"{"inputs":["#);
    while json.len() + 3 + 4 <= limit {
        json.push_str("{},");
    }
    json.push_str("{}]}");
    let mut csv = String::from("pclass,sex,sibsp,parch\n");
    while csv.len() + 4 <= limit {
        csv.push_str(",,,\n");
    }
    assert!(json.len() <= limit && csv.len() <= limit);
    let before = peak_rss(server.child.id());
    let addr = server.addr;
    let threads: Vec<_> = (0..64)
        .map(|i| {
            let (kind, body) = if i % 2 == 0 {
                ("application/json", json.clone())
            } else {
                ("text/csv", csv.clone())
            };
            std::thread::spawn(move || {
                let head = format!(
                    "POST /predict HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: {kind}\r\nContent-Length: {}\r\n\r\n",
                    body.len()
                );
                let mut raw = head.into_bytes();
                raw.extend_from_slice(body.as_bytes());
                (kind, send(addr, &raw))
            })
        })
        .collect();
    for t in threads {
        let (kind, r) = t.join().unwrap();
        assert!(
            [413, 422].contains(&r.status),
            "{kind}: {} {}",
            r.status,
            r.body
        );
        if r.status == 413 {
            assert_eq!(
                r.json()["errors"][0]["field"],
                "inputs",
                "{kind}: {}",
                r.body
            );
        }
    }
    let peak = peak_rss(server.child.id());
    eprintln!(
        "peak RSS {} MB before, {} MB after 64 expanding bodies",
        before >> 20,
        peak >> 20
    );
    assert!(peak <= 200 << 20, "peak RSS {} MB", peak >> 20);
    // the service is fine afterwards
    assert_eq!(
        server
            .post("/predict", "application/json", &predict_body())
            .status,
        200
    );
}
