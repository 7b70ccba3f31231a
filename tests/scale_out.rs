//! Two `serve` processes on one PostgreSQL database and one bucket (a real S3 server) serve the same devices
//! as one server: the contract's rules hold across them. Phones sync to either; the same batch resent to both
//! at once is applied once; case numbers filed on both never repeat; an upload begun on one goes on at the
//! other; a session, a device token and a cursor issued by one work on the other; a case is reviewed,
//! handled, verified and closed with each step on whichever process.

use std::path::Path;

use serde_json::{Value, json};
use tiejiaoban::{Api, Device, PgDatabase, S3, Server, fixture, postgres_database, sha256_hex};

/// Two servers on one database and one bucket, or `None` (skip) where no PostgreSQL server is named.
struct Pair {
    a: Server,
    b: Server,
    _s3: S3,
    _db: PgDatabase,
}

fn pair(tmp: &Path) -> Option<Pair> {
    let db = postgres_database()?;
    let s3 = S3::start(&tmp.join("s3"));
    let bucket = s3.bucket("photos", "city");
    let env = s3.env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let args = ["--database", db.url.as_str(), "--blobs", bucket.as_str(), "--timezone", "+08:00"];
    // Both start at once, each seeding the demo where nothing is yet.
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| Server::start_with(&tmp.join("a"), 0, &args, &env));
        let b = s.spawn(|| Server::start_with(&tmp.join("b"), 0, &args, &env));
        (a.join().unwrap(), b.join().unwrap())
    });
    Some(Pair { a, b, _s3: s3, _db: db })
}

fn ok(a: tiejiaoban::Answer) -> Value {
    assert!(a.status == 200 || a.status == 201, "{} {}", a.status, a.body);
    a.body
}

fn cases(api: &Api, token: &str) -> Vec<Value> {
    ok(api.get("/cases", Some(token)))["cases"].as_array().cloned().unwrap_or_default()
}

#[test]
fn two_servers_serve_the_same_devices_as_one() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(p) = pair(tmp.path()) else { return };
    let (api_a, api_b) = (p.a.api(), p.b.api());

    // Phones on either server report manhole covers (filed and dispatched at once) at once: every case number
    // is new, whichever process filed it.
    let phones: Vec<Device> = (0..4).map(|i| Device::new(&tmp.path().join(format!("phone{i}")))).collect();
    for (i, phone) in phones.iter().enumerate() {
        let server = if i % 2 == 0 { &p.a } else { &p.b };
        phone.register(&server.url, if i < 2 { "inspector1" } else { "inspector2" });
    }
    let mut reported = Vec::new();
    for (i, phone) in phones.iter().enumerate() {
        for k in 0..5 {
            // 1 km apart: no two are one another's duplicate.
            let lat = 41.70 + 0.01 * (i * 5 + k) as f64;
            reported.push(phone.report("C0101", lat, "orientation-portrait-6.jpg"));
        }
    }
    std::thread::scope(|s| {
        for phone in &phones {
            s.spawn(move || phone.ok(&["sync"]));
        }
    });
    let dispatcher = api_b.sign_in("dispatcher1");
    let filed = cases(&api_a, &dispatcher);
    let mut numbers: Vec<&str> = filed.iter().map(|c| c["case_no"].as_str().unwrap()).collect();
    assert_eq!(numbers.len(), 20, "a case for each finding");
    numbers.sort();
    numbers.dedup();
    assert_eq!(numbers.len(), 20, "case numbers never repeat: {numbers:?}");

    // The same batch resent to both servers at once, eight times: applied once, answered alike.
    let (device_id, token) = api_a.register("inspector1");
    let bytes = std::fs::read(fixture("orientation-landscape-3.jpg")).unwrap();
    let sha = sha256_hex(&bytes);
    assert_eq!(api_a.put_blob(&token, &sha, "image/jpeg", bytes).status, 201);
    let ids: Vec<String> = (0..3).map(|_| uuid::Uuid::now_v7().to_string()).collect();
    let ops: Vec<Value> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            json!({"seq": i + 1, "kind": "finding.create",
                   "body": tiejiaoban::finding_body(id, "E0102", &sha, 41.90 + 0.01 * i as f64)})
        })
        .collect();
    let request = json!({"device_id": device_id, "ops": ops, "cursor": null});
    let answers: Vec<Value> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let (api, request, token) = (if i % 2 == 0 { &api_a } else { &api_b }, &request, &token);
                s.spawn(move || ok(api.post("/sync", Some(token), request))["results"].clone())
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for results in &answers {
        let statuses: Vec<&str> = results.as_array().unwrap().iter().map(|r| r["status"].as_str().unwrap()).collect();
        assert!(statuses.iter().all(|s| *s == "applied" || *s == "duplicate"), "{statuses:?}");
        let states: Vec<&Value> = results.as_array().unwrap().iter().map(|r| &r["finding"]["state"]).collect();
        let first: Vec<&Value> = answers[0].as_array().unwrap().iter().map(|r| &r["finding"]["state"]).collect();
        assert_eq!(states, first, "every answer tells the same");
    }
    let applied: usize =
        answers.iter().flat_map(|r| r.as_array().unwrap()).filter(|r| r["status"] == "applied").count();
    assert_eq!(applied, 3, "each op applied once across both servers");
    let chief = api_a.sign_in("chief1");
    let today = chrono::Utc::now().with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap());
    let review = ok(api_b.get(&format!("/review?date={}", today.format("%Y-%m-%d")), Some(&chief)));
    for id in &ids {
        let n = review["findings"].as_array().unwrap().iter().filter(|f| f["id"] == id.as_str()).count();
        assert_eq!(n, 1, "finding {id} held once");
    }

    // An upload begun on one server goes on at the other, and is read back whole from the first.
    let photo = std::fs::read(fixture("orientation-portrait-8.jpg")).unwrap();
    let photo_sha = sha256_hex(&photo);
    let half = photo.len() / 2;
    let first = api_a.patch_blob(&token, &photo_sha, 0, photo.len(), &photo[..half]);
    assert_eq!(first.status, 204, "{}", first.body);
    let held = api_b.head_blob(&token, &photo_sha);
    assert_eq!(held.held().0, Some(half.to_string().as_str()), "the other server knows what was sent");
    let rest = api_b.patch_blob(&token, &photo_sha, half, photo.len(), &photo[half..]);
    assert!(rest.status == 201 || rest.status == 204, "{} {}", rest.status, rest.body);
    let (status, back) = api_a.get_blob(&token, &photo_sha);
    assert_eq!((status, sha256_hex(&back)), (200, photo_sha.clone()), "read back whole from the first");

    // A session of one works on the other; the review on B of a finding sent to A files one case.
    let approved =
        ok(api_b.post(&format!("/findings/{}/review", ids[0]), Some(&chief), &json!({"decision": "approve"})));
    let case_no = approved["case"]["case_no"].as_str().unwrap().to_owned();
    let again = api_a.post(&format!("/findings/{}/review", ids[0]), Some(&chief), &json!({"decision": "approve"}));
    assert_eq!((again.status, again.code()), (409, "invalid_transition"), "reviewed once");

    // The case's life, each step on either server: dispatched on A, handled by the department on B, verified
    // by the phone that syncs with A, closed.
    let act =
        |api: &Api, token: &str, body: Value| ok(api.post(&format!("/cases/{case_no}/actions"), Some(token), &body));
    assert_eq!(act(&api_a, &dispatcher, json!({"action": "dispatch"}))["state"], "dispatched");
    let hw = api_b.sign_in("dept-hw");
    assert_eq!(act(&api_b, &hw, json!({"action": "accept"}))["state"], "accepted");
    assert_eq!(
        act(&api_a, &hw, json!({"action": "handle", "note": "已清运", "photos": [photo_sha]}))["state"],
        "handled"
    );
    let phone = &phones[0];
    phone.ok(&["sync"]);
    let tasks: Vec<Value> = serde_json::from_str(&phone.ok(&["tasks", "--json"])).unwrap();
    let task =
        tasks.iter().find(|t| t["case_no"] == case_no.as_str()).expect("the verification task reached the phone");
    phone.ok(&["task-complete", task["id"].as_str().unwrap(), "--result", "pass"]);
    phone.ok(&["sync"]);
    let case = ok(api_b.get(&format!("/cases/{case_no}"), Some(&dispatcher)));
    assert_eq!(case["state"], "closed");
    let actions: Vec<&str> =
        case["history"].as_array().unwrap().iter().map(|h| h["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["file", "dispatch", "accept", "handle", "verify"]);

    // A cursor issued by one server is taken by the other: the device reads on from where it was.
    let first_page = ok(api_a.post("/sync", Some(&token), &json!({"device_id": device_id, "ops": [], "cursor": null})));
    let cursor = first_page["cursor"].clone();
    let next = ok(api_b.post("/sync", Some(&token), &json!({"device_id": device_id, "ops": [], "cursor": cursor})));
    assert_eq!(next["changes"], json!([]), "nothing new since A's page");

    // A revoked device is refused by both at once.
    let admin = api_a.sign_in("admin");
    ok(api_a.post(&format!("/devices/{device_id}/revoke"), Some(&admin), &json!({})));
    for api in [&api_a, &api_b] {
        let refused = api.post("/sync", Some(&token), &json!({"device_id": device_id, "ops": [], "cursor": null}));
        assert_eq!(refused.status, 401, "{}", refused.body);
    }
}
