//! The admin key on the history endpoints.

use super::*;

#[test]
fn the_admin_endpoints_need_the_admin_key_when_one_is_set() {
    let db = &databases("access")[0];
    let server = Server::start(&db.with(&[
        ("ADMIN_API_KEY", "admin-key-0123456789"),
        ("API_KEY", "predict-key-0123456789"),
    ]));
    let get = |auth: &str| {
        crate::common::send(
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
