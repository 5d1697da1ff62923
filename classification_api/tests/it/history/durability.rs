//! Nothing answered is lost: kill -9 under load, two replicas on one PostgreSQL, a cut connection.

use super::*;

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
    crate::common::eventually("503s once the connection is cut", || {
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
        crate::common::within(Duration::from_secs(5), || {
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
