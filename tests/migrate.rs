//! `sync-server migrate`: a district's store made by the demo, with findings, photos and cases, copied into
//! PostgreSQL and a bucket (a real S3 server). Cut off at several points, it is run again and completes; run
//! once more, it adds nothing. A server on the copy, on the old one's port, then goes on where the old one stopped:
//! the phone syncs with its old token and cursor, its photos come back from the bucket, case numbers go on.

use std::process::Command;

use serde_json::{Value, json};
use tiejiaoban::{Device, S3, Server, bin_dir, postgres_database, sha256_hex};

fn migrate(data: &std::path::Path, db: &str, bucket: &str, s3: &S3, extra: &[&str]) -> std::process::Output {
    Command::new(bin_dir().join("sync-server"))
        .args(["migrate", "--data"])
        .arg(data)
        .args(["--to-database", db, "--to-blobs", bucket])
        .args(extra)
        .envs(s3.env())
        .output()
        .unwrap()
}

#[test]
fn a_demo_store_moves_to_postgresql_and_object_storage_and_goes_on() {
    let Some(db) = postgres_database() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("district");

    // The district's server: reports with photos, a case reviewed and dispatched, one filed at once.
    let mut old = Server::start(&data);
    let api = old.api();
    let phone = Device::new(&tmp.path().join("phone"));
    phone.register(&old.url, "inspector1");
    let mut reported = Vec::new();
    for (i, photo) in
        ["orientation-portrait-6.jpg", "orientation-landscape-3.jpg", "orientation-portrait-8.jpg"].iter().enumerate()
    {
        reported.push(phone.report(if i == 0 { "C0101" } else { "E0102" }, 41.70 + 0.01 * i as f64, photo));
    }
    phone.ok(&["sync"]);
    let chief = api.sign_in("chief1");
    let reviewed =
        api.post(&format!("/findings/{}/review", reported[1]), Some(&chief), &json!({"decision": "approve"}));
    assert_eq!(reviewed.status, 200, "{}", reviewed.body);
    let case_no = reviewed.body["case"]["case_no"].as_str().unwrap().to_owned();
    let dispatcher = api.sign_in("dispatcher1");
    let dispatched = api.post(&format!("/cases/{case_no}/actions"), Some(&dispatcher), &json!({"action": "dispatch"}));
    assert_eq!(dispatched.status, 200, "{}", dispatched.body);
    phone.ok(&["sync"]);
    let before: Vec<Value> = api.get("/cases", Some(&dispatcher)).body["cases"].as_array().unwrap().clone();
    assert_eq!(before.len(), 2);
    let port = old.port;
    old.terminate();

    let s3 = S3::start(&tmp.path().join("s3"));
    let bucket = s3.bucket("photos", "district");
    // Cut off after each batch of rows it adds: every run says so, fails, and takes up where the one before
    // stopped, one table or batch further on, until a run has no row left to add and completes. It then
    // copies the photos and checks: the counts agree and every photo is read back from the bucket.
    let mut cuts = 0;
    let done = loop {
        let run = migrate(&data, &db.url, &bucket, &s3, &["--stop-after-rows", "1"]);
        if run.status.success() {
            break run;
        }
        let said = String::from_utf8_lossy(&run.stderr).to_string();
        assert!(said.contains("stopped after"), "{said}{}", String::from_utf8_lossy(&run.stdout));
        cuts += 1;
        assert!(cuts < 1000, "the copy never ends");
    };
    assert!(cuts >= 10, "a demo store has rows in many tables: cut {cuts} times");
    let said = String::from_utf8_lossy(&done.stdout).to_string();
    assert!(said.contains("3 photos copied") && said.contains("3 photos read back"), "{said}");
    assert!(said.contains("counts equal (3 findings, 2 cases)"), "{said}");
    // Once more: nothing new.
    let again = migrate(&data, &db.url, &bucket, &s3, &[]);
    let said = String::from_utf8_lossy(&again.stdout).to_string();
    assert!(again.status.success() && said.contains("(0 new this run), 0 photos copied"), "{said}");

    // The server on the copy, where the old one was (a new data directory: nothing is read from the old one).
    let env = s3.env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let new = Server::start_with(
        &tmp.path().join("city"),
        port,
        &["--database", &db.url, "--blobs", &bucket, "--timezone", "+08:00"],
        &env,
    );
    let api = new.api();
    let dispatcher = api.sign_in("dispatcher1");
    let after: Vec<Value> = api.get("/cases", Some(&dispatcher)).body["cases"].as_array().unwrap().clone();
    assert_eq!(after.len(), 2);
    let case = api.get(&format!("/cases/{case_no}"), Some(&dispatcher));
    assert_eq!(case.body["state"], "dispatched", "{}", case.body);
    let actions: Vec<&str> =
        case.body["history"].as_array().unwrap().iter().map(|h| h["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["file", "dispatch"]);
    // Every photo comes back from the bucket whole.
    let chief = api.sign_in("chief1");
    let today = chrono::Utc::now().with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap());
    let review = api.get(&format!("/review?date={}", today.format("%Y-%m-%d")), Some(&chief));
    assert_eq!(review.status, 200, "{}", review.body);
    let shas: Vec<String> = review.body["findings"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| f["photos"].as_array().unwrap().iter().map(|p| p["sha256"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(shas.len(), 3, "{}", review.body);
    for sha in shas {
        let (status, bytes) = api.get_blob(&chief, &sha);
        assert_eq!((status, sha256_hex(&bytes)), (200, sha));
    }
    // The phone goes on with its token and its cursor: a new report is filed under the next number.
    let next = phone.report("C0101", 41.80, "orientation-portrait-1.jpg");
    phone.ok(&["sync"]);
    let row = phone.list().into_iter().find(|f| f["id"] == next.as_str()).unwrap();
    let next_case = row["case_no"].as_str().expect("filed at once").to_owned();
    assert!(before.iter().all(|c| c["case_no"] != next_case.as_str()), "case numbers never repeat: {next_case}");
    assert_eq!(phone.list().iter().filter(|f| f["case_no"].is_string()).count(), 3);
}
