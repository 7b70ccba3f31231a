//! The walking skeleton end to end: real server processes, real device stores, real faults. Each test
//! ends with the server holding exactly one finding per reported finding and at most one case for each.

use serde_json::{Value, json};
use tiejiaoban::{Device, Server, finding_body, sha256_hex};

/// Findings and cases on the server must match what the device reported: one row each, no extra case.
fn assert_exactly_once(server: &Server, reported: &[String], expected_cases: i64) {
    for id in reported {
        let n = server.count(&format!("SELECT COUNT(*) FROM findings WHERE id = '{id}'"));
        assert_eq!(n, 1, "finding {id} is held {n} times");
    }
    let findings = server.count("SELECT COUNT(*) FROM findings");
    assert_eq!(findings, reported.len() as i64, "the server holds findings nobody reported");
    let cases = server.count("SELECT COUNT(*) FROM cases");
    assert_eq!(cases, expected_cases, "cases filed");
    let per_finding =
        server.count("SELECT COALESCE(MAX(n), 0) FROM (SELECT COUNT(*) AS n FROM cases GROUP BY case_no) per_case");
    assert!(per_finding <= 1);
}

/// A server and a device registered by hand that speaks the protocol directly, with one photo uploaded.
struct RawDevice {
    server: Server,
    api: tiejiaoban::Api,
    device_id: String,
    token: String,
    sha: String,
}

impl RawDevice {
    fn start(tmp: &std::path::Path, photo: &str) -> RawDevice {
        let server = Server::start(&tmp.join("server"));
        let api = server.api();
        let (device_id, token) = api.register("inspector1");
        let bytes = std::fs::read(tiejiaoban::fixture(photo)).unwrap();
        let sha = sha256_hex(&bytes);
        assert_eq!(api.put_blob(&token, &sha, "image/jpeg", bytes).status, 201);
        RawDevice { server, api, device_id, token, sha }
    }

    fn sync(&self, ops: Value) -> tiejiaoban::Answer {
        self.api.post("/sync", Some(&self.token), &json!({"device_id": self.device_id, "ops": ops, "cursor": null}))
    }
}

fn states(device: &Device) -> Vec<(String, String, Option<String>)> {
    device
        .list()
        .iter()
        .map(|f| {
            (
                f["id"].as_str().unwrap().to_owned(),
                f["local_state"].as_str().unwrap().to_owned(),
                f["case_no"].as_str().map(str::to_owned),
            )
        })
        .collect()
}

#[test]
fn offline_capture_reaches_the_server_when_it_returns() {
    let tmp = tempfile::tempdir().unwrap();
    let mut server = Server::start(&tmp.path().join("server"));
    let device = Device::new(&tmp.path().join("phone"));
    device.register(&server.url, "inspector1");
    server.kill();

    // No network: both reports are saved and wait.
    let garbage = device.report("E0102", 41.7968, "orientation-landscape-1.jpg");
    let manhole = device.report("C0101", 41.7990, "HMD_Nokia_8.3_5G.jpg");
    assert!(states(&device).iter().all(|(_, s, _)| s == "queued"));
    let offline = device.run(&["sync"]);
    assert!(!offline.status.success(), "a sync with the server down must fail");
    assert!(String::from_utf8_lossy(&offline.stderr).contains("cannot be reached"));
    assert!(states(&device).iter().all(|(_, s, _)| s == "queued"), "nothing may be lost or dropped while offline");

    server.restart(&[], &[]);
    device.ok(&["sync"]);
    let list = device.list();
    let by_id = |id: &str| list.iter().find(|f| f["id"] == id).cloned().unwrap();
    assert_eq!(by_id(&garbage)["server_state"], "pending_review");
    assert_eq!(by_id(&manhole)["server_state"], "filed", "an auto category is filed within the op");
    assert!(by_id(&manhole)["case_no"].as_str().is_some_and(|c| !c.is_empty()));
    assert_exactly_once(&server, &[garbage, manhole], 1);

    // A second sync has nothing to send and changes nothing.
    device.ok(&["sync"]);
    assert_eq!(server.count("SELECT COUNT(*) FROM findings"), 2);
}

#[test]
fn the_same_batch_sent_twice_is_answered_the_same() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("server"));
    let api = server.api();
    let (device_id, token) = api.register("inspector1");
    let photo = std::fs::read(tiejiaoban::fixture("orientation-portrait-1.jpg")).unwrap();
    let sha = sha256_hex(&photo);
    assert_eq!(api.put_blob(&token, &sha, "image/jpeg", photo).status, 201);

    let ids: Vec<String> = (0..3).map(|_| uuid::Uuid::now_v7().to_string()).collect();
    let ops: Vec<Value> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            let category = if i == 0 { "C0102" } else { "E0104" };
            json!({"seq": i + 1, "kind": "finding.create", "body": finding_body(id, category, &sha, 41.79 + i as f64 * 0.01)})
        })
        .collect();
    let request = json!({"device_id": device_id, "ops": ops, "cursor": null});
    let first = api.post("/sync", Some(&token), &request);
    assert_eq!(first.status, 200, "{}", first.body);
    let second = api.post("/sync", Some(&token), &request);
    assert_eq!(second.status, 200);
    for (a, b) in first.body["results"].as_array().unwrap().iter().zip(second.body["results"].as_array().unwrap()) {
        assert_eq!(a["status"], "applied");
        assert_eq!(b["status"], "duplicate");
        assert_eq!(a["finding"], b["finding"], "a duplicate answers as the first time");
    }
    assert_eq!(first.body["results"][0]["finding"]["state"], "filed");
    // The same cursor again yields the same changes again.
    assert_eq!(first.body["changes"], second.body["changes"]);
    assert_exactly_once(&server, &ids, 1);
}

#[test]
fn a_server_killed_mid_sync_loses_nothing_and_files_nothing_twice() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("server");
    let mut server = Server::start(&data);
    let device = Device::new(&tmp.path().join("phone"));
    device.register(&server.url, "inspector1");
    server.kill();

    let mut reported = Vec::new();
    for i in 0..6 {
        // Alternate auto (filed at once) and chief categories, far enough apart not to be duplicates.
        let category = if i % 2 == 0 { "C0101" } else { "E0102" };
        reported.push(device.report(category, 41.70 + i as f64 * 0.01, "orientation-portrait-3.jpg"));
    }
    // The server dies (abort, no clean-up) right after the 4th op is durable, before it answers.
    server.restart(&[], &[("SYNC_SERVER_CRASH_AFTER_OPS", "4")]);
    let out = device.run(&["sync"]);
    assert!(!out.status.success(), "the device must notice the lost answer");
    assert!(!server.wait().success(), "the crash hook aborts the process");
    assert!(states(&device).iter().all(|(_, s, _)| s == "queued"), "unanswered ops stay queued");

    server.restart(&[], &[]);
    let out = device.ok(&["sync"]);
    assert!(
        out.contains("duplicate: 6") || out.contains("applied: 0"),
        "every op was made durable before the crash: {out}"
    );
    assert!(states(&device).iter().all(|(_, s, _)| s == "received"));
    assert_exactly_once(&server, &reported, 3);
    let cases: Vec<Option<String>> = states(&device).into_iter().map(|(_, _, c)| c).filter(Option::is_some).collect();
    assert_eq!(cases.len(), 3, "each auto finding carries its own case number");
}

#[test]
fn a_device_that_lost_the_answer_resends_and_gets_the_first_answer() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("server"));
    let phone = tmp.path().join("phone");
    let device = Device::new(&phone);
    device.register(&server.url, "inspector2");
    let a = device.report("C0103", 41.80, "orientation-landscape-6.jpg");
    let b = device.report("E0501", 41.81, "orientation-landscape-8.jpg");

    // Keep the phone's store as it was before the answer arrived, sync, then put it back: the device
    // never heard the answer and sends everything again.
    let before = tmp.path().join("phone-before");
    copy_dir(&phone, &before);
    device.ok(&["sync"]);
    let answered = states(&device);
    std::fs::remove_dir_all(&phone).unwrap();
    copy_dir(&before, &phone);
    assert!(states(&device).iter().all(|(_, s, _)| s == "queued"));

    let out = device.ok(&["sync"]);
    assert!(out.contains("duplicate: 2"), "{out}");
    assert_eq!(states(&device), answered, "the resend ends where the first answer did");
    assert_exactly_once(&server, &[a, b], 1);
}

#[test]
fn a_finding_whose_photo_is_missing_is_retried_then_applied() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("server"));
    let api = server.api();
    let (device_id, token) = api.register("inspector1");
    let photo = std::fs::read(tiejiaoban::fixture("45-gps_ifd.jpg")).unwrap();
    let sha = sha256_hex(&photo);
    let id = uuid::Uuid::now_v7().to_string();
    let op = json!({"seq": 7, "kind": "finding.create", "body": finding_body(&id, "C0105", &sha, 41.8)});
    let request = json!({"device_id": device_id, "ops": [op], "cursor": null});

    let first = api.post("/sync", Some(&token), &request);
    assert_eq!(first.body["results"][0]["status"], "retry");
    assert_eq!(first.body["results"][0]["error"]["code"], "missing_blobs");
    assert_eq!(first.body["results"][0]["error"]["details"]["missing"], json!([sha]));
    assert_eq!(server.count("SELECT COUNT(*) FROM findings"), 0, "a retry does nothing");

    assert_eq!(api.put_blob(&token, &sha, "image/jpeg", photo).status, 201);
    let second = api.post("/sync", Some(&token), &request);
    assert_eq!(second.body["results"][0]["status"], "applied", "{}", second.body);
    assert_eq!(second.body["results"][0]["finding"]["state"], "filed");
    assert_exactly_once(&server, &[id], 1);
}

#[test]
fn conflicting_resends_are_rejected_not_applied() {
    let tmp = tempfile::tempdir().unwrap();
    let raw = RawDevice::start(tmp.path(), "orientation-portrait-8.jpg");
    let (server, sha) = (&raw.server, raw.sha.clone());
    let id = uuid::Uuid::now_v7().to_string();
    let body = finding_body(&id, "E0102", &sha, 41.8);
    let sync = |ops: Value| raw.sync(ops);

    assert_eq!(
        sync(json!([{"seq": 1, "kind": "finding.create", "body": body}])).body["results"][0]["status"],
        "applied"
    );
    // The same finding under a new seq (a device that re-queued it): duplicate.
    let again = sync(json!([{"seq": 2, "kind": "finding.create", "body": body}]));
    assert_eq!(again.body["results"][0]["status"], "duplicate");
    // The same seq with another body, and the same finding id with another body: conflict.
    let mut other = body.clone();
    other["description"] = json!("changed");
    let r = sync(json!([{"seq": 1, "kind": "finding.create", "body": other}]));
    assert_eq!(
        (r.body["results"][0]["status"].as_str(), r.body["results"][0]["error"]["code"].as_str()),
        (Some("rejected"), Some("conflict"))
    );
    let r = sync(json!([{"seq": 3, "kind": "finding.create", "body": other}]));
    assert_eq!(
        (r.body["results"][0]["status"].as_str(), r.body["results"][0]["error"]["code"].as_str()),
        (Some("rejected"), Some("conflict"))
    );
    // An invalid finding is rejected even though its photo is missing; the op after it still applies.
    let mut bad = finding_body(&uuid::Uuid::now_v7().to_string(), "X9999", &"0".repeat(64), 41.8);
    bad["location"]["lat"] = json!(12.0);
    let good_id = uuid::Uuid::now_v7().to_string();
    let r = sync(json!([
        {"seq": 4, "kind": "finding.create", "body": bad},
        {"seq": 5, "kind": "finding.create", "body": finding_body(&good_id, "E0104", &sha, 41.9)}
    ]));
    assert_eq!(r.body["results"][0]["status"], "rejected");
    assert_eq!(r.body["results"][0]["error"]["details"]["field"], "category");
    assert_eq!(r.body["results"][1]["status"], "applied");
    let stored = server.text(&format!("SELECT body FROM findings WHERE id = '{id}'")).unwrap();
    assert!(stored.contains("raw protocol test"), "the first body stays");
    assert_exactly_once(server, &[id, good_id], 0);
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let dest = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &dest);
        } else {
            std::fs::copy(entry.path(), dest).unwrap();
        }
    }
}

#[test]
fn ops_remembered_in_the_first_hash_form_are_still_recognised() {
    // Servers before the "2:" form remembered an op by the SHA-256 of `[kind, body]` with the body's keys
    // sorted. A resend of such an op after an upgrade is still a duplicate, and a different op under its
    // seq still a conflict.
    let tmp = tempfile::tempdir().unwrap();
    let raw = RawDevice::start(tmp.path(), "orientation-portrait-1.jpg");
    let (server, device_id) = (&raw.server, raw.device_id.clone());
    let id = uuid::Uuid::now_v7().to_string();
    let body = finding_body(&id, "E0102", &raw.sha, 41.8);
    let sync = |ops: Value| raw.sync(ops);
    let first = sync(json!([{"seq": 1, "kind": "finding.create", "body": body}]));
    assert_eq!(first.body["results"][0]["status"], "applied");

    let stored_hash =
        server.text(&format!("SELECT body_hash FROM ops WHERE device_id = '{device_id}' AND seq = 1")).unwrap();
    let stored_body = server.text(&format!("SELECT body FROM findings WHERE id = '{id}'")).unwrap();
    assert!(stored_hash.starts_with("2:"), "{stored_hash}");
    // serde_json's Value keeps keys sorted: this is the first form of the hash.
    let sorted: Value = serde_json::from_str(&stored_body).unwrap();
    let legacy = sha256_hex(&serde_json::to_vec(&("finding.create", sorted)).unwrap());
    // What such a server left in its store (written beside the running server; a migrated store holds it too).
    server.execute(&format!("UPDATE ops SET body_hash = '{legacy}' WHERE device_id = '{device_id}' AND seq = 1"));

    let again = sync(json!([{"seq": 1, "kind": "finding.create", "body": body}]));
    assert_eq!(again.body["results"][0]["status"], "duplicate", "{}", again.body);
    assert_eq!(again.body["results"][0]["finding"], first.body["results"][0]["finding"]);
    let mut other = body.clone();
    other["description"] = json!("changed");
    let r = sync(json!([{"seq": 1, "kind": "finding.create", "body": other}]));
    assert_eq!(r.body["results"][0]["error"]["code"], "conflict");
    assert_exactly_once(server, &[id], 0);
}
