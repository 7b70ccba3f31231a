//! Bad input to every endpoint gets the contract's error body and status, and changes nothing stored.

use serde_json::{Value, json};
use tiejiaoban::{Answer, Api, Server, finding_body, fixture, sha256_hex};

/// Counts of everything a bad request could have written.
fn snapshot(server: &Server) -> Vec<i64> {
    ["findings", "cases", "ops", "blobs", "uploads", "devices", "sessions", "users", "changes", "patrols"]
        .iter()
        .map(|t| server.count(&format!("SELECT COUNT(*) FROM {t}")))
        .collect()
}

fn expect(a: &Answer, status: u16, code: &str) {
    assert_eq!(a.status, status, "body: {}", a.body);
    assert_eq!(a.code(), code, "body: {}", a.body);
    assert!(a.body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "a message for people: {}", a.body);
}

fn raw(
    api: &Api,
    method: reqwest::Method,
    path: &str,
    token: Option<&str>,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> Answer {
    let mut req = api.http.request(method, format!("{}{path}", api.base)).body(body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(ct) = content_type {
        req = req.header("Content-Type", ct);
    }
    api.send(req)
}

#[test]
fn every_endpoint_refuses_bad_input_with_the_contract_error() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start_with(&tmp.path().join("server"), 0, &["--max-blob-bytes", "300000"], &[]);
    let api = server.api();
    let (device_id, token) = api.register("inspector1");
    let (_, other_token) = api.register("inspector3");
    let console = api.sign_in("chief1");
    let photo = std::fs::read(fixture("orientation-portrait-1.jpg")).unwrap();
    let sha = sha256_hex(&photo);
    assert_eq!(api.put_blob(&token, &sha, "image/jpeg", photo.clone()).status, 201);
    let before = snapshot(&server);

    // General.
    expect(&api.get("/nowhere", None), 404, "not_found");
    expect(&raw(&api, reqwest::Method::DELETE, "/health", None, None, vec![]), 405, "method_not_allowed");
    let health = api.get("/health", None);
    assert_eq!((health.status, health.body["protocol"].as_u64()), (200, Some(1)));
    assert_eq!(health.body["max_blob_bytes"], 300000);

    // Accounts.
    let reg = |body: Value| api.post("/devices/register", None, &body);
    expect(
        &raw(&api, reqwest::Method::POST, "/devices/register", None, Some("application/json"), b"{oops".to_vec()),
        400,
        "bad_request",
    );
    let missing = reg(json!({"username": "inspector1", "password": "demo1234"}));
    expect(&missing, 422, "invalid");
    assert_eq!(missing.body["error"]["details"]["field"], "device");
    let bad_id = reg(
        json!({"username": "inspector1", "password": "demo1234", "device": {"id": "nope", "name": "x", "platform": "p", "app_version": "1"}}),
    );
    assert_eq!(bad_id.body["error"]["details"]["field"], "device.id");
    let device = json!({"id": uuid::Uuid::now_v7(), "name": "x", "platform": "p", "app_version": "1"});
    let wrong = reg(json!({"username": "inspector1", "password": "wrong", "device": device}));
    let unknown = reg(json!({"username": "nobody", "password": "wrong", "device": device}));
    expect(&wrong, 401, "unauthorized");
    assert_eq!(wrong.body, unknown.body, "the same answer whether the user exists or not");
    let taken = reg(json!({"username": "inspector2", "password": "demo1234",
        "device": {"id": device_id, "name": "x", "platform": "p", "app_version": "1"}}));
    expect(&taken, 409, "conflict");
    expect(&api.post("/sessions", None, &json!({"username": "chief1", "password": "nope"})), 401, "unauthorized");
    expect(&api.post("/sessions", None, &json!({"username": "chief1"})), 422, "invalid");

    // Tokens.
    expect(&api.get("/review?date=2026-11-21", None), 401, "unauthorized");
    expect(&api.get("/review?date=2026-11-21", Some("tjbd_forged")), 401, "unauthorized");

    // Blobs.
    let blob = |method: reqwest::Method, sha: &str, ct: Option<&str>, body: Vec<u8>| {
        raw(&api, method, &format!("/blobs/{sha}"), Some(&token), ct, body)
    };
    let other = sha256_hex(b"not a photo");
    expect(&blob(reqwest::Method::PUT, &other, Some("image/jpeg"), photo.clone()), 422, "hash_mismatch");
    expect(
        &blob(reqwest::Method::PUT, &other, Some("image/jpeg"), b"not a photo".to_vec()),
        415,
        "unsupported_media_type",
    );
    expect(
        &blob(reqwest::Method::PUT, &other, Some("text/plain"), b"not a photo".to_vec()),
        415,
        "unsupported_media_type",
    );
    let big = std::fs::read(fixture("HMD_Nokia_8.3_5G.jpg")).unwrap();
    expect(&blob(reqwest::Method::PUT, &sha256_hex(&big), Some("image/jpeg"), big.clone()), 413, "payload_too_large");
    expect(&blob(reqwest::Method::PUT, "ABC", Some("image/jpeg"), photo.clone()), 422, "invalid");
    assert_eq!(blob(reqwest::Method::HEAD, &other, None, vec![]).status, 404);
    expect(
        &raw(&api, reqwest::Method::GET, &format!("/blobs/{sha}"), Some(&other_token), None, vec![]),
        404,
        "not_found",
    );
    let patch =
        |sha: &str, offset: usize, length: usize, bytes: &[u8]| api.patch_blob(&token, sha, offset, length, bytes);
    let conflict = patch(&other, 10, 100, b"abc");
    expect(&conflict, 409, "conflict");
    assert_eq!(conflict.headers["upload-offset"], "0");
    expect(&patch(&other, 0, 3, b"abcdef"), 422, "invalid");
    expect(&patch(&other, 0, 400000, b"abc"), 413, "payload_too_large");

    // Sync.
    let sync = |t: &str, body: &Value| api.post("/sync", Some(t), body);
    let op = json!({"seq": 1, "kind": "finding.create", "body": finding_body(&uuid::Uuid::now_v7().to_string(), "E0102", &sha, 41.8)});
    expect(&sync(&console, &json!({"device_id": device_id, "ops": [op]})), 403, "forbidden");
    expect(&sync(&other_token, &json!({"device_id": device_id, "ops": [op]})), 403, "forbidden");
    expect(
        &raw(&api, reqwest::Method::POST, "/sync", Some(&token), Some("application/json"), b"[1,2".to_vec()),
        400,
        "bad_request",
    );
    let no_device = sync(&token, &json!({"ops": [op]}));
    expect(&no_device, 422, "invalid");
    assert_eq!(no_device.body["error"]["details"]["field"], "device_id");
    let forged = sync(&token, &json!({"device_id": device_id, "ops": [op], "cursor": "v1.0.1.0000"}));
    expect(&forged, 422, "invalid");
    assert_eq!(forged.body["error"]["details"]["field"], "cursor");
    let many: Vec<Value> = (0..501).map(|i| json!({"seq": i + 1, "kind": "patrol.start", "body": {}})).collect();
    expect(&sync(&token, &json!({"device_id": device_id, "ops": many})), 413, "payload_too_large");
    let huge = json!({"device_id": device_id, "ops": [], "cursor": null, "padding": "x".repeat(9 * 1024 * 1024)});
    expect(&sync(&token, &huge), 413, "payload_too_large");

    // Review.
    expect(&api.get("/review", Some(&console)), 422, "invalid");
    expect(&api.get("/review?date=21.11.2026", Some(&console)), 422, "invalid");
    // A query string or path segment that cannot be decoded at all is a contract error too, not plain text.
    expect(&api.get("/cases?state=filed&state=closed", Some(&console)), 400, "bad_request");
    expect(&api.get("/cases/%FF%FE", Some(&console)), 400, "bad_request");
    expect(&api.get("/review?date=2026-11-21", Some(&token)), 403, "forbidden");

    assert_eq!(snapshot(&server), before, "bad requests changed what the server holds");
}

#[test]
fn a_resumable_upload_survives_a_break_and_refuses_wrong_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("server"));
    let api = server.api();
    let (_, token) = api.register("inspector1");
    let photo = std::fs::read(fixture("orientation-landscape-3.jpg")).unwrap();
    let sha = sha256_hex(&photo);
    let url = format!("{}/blobs/{sha}", api.base);
    let patch = |offset: usize, bytes: &[u8]| api.patch_blob(&token, &sha, offset, photo.len(), bytes);
    let head = || api.head_blob(&token, &sha);
    assert_eq!(head().status, 404);

    let first = patch(0, &photo[..100_000]);
    assert_eq!(first.status, 204);
    assert_eq!(first.headers["upload-offset"], "100000");
    let h = head();
    assert_eq!(
        (h.status, h.headers["upload-offset"].to_str().unwrap(), h.headers["blob-complete"].to_str().unwrap()),
        (200, "100000", "false")
    );
    // A client that thinks it sent more is told what the server holds.
    let behind = patch(150_000, &photo[150_000..]);
    expect(&behind, 409, "conflict");
    assert_eq!(behind.headers["upload-offset"], "100000");
    let rest = patch(100_000, &photo[100_000..]);
    assert_eq!(rest.status, 204);
    assert_eq!(rest.headers["blob-complete"], "true");
    assert_eq!(head().headers["blob-complete"], "true");
    let get = api.send(api.http.get(&url).bearer_auth(&token));
    assert_eq!(get.status, 200);
    assert_eq!(server.count("SELECT bytes FROM blobs"), photo.len() as i64);
    assert_eq!(api.put_blob(&token, &sha, "image/jpeg", photo.clone()).status, 200, "already held");

    // Wrong bytes under a name: the whole upload is discarded.
    let mut forged = std::fs::read(fixture("orientation-landscape-1.jpg")).unwrap();
    forged.truncate(1000);
    let name = sha256_hex(b"something else");
    let a = api.patch_blob(&token, &name, 0, forged.len(), &forged);
    expect(&a, 422, "hash_mismatch");
    assert_eq!(api.head_blob(&token, &name).status, 404);
    assert_eq!(server.count("SELECT COUNT(*) FROM blobs"), 1);
}

#[test]
fn a_refused_photo_gets_its_answer_while_it_is_still_being_sent() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("server"));
    let api = server.api();
    let (_, token) = api.register("inspector1");
    // 16 MB, far more than the sockets' buffers hold: the server answers while the client is still sending.
    // A revoked phone with a photo in its outbox must read the 401, not meet a closed connection; the same
    // for a photo refused by type before its bytes are looked at.
    let body = vec![0xFFu8; 16 << 20];
    let sha = sha256_hex(&body);
    let path = format!("/blobs/{sha}");
    for _ in 0..3 {
        let a =
            raw(&api, reqwest::Method::PUT, &path, Some("revoked-or-never-issued"), Some("image/jpeg"), body.clone());
        expect(&a, 401, "unauthorized");
        let a = raw(&api, reqwest::Method::PUT, &path, Some(&token), Some("text/plain"), body.clone());
        expect(&a, 415, "unsupported_media_type");
    }
    assert_eq!(server.count("SELECT COUNT(*) FROM blobs"), 0);
}
