//! Evidence: the phone signs every op with the Ed25519 key it registered, chained to its previous op; the
//! server refuses an op whose signature does not hold, keeps the signed ops as received, and hands a case's
//! evidence package (a ZIP) to whoever may see the case; `sync-server evidence verify` checks a package
//! offline and names exactly what fails.

use protocol::evidence::{self, SigningKey};
use serde_json::{Value, json};
use tiejiaoban::{Api, Device, Server, fake_jpeg, finding_body, sha256_hex};

/// A device registered by raw calls with a key of its own; (device id, token).
fn register_with_key(api: &Api, key: &SigningKey) -> (String, String) {
    let id = uuid::Uuid::now_v7().to_string();
    let answer = api.post(
        "/devices/register",
        None,
        &json!({"username": "inspector1", "password": "demo1234",
                "device": {"id": id, "name": "签名测试", "platform": "linux", "app_version": "t", "public_key": key.public_key()}}),
    );
    assert_eq!(answer.status, 201, "{}", answer.body);
    (id, answer.body["token"].as_str().unwrap().to_owned())
}

/// An op signed by `key` as the device would sign it.
fn signed_op(key: &SigningKey, device: &str, seq: u64, body: &Value, prev: Option<&str>) -> (Value, String) {
    let bytes = evidence::signed_bytes(device.parse().unwrap(), seq, "finding.create", body, prev);
    let op = json!({"seq": seq, "kind": "finding.create", "body": body, "prev": prev, "sig": key.sign(&bytes)});
    (op, evidence::link(&bytes))
}

fn sync(api: &Api, device: &str, token: &str, ops: Vec<Value>) -> Vec<Value> {
    let answer = api.post("/sync", Some(token), &json!({"device_id": device, "ops": ops, "cursor": null}));
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.body["results"].as_array().unwrap().clone()
}

#[test]
fn the_server_takes_only_ops_whose_signature_holds() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("server"));
    let api = server.api();
    let key = SigningKey::from_seed(&[11u8; 32]).unwrap();
    let (device, token) = register_with_key(&api, &key);
    let photo = fake_jpeg(10_000, 1);
    let sha = sha256_hex(&photo);
    assert_eq!(api.put_blob(&token, &sha, "image/jpeg", photo).status, 201);
    let body = |lat: f64| finding_body(&uuid::Uuid::now_v7().to_string(), "E0102", &sha, lat);

    let (first, link) = signed_op(&key, &device, 1, &body(41.70), None);
    let (second, _) = signed_op(&key, &device, 2, &body(41.71), Some(&link));
    // Forged: signed by another key; altered: a signed body changed after signing; unsigned.
    let (forged, _) = signed_op(&SigningKey::from_seed(&[12u8; 32]).unwrap(), &device, 3, &body(41.72), None);
    let (mut altered, _) = signed_op(&key, &device, 4, &body(41.73), None);
    altered["body"]["description"] = json!("改过的");
    let unsigned = json!({"seq": 5, "kind": "finding.create", "body": body(41.74)});
    let results = sync(&api, &device, &token, vec![first.clone(), second, forged, altered, unsigned]);
    let statuses: Vec<&str> = results.iter().map(|r| r["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["applied", "applied", "rejected", "rejected", "rejected"], "{results:?}");
    for r in &results[2..] {
        assert_eq!(
            (r["error"]["code"].as_str(), r["error"]["details"]["field"].as_str()),
            (Some("invalid"), Some("sig"))
        );
    }
    assert_eq!(server.count("SELECT COUNT(*) FROM findings"), 2);

    // The signed ops are kept as received, their signatures verifiable with the registered key.
    let (kept_body, sig, prev): (String, String, Option<String>) = server
        .db()
        .query_row("SELECT body, sig, prev FROM signed_ops WHERE device_id = ?1 AND seq = 2", [&device], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .unwrap();
    assert_eq!(prev.as_deref(), Some(link.as_str()));
    let bytes = evidence::signed_bytes(
        device.parse().unwrap(),
        2,
        "finding.create",
        &serde_json::from_str(&kept_body).unwrap(),
        prev.as_deref(),
    );
    assert!(evidence::verify(&key.public_key(), &bytes, &sig));
    // A signed op the server refuses for what it says (an unknown category) is no evidence: not kept.
    let mut unknown = body(41.75);
    unknown["category"] = json!("X9999");
    let (refused, _) = signed_op(&key, &device, 6, &unknown, None);
    let result = &sync(&api, &device, &token, vec![refused])[0];
    assert_eq!(
        (result["status"].as_str(), result["error"]["details"]["field"].as_str()),
        (Some("rejected"), Some("category"))
    );
    assert_eq!(server.count("SELECT COUNT(*) FROM signed_ops"), 2);

    // A resend is the first answer, and keeps nothing twice.
    assert_eq!(sync(&api, &device, &token, vec![first])[0]["status"], "duplicate");
    assert_eq!(server.count("SELECT COUNT(*) FROM signed_ops"), 2);

    // A key that is not one is refused at registration.
    let bad = api.post(
        "/devices/register",
        None,
        &json!({"username": "inspector1", "password": "demo1234",
                "device": {"id": uuid::Uuid::now_v7().to_string(), "name": "x", "platform": "p", "app_version": "1", "public_key": "AAAA"}}),
    );
    assert_eq!((bad.status, bad.body["error"]["details"]["field"].as_str()), (422, Some("device.public_key")));
}

#[test]
fn the_phone_signs_every_op_in_one_chain() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("server"));
    let phone = Device::new(&tmp.path().join("phone"));
    phone.register(&server.url, "inspector1");
    for i in 0..3 {
        phone.report("E0102", 41.70 + f64::from(i) * 0.01, "orientation-portrait-1.jpg");
    }
    phone.ok(&["sync"]);
    let db = server.db();
    let key: String = db.query_row("SELECT public_key FROM devices", [], |r| r.get(0)).unwrap();
    let mut stmt = db.prepare("SELECT device_id, seq, kind, body, prev, sig FROM signed_ops ORDER BY seq").unwrap();
    let ops: Vec<(String, u64, String, String, Option<String>, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get::<_, i64>(1)? as u64, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(ops.len(), 3, "every op the phone made is signed and kept");
    let mut previous: Option<String> = None;
    for (device, seq, kind, body, prev, sig) in &ops {
        assert_eq!(prev, &previous, "op {seq} links to the one before");
        let bytes = evidence::signed_bytes(
            device.parse().unwrap(),
            *seq,
            kind,
            &serde_json::from_str(body).unwrap(),
            prev.as_deref(),
        );
        assert!(evidence::verify(&key, &bytes, sig), "op {seq}");
        previous = Some(evidence::link(&bytes));
    }
}

/// The entries of a ZIP, in order.
fn entries(zip: &[u8]) -> Vec<(String, Vec<u8>)> {
    use std::io::Read;
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).unwrap();
    (0..archive.len())
        .map(|i| {
            let mut file = archive.by_index(i).unwrap();
            let mut bytes = Vec::new();
            file.read_to_end(&mut bytes).unwrap();
            (file.name().to_owned(), bytes)
        })
        .collect()
}

fn rezip(entries: &[(String, Vec<u8>)]) -> Vec<u8> {
    use std::io::Write;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, bytes) in entries {
        zip.start_file(name.as_str(), zip::write::SimpleFileOptions::default()).unwrap();
        zip.write_all(bytes).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

/// `sync-server evidence verify` on a package: (succeeded, what it printed).
fn verify(dir: &std::path::Path, name: &str, package: &[u8]) -> (bool, String) {
    let file = dir.join(name);
    std::fs::write(&file, package).unwrap();
    let out = std::process::Command::new(tiejiaoban::bin_dir().join("sync-server"))
        .args(["evidence", "verify"])
        .arg(&file)
        .output()
        .unwrap();
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

#[test]
fn a_cases_evidence_package_verifies_offline_and_names_what_was_altered() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("server"));
    let api = server.api();
    let phone = Device::new(&tmp.path().join("phone"));
    phone.register(&server.url, "inspector1");
    let first = phone.report("C0101", 41.70, "orientation-portrait-1.jpg");
    let second = phone.report("C0101", 41.72, "orientation-landscape-1.jpg");
    phone.ok(&["sync"]);
    let case_no: String =
        server.db().query_row("SELECT case_no FROM findings WHERE id = ?1", [&second], |r| r.get(0)).unwrap();

    let dispatcher = api.sign_in("dispatcher1");
    let response =
        api.http.get(format!("{}/cases/{case_no}/evidence", api.base)).bearer_auth(&dispatcher).send().unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/zip");
    let package = response.bytes().unwrap().to_vec();
    let names: Vec<String> = entries(&package).into_iter().map(|(n, _)| n).collect();
    for expected in [
        "manifest.json".to_owned(),
        "case.json".to_owned(),
        format!("findings/{second}/op.json"),
        format!("findings/{second}/signed.json"),
        format!("findings/{second}/previous-op.json"),
        format!("findings/{second}/previous-signed.json"),
    ] {
        assert!(names.contains(&expected), "{expected} in {names:?}");
    }
    assert!(names.iter().any(|n| n.starts_with("devices/") && n.ends_with(".pem")), "{names:?}");
    assert!(names.iter().any(|n| n.starts_with("photos/")), "{names:?}");

    let (ok, said) = verify(tmp.path(), "whole.zip", &package);
    assert!(ok, "{said}");
    assert_eq!(said.lines().count(), 1, "{said}");
    assert!(said.contains(&format!("finding {second}: signature holds")) && said.contains("linked to op"), "{said}");

    // A photo altered inside the package.
    let mut altered = entries(&package);
    let (photo_name, photo) = altered.iter_mut().find(|(n, _)| n.starts_with("photos/")).unwrap();
    let sha = photo_name.trim_start_matches("photos/").trim_end_matches(".jpg").to_owned();
    let last = photo.len() - 3;
    photo[last] ^= 0xFF;
    let (ok, said) = verify(tmp.path(), "photo.zip", &rezip(&altered));
    assert!(!ok && said.contains(&format!("photo {sha} of finding {second} was altered")), "{said}");

    // The link to the op before removed.
    let unlinked: Vec<_> = entries(&package).into_iter().filter(|(n, _)| !n.ends_with("previous-op.json")).collect();
    let (ok, said) = verify(tmp.path(), "link.zip", &rezip(&unlinked));
    assert!(!ok && said.contains(&format!("finding {second}: the chain link is broken")), "{said}");

    // The signed op's body changed (the description), so its signature no longer holds.
    let mut forged = entries(&package);
    let (_, op) = forged.iter_mut().find(|(n, _)| n.ends_with("/op.json")).unwrap();
    let mut value: Value = serde_json::from_slice(op).unwrap();
    value["body"]["description"] = json!("没有问题");
    *op = serde_json::to_vec(&value).unwrap();
    let (ok, said) = verify(tmp.path(), "forged.zip", &rezip(&forged));
    assert!(!ok && said.contains("does not verify"), "{said}");

    // The case's record altered (the finding's place and description), its op left alone.
    let mut rewritten = entries(&package);
    let (_, case_json) = rewritten.iter_mut().find(|(n, _)| n == "case.json").unwrap();
    let mut case: Value = serde_json::from_slice(case_json).unwrap();
    let record = case["findings"].as_array_mut().unwrap().iter_mut().find(|f| f["id"] == second.as_str()).unwrap();
    record["description"] = json!("已处理");
    record["location"]["lat"] = json!(41.9);
    *case_json = serde_json::to_vec(&case).unwrap();
    let (ok, said) = verify(tmp.path(), "record.zip", &rezip(&rewritten));
    assert!(!ok && said.contains("differs from the signed op in description, location.lat"), "{said}");

    // Who may not see the case gets no package; a case that does not exist is 404.
    let other = api
        .http
        .get(format!("{}/cases/{case_no}/evidence", api.base))
        .bearer_auth(api.sign_in("chief2"))
        .send()
        .unwrap();
    assert_eq!(other.status(), 403);
    assert_eq!(api.get("/cases/C20990101-9999/evidence", Some(&dispatcher)).status, 404);
    let _ = first;
}
