//! Positions and maps: a pin placed by hand keeps the phone's own fix beside it (`gps`), shown wherever the
//! finding is.

use serde_json::{Value, json};
use tiejiaoban::{Server, finding_body, fixture, sha256_hex};

fn today() -> String {
    chrono::Local::now().format("%Y-%m-%d").to_string()
}

#[test]
fn a_manual_pin_keeps_the_gps_fix_beside_it() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("server"));
    let api = server.api();
    let (device_id, token) = api.register("inspector1");
    let chief = api.sign_in("chief1");
    let photo = std::fs::read(fixture("orientation-portrait-1.jpg")).unwrap();
    let sha = sha256_hex(&photo);
    assert_eq!(api.put_blob(&token, &sha, "image/jpeg", photo).status, 201);

    let fixed_at = "2026-12-04T08:00:00+08:00";
    let gps = json!({"lat": 41.79712, "lon": 123.43301, "accuracy_m": 7.5, "fixed_at": fixed_at});
    // A reviewed category (E0102) and one filed at once (C0101, a manhole cover).
    let pinned = |id: &str, category: &str, gps: Value| {
        let mut body = finding_body(id, category, &sha, 41.7968);
        body["location"]["source"] = json!("manual");
        body["gps"] = gps;
        body
    };
    let reviewed = uuid::Uuid::new_v4().to_string();
    let filed = uuid::Uuid::new_v4().to_string();
    let plain = uuid::Uuid::new_v4().to_string();
    let bad = uuid::Uuid::new_v4().to_string();
    let first = pinned(&reviewed, "E0102", gps.clone());
    let ops = json!([
        {"seq": 1, "kind": "finding.create", "body": first},
        {"seq": 2, "kind": "finding.create", "body": pinned(&filed, "C0101", gps.clone())},
        {"seq": 3, "kind": "finding.create", "body": finding_body(&plain, "E0102", &sha, 41.80)},
        {"seq": 4, "kind": "finding.create",
         "body": pinned(&bad, "E0102", json!({"lat": 91.0, "lon": 123.4, "accuracy_m": 5.0, "fixed_at": fixed_at}))},
    ]);
    let sync = api.post("/sync", Some(&token), &json!({"device_id": device_id, "ops": ops, "cursor": null}));
    assert_eq!(sync.status, 200, "{}", sync.body);
    let status: Vec<&str> =
        sync.body["results"].as_array().unwrap().iter().map(|r| r["status"].as_str().unwrap()).collect();
    assert_eq!(status, ["applied", "applied", "applied", "rejected"]);
    let refused = &sync.body["results"][3]["error"];
    assert_eq!((refused["code"].as_str(), refused["details"]["field"].as_str()), (Some("invalid"), Some("gps.lat")));

    // The same op again is a duplicate: the fix is part of the body the device is remembered by.
    let again = api.post(
        "/sync",
        Some(&token),
        &json!({"device_id": device_id, "ops": [{"seq": 1, "kind": "finding.create", "body": first}], "cursor": null}),
    );
    assert_eq!(again.body["results"][0]["status"], "duplicate");

    let listed = api.get(&format!("/review?date={}", today()), Some(&chief));
    assert_eq!(listed.status, 200, "{}", listed.body);
    let item = |id: &str| listed.body["findings"].as_array().unwrap().iter().find(|f| f["id"] == id).cloned().unwrap();
    assert_eq!(item(&reviewed)["location"]["source"], "manual");
    assert_eq!(item(&reviewed)["gps"], gps, "the fix as sent, beside the pin");
    assert!(item(&plain)["gps"].is_null(), "null when the device sent none: {}", item(&plain));
    assert!(item(&plain).as_object().unwrap().contains_key("gps"));

    let case_no = sync.body["results"][1]["finding"]["case_no"].as_str().unwrap().to_owned();
    let case = api.get(&format!("/cases/{case_no}"), Some(&chief));
    assert_eq!(case.status, 200, "{}", case.body);
    assert_eq!(case.body["findings"][0]["gps"], gps, "a case's findings carry the fix too");
}
