//! Retention (`serve --purge-photos-after-days N`): the photos of cases closed more than N days ago are
//! removed — their bytes gone from the packs, their hashes and the history kept — and a photo still used by
//! an open case or a finding not filed stays. Run here by an admin (`POST /retention/run`), as the nightly
//! run does; each run is in the audit log.

use std::os::unix::fs::FileExt;

use serde_json::{Value, json};
use tiejiaoban::{Api, Server, fake_jpeg, sha256_hex};

/// A finding with `before` photos (and `after` ones: fixed on the spot, a case closed as it is filed).
fn finding(category: &str, lat: f64, before: &[&str], after: &[&str]) -> Value {
    let now = chrono::Local::now().fixed_offset().to_rfc3339();
    let photo = |sha: &&str, role: &str| json!({"sha256": sha, "role": role, "taken_at": now, "width": 1600, "height": 1200, "bytes": 1000});
    let photos: Vec<Value> =
        before.iter().map(|s| photo(s, "before")).chain(after.iter().map(|s| photo(s, "after"))).collect();
    json!({"id": uuid::Uuid::now_v7().to_string(), "category": category, "description": "留存测试",
           "urgent": false, "fixed_on_spot": !after.is_empty(),
           "location": {"lat": lat, "lon": 123.4328, "accuracy_m": 5.0, "source": "gps", "fixed_at": now},
           "observed_at": now, "photos": photos})
}

/// Sends `bodies` as `finding.create` ops numbered from `first_seq`.
fn sync(api: &Api, device: &(String, String), first_seq: usize, bodies: &[Value]) -> Vec<Value> {
    let ops: Vec<Value> = bodies
        .iter()
        .enumerate()
        .map(|(i, b)| json!({"seq": first_seq + i, "kind": "finding.create", "body": b}))
        .collect();
    let answer = api.post("/sync", Some(&device.1), &json!({"device_id": device.0, "ops": ops, "cursor": null}));
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.body["results"].as_array().unwrap().clone()
}

#[test]
fn photos_of_closed_cases_are_removed_and_photos_still_in_use_stay() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start_with(&tmp.path().join("server"), 0, &["--purge-photos-after-days", "0"], &[]);
    let api = server.api();
    let admin = api.sign_in("admin");
    let device = api.register("inspector1");
    let photos: Vec<Vec<u8>> = (0..5).map(|i| fake_jpeg(20_000 + i * 4_000, 300 + i as u64)).collect();
    let shas: Vec<String> = photos.iter().map(|p| sha256_hex(p)).collect();
    for (sha, bytes) in shas.iter().zip(&photos) {
        assert_eq!(api.put_blob(&device.1, sha, "image/jpeg", bytes.clone()).status, 201);
    }
    let s: Vec<&str> = shas.iter().map(String::as_str).collect();
    // A: fixed on the spot, closed (photos 0, 1). B: an open case (photo 2). D: closed, but its before photo
    // (2) is B's too; its after photo (3) is its own. C: awaiting review, no case (photo 4). 0.01° apart.
    let bodies = [
        finding("C0101", 41.70, &[s[0]], &[s[1]]),
        finding("C0101", 41.71, &[s[2]], &[]),
        finding("C0101", 41.72, &[s[2]], &[s[3]]),
        finding("E0102", 41.73, &[s[4]], &[]),
    ];
    let results = sync(&api, &device, 1, &bodies);
    assert!(results.iter().all(|r| r["status"] == "applied"), "{results:?}");
    let closed_case = results[0]["finding"]["case_no"].as_str().unwrap().to_owned();
    assert_eq!(api.get(&format!("/cases/{closed_case}"), Some(&admin)).body["state"], "closed");

    // Where photo 0 lies in its pack, to look at the bytes afterwards.
    let (pack, offset): (i64, i64) = server
        .db()
        .query_row("SELECT pack, pack_offset FROM blobs WHERE sha256 = ?1", [&shas[0]], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap();
    let pack_path = server.data.join(format!("blobs/packs/{pack:08}.pack"));
    let pack_len = std::fs::metadata(&pack_path).unwrap().len();

    assert_eq!(api.post("/retention/run", Some(&api.sign_in("dispatcher1")), &json!({})).status, 403);
    let run = api.post("/retention/run", Some(&admin), &json!({}));
    assert_eq!(run.status, 200, "{}", run.body);
    let removed: u64 = [0, 1, 3].iter().map(|&i| photos[i].len() as u64).sum();
    assert_eq!((run.body["photos"].as_u64(), run.body["bytes"].as_u64()), (Some(3), Some(removed)), "{}", run.body);

    for (i, sha) in shas.iter().enumerate() {
        let (status, bytes) = api.get_blob(&admin, sha);
        if [0, 1, 3].contains(&i) {
            assert_eq!(status, 404, "photo {i} removed");
            assert_eq!(api.head_blob(&device.1, sha).status, 404, "photo {i} is held no more");
        } else {
            assert_eq!((status, &bytes), (200, &photos[i]), "photo {i} still in use");
        }
    }
    // The bytes are gone from the pack, which keeps its size (and every other photo's place).
    let mut at = vec![0xAAu8; photos[0].len()];
    std::fs::File::open(&pack_path).unwrap().read_exact_at(&mut at, offset as u64).unwrap();
    assert!(at.iter().all(|b| *b == 0), "photo 0's bytes are still in the pack");
    assert_eq!(std::fs::metadata(&pack_path).unwrap().len(), pack_len);
    // The case keeps its record: the photos' hashes are still named.
    let case = api.get(&format!("/cases/{closed_case}"), Some(&admin)).body;
    assert!(case.to_string().contains(&shas[0]) && case.to_string().contains(&shas[1]), "{case}");

    let audit = api.get("/audit?action=photos.purge", Some(&admin)).body;
    let entries = audit["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{audit}");
    assert_eq!(entries[0]["actor"], "admin");
    assert!(entries[0]["detail"].as_str().unwrap().starts_with("3 photos"), "{}", entries[0]);

    // A removed photo is held no more: a new finding naming it waits for it to be sent again.
    let retry = sync(&api, &device, 10, &[finding("E0102", 41.75, &[s[1]], &[])]);
    assert_eq!(retry[0]["status"], "retry", "{retry:?}");
    assert_eq!(retry[0]["error"]["details"]["missing"], json!([shas[1]]));

    // Nothing left to remove; the same bytes uploaded again are stored anew.
    assert_eq!(api.post("/retention/run", Some(&admin), &json!({})).body["photos"], 0);
    assert_eq!(api.put_blob(&device.1, &shas[0], "image/jpeg", photos[0].clone()).status, 201);
    assert_eq!(api.get_blob(&admin, &shas[0]), (200, photos[0].clone()));
}

#[test]
fn without_the_setting_nothing_is_removed() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("server"));
    let api = server.api();
    let run = api.post("/retention/run", Some(&api.sign_in("admin")), &json!({}));
    assert_eq!((run.status, run.code()), (409, "conflict"), "{}", run.body);
}

#[test]
fn in_object_storage_the_photos_objects_are_deleted() {
    let tmp = tempfile::tempdir().unwrap();
    let s3 = tiejiaoban::S3::start(&tmp.path().join("s3"));
    let url = s3.bucket("photos", "city-b");
    let env = s3.env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let args = ["--blobs", url.as_str(), "--purge-photos-after-days", "0"];
    let server = Server::start_with(&tmp.path().join("server"), 0, &args, &env);
    let api = server.api();
    let device = api.register("inspector1");
    let photos = [fake_jpeg(30_000, 901), fake_jpeg(31_000, 902)];
    let shas: Vec<String> = photos.iter().map(|p| sha256_hex(p)).collect();
    for (sha, bytes) in shas.iter().zip(&photos) {
        assert_eq!(api.put_blob(&device.1, sha, "image/jpeg", bytes.clone()).status, 201);
    }
    let objects = tmp.path().join("s3/photos/city-b/photos");
    assert!(shas.iter().all(|s| objects.join(s).is_file()));
    sync(&api, &device, 1, &[finding("C0101", 41.70, &[&shas[0]], &[&shas[1]])]);

    let run = api.post("/retention/run", Some(&api.sign_in("admin")), &json!({}));
    assert_eq!(run.body["photos"], 2, "{}", run.body);
    assert!(shas.iter().all(|s| !objects.join(s).exists()), "the objects are deleted");
}

#[test]
fn a_photo_whose_bytes_cannot_be_removed_stays_held_and_is_tried_again() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start_with(&tmp.path().join("server"), 0, &["--purge-photos-after-days", "0"], &[]);
    let api = server.api();
    let admin = api.sign_in("admin");
    let device = api.register("inspector1");
    let photos = [fake_jpeg(20_000, 701), fake_jpeg(21_000, 702)];
    let shas: Vec<String> = photos.iter().map(|p| sha256_hex(p)).collect();
    for (sha, bytes) in shas.iter().zip(&photos) {
        assert_eq!(api.put_blob(&device.1, sha, "image/jpeg", bytes.clone()).status, 201);
    }
    sync(&api, &device, 1, &[finding("C0101", 41.70, &[&shas[0]], &[&shas[1]])]);

    // The pack cannot be opened for writing: a directory stands where it was.
    let pack = server.data.join("blobs/packs/00000001.pack");
    let aside = server.data.join("pack-aside");
    std::fs::rename(&pack, &aside).unwrap();
    std::fs::create_dir(&pack).unwrap();
    let run = api.post("/retention/run", Some(&admin), &json!({}));
    assert_eq!((run.body["photos"].as_u64(), run.body["failed"].as_u64()), (Some(0), Some(2)), "{}", run.body);
    assert_eq!(server.count("SELECT COUNT(*) FROM blobs WHERE purged_at IS NOT NULL"), 0, "the marks are taken back");
    let audit = api.get("/audit?action=photos.purge", Some(&admin)).body;
    assert_eq!(audit["entries"][0]["outcome"], "partial", "{audit}");

    std::fs::remove_dir(&pack).unwrap();
    std::fs::rename(&aside, &pack).unwrap();
    for (sha, bytes) in shas.iter().zip(&photos) {
        assert_eq!(api.get_blob(&admin, sha), (200, bytes.clone()), "held as before");
    }
    let again = api.post("/retention/run", Some(&admin), &json!({}));
    assert_eq!((again.body["photos"].as_u64(), again.body["failed"].as_u64()), (Some(2), Some(0)), "{}", again.body);
}
