//! Tokens and passwords never reach the server's log, even at its most talkative (`RUST_LOG=trace`): a
//! console sign-in (right and wrong), a device's registration, a photo upload, a sync and a photo download
//! with the tokens they carry, and the log is searched for every secret the run used.

use std::process::{Command, Stdio};

use serde_json::json;
use tiejiaoban::{Api, STRONG_PASSWORD, bin_dir, fake_jpeg, listening_url, sha256_hex};

#[test]
fn no_token_or_password_is_ever_logged() {
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("server.log");
    let mut child = Command::new(bin_dir().join("sync-server"))
        .args(["serve", "--listen", "127.0.0.1:0", "--demo", "--data"])
        .arg(tmp.path().join("data"))
        .env("RUST_LOG", "trace")
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let api = Api::new(&listening_url(&mut child));

    let admin = api.sign_in("admin");
    let added = api.post(
        "/users",
        Some(&admin),
        &json!({"username": "newchief", "password": STRONG_PASSWORD, "role": "chief", "team": "一中队"}),
    );
    assert_eq!(added.status, 201);
    let chief = api.sign_in_with("newchief", STRONG_PASSWORD);
    assert_eq!(api.post("/sessions", None, &json!({"username": "admin", "password": "wrong-password-1"})).status, 401);
    let (device_id, device_token) = api.register("inspector1");
    let photo = fake_jpeg(50_000, 5);
    let sha = sha256_hex(&photo);
    assert_eq!(api.put_blob(&device_token, &sha, "image/jpeg", photo).status, 201);
    let synced = api.post("/sync", Some(&device_token), &json!({"device_id": device_id, "ops": [], "cursor": null}));
    assert_eq!(synced.status, 200);
    assert_eq!(api.get_blob(&device_token, &sha).0, 200);
    assert_eq!(api.get("/users", Some(&chief)).status, 403);

    let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
    child.wait().unwrap();
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("/api/v1/sync"), "the log is a trace of the requests: {} bytes", text.len());
    // (The demo's shared password is printed on purpose when demo users are added: it is in the README.)
    for secret in [admin.as_str(), chief.as_str(), device_token.as_str(), STRONG_PASSWORD, "wrong-password-1"] {
        assert!(!text.contains(secret), "the log holds a secret ({} characters)", secret.len());
    }
}
