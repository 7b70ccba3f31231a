//! Faults of the field: a connection cut in the middle of a photo, and the app killed while saving or
//! syncing. The store must reopen consistent and the server must end with every finding exactly once.

use std::process::{Command, Stdio};
use std::time::Duration;

use tiejiaoban::{CutProxy, Device, Server, bin_dir, fixture};

/// The largest piece of a photo the device sends in one request.
const CHUNK: u64 = 256 * 1024;

#[test]
fn a_cut_upload_resumes_and_sends_again_at_most_one_chunk() {
    let tmp = tempfile::tempdir().unwrap();
    for (i, fraction) in [0.1f64, 0.45, 0.8].into_iter().enumerate() {
        let server = Server::start(&tmp.path().join(format!("server-{i}")));
        let proxy = CutProxy::start(server.port);
        let device = Device::new(&tmp.path().join(format!("phone-{i}")));
        device.register(&proxy.url(), "inspector1");
        device.report("C0101", 41.80, "iphone_hdr_YES.jpg");
        let status: serde_json::Value = serde_json::from_str(&device.ok(&["status", "--json"])).unwrap();
        let photo = status["pending_photo_bytes"].as_u64().unwrap();
        assert!(photo > CHUNK, "the photo ({photo} bytes) needs several chunks for this test");

        let start = proxy.sent();
        let cut = (photo as f64 * fraction) as u64;
        proxy.cut_after(cut);
        let first = device.run(&["sync"]);
        assert!(!first.status.success(), "the cut at byte {cut} must break the sync");
        assert_eq!(proxy.cuts(), 1);
        device.ok(&["sync"]);
        let total = proxy.sent() - start;
        // Everything the device sent: the photo once, at most one chunk again, and small requests around it.
        assert!(total >= photo, "{total} < {photo}");
        assert!(total <= photo + CHUNK + 32 * 1024, "cut at {cut}: sent {total} for a {photo}-byte photo");
        assert_eq!(server.count("SELECT COUNT(*) FROM findings"), 1);
        assert_eq!(server.count("SELECT COUNT(*) FROM blobs"), 1);
        assert_eq!(server.count("SELECT COUNT(*) FROM uploads"), 0, "no upload left half done");
    }
}

/// A deterministic sequence of delays, so a failure can be replayed.
fn delays(seed: u64, n: usize, max_ms: u64) -> Vec<u64> {
    let mut x = seed;
    (0..n)
        .map(|_| {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (x >> 33) % max_ms
        })
        .collect()
}

#[test]
fn a_device_killed_mid_capture_and_mid_sync_loses_nothing_and_doubles_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("server"));
    let home = tmp.path().join("phone");
    let device = Device::new(&home);
    device.register(&server.url, "inspector1");
    let patrol = bin_dir().join("patrol");
    let photo = fixture("HMD_Nokia_8.3_5G.jpg");
    let mut completed = Vec::new();

    for (i, ms) in delays(7, 12, 900).into_iter().enumerate() {
        // Mid-capture: the report is killed at some point of processing and saving.
        let mut child = Command::new(&patrol)
            .arg("--home")
            .arg(&home)
            .args(["report", "--category", "E0102", "--lat", &format!("41.{:04}", 7000 + i * 37), "--lon", "123.43"])
            .arg("--photo")
            .arg(&photo)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(ms));
        let _ = child.kill();
        let out = child.wait_with_output().unwrap();
        if out.status.success() {
            completed.push(String::from_utf8(out.stdout).unwrap().trim().to_owned());
        }
        // Mid-sync: every other round, a sync is killed too.
        if i % 2 == 1 {
            let mut sync = Command::new(&patrol)
                .arg("--home")
                .arg(&home)
                .arg("sync")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            std::thread::sleep(Duration::from_millis(ms / 2));
            let _ = sync.kill();
            let _ = sync.wait();
        }
        // The store reopens consistent every time.
        let check = device.run(&["check"]);
        assert!(check.status.success(), "round {i}: {}", String::from_utf8_lossy(&check.stdout));
    }
    let integrity: String = rusqlite::Connection::open(home.join("device.sqlite"))
        .unwrap()
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(integrity, "ok");

    device.ok(&["sync"]);
    let listed: Vec<String> = device.list().iter().map(|f| f["id"].as_str().unwrap().to_owned()).collect();
    for id in &completed {
        assert!(listed.contains(id), "finding {id} was reported but is lost");
    }
    assert!(device.list().iter().all(|f| f["local_state"] == "received"), "everything queued reached the server");
    for id in &listed {
        let n: i64 = server.db().query_row("SELECT COUNT(*) FROM findings WHERE id = ?1", [id], |r| r.get(0)).unwrap();
        assert_eq!(n, 1, "finding {id} held {n} times");
    }
    assert_eq!(
        server.count("SELECT COUNT(*) FROM findings"),
        listed.len() as i64,
        "no finding the device does not have"
    );
    // No photo file without a row: every file in photos/ belongs to a finding.
    let files = std::fs::read_dir(home.join("photos"))
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned());
    let db = rusqlite::Connection::open(home.join("device.sqlite")).unwrap();
    for name in files {
        let sha = name.trim_end_matches(".jpg").trim_end_matches(".thumb");
        let known: bool =
            db.query_row("SELECT EXISTS (SELECT 1 FROM photo_files WHERE sha256 = ?1)", [sha], |r| r.get(0)).unwrap();
        assert!(known, "orphan photo file {name}");
    }
}

/// A server, and a device registered with it holding one unsent finding; the device's photo and its name.
fn device_with_a_photo(tmp: &std::path::Path) -> (Server, Device, Vec<u8>, String) {
    let server = Server::start(&tmp.join("server"));
    let device = Device::new(&tmp.join("phone"));
    device.register(&server.url, "inspector1");
    device.report("C0101", 41.80, "iphone_hdr_YES.jpg");
    let photos: Vec<_> = std::fs::read_dir(tmp.join("phone").join("photos"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "jpg") && !p.to_string_lossy().contains("thumb"))
        .collect();
    let path = photos.iter().max_by_key(|p| std::fs::metadata(p).unwrap().len()).expect("the device's photo");
    let bytes = std::fs::read(path).unwrap();
    let sha = tiejiaoban::sha256_hex(&bytes);
    assert!(path.to_string_lossy().contains(&sha), "photos are named by their hash");
    (server, device, bytes, sha)
}

/// Sends `body` as a resumable upload's first chunk, announcing `length` bytes in all.
fn first_chunk(server: &Server, sha: &str, length: usize, body: &[u8]) {
    let api = server.api();
    let (_, token) = api.register("inspector1");
    assert_eq!(api.patch_blob(&token, sha, 0, length, body).status, 204);
}

/// The device's finding and photo are on the server, once and whole.
fn stored_once(server: &Server, sha: &str, bytes: &[u8]) {
    assert_eq!(server.count("SELECT COUNT(*) FROM findings"), 1, "the finding is applied");
    assert_eq!(server.count("SELECT COUNT(*) FROM blobs"), 1);
    assert_eq!(server.count("SELECT COUNT(*) FROM uploads"), 0, "no upload left half done");
    let api = server.api();
    let token = api.sign_in("chief1");
    let (status, back) = api.get_blob(&token, sha);
    assert_eq!(status, 200);
    assert!(back == bytes, "the photo is stored whole");
}

#[test]
fn an_upload_whose_bytes_all_came_but_whose_commit_did_not_is_finished_by_the_device() {
    use std::io::Write;

    let tmp = tempfile::tempdir().unwrap();
    let (mut server, device, bytes, sha) = device_with_a_photo(tmp.path());
    // All but the last kilobyte sent as a resumable upload, then the rest kept by the server without the
    // photo being committed: what a crash after the last chunk's bytes were flushed leaves.
    let split = bytes.len() - 1000;
    first_chunk(&server, &sha, bytes.len(), &bytes[..split]);
    assert!(server.terminate().success());
    let data = tmp.path().join("server");
    let partial = data.join("blobs").join("partial").join(&sha);
    std::fs::OpenOptions::new().append(true).open(&partial).unwrap().write_all(&bytes[split..]).unwrap();

    let server = Server::start_with(&data, server.port, &[], &[]);
    let api = server.api();
    let (_, token) = api.register("inspector1");
    assert_eq!(
        api.head_blob(&token, &sha).held(),
        (Some(bytes.len().to_string().as_str()), Some("false")),
        "the server holds every byte of an upload it has not finished"
    );

    device.ok(&["sync"]);
    stored_once(&server, &sha, &bytes);
}

#[test]
fn an_upload_begun_under_the_photo_s_name_with_more_bytes_is_started_over_by_the_device() {
    let tmp = tempfile::tempdir().unwrap();
    let (server, device, bytes, sha) = device_with_a_photo(tmp.path());
    // Another client began an upload under this name, announcing more bytes than the photo has, and has sent
    // more than it has: the server holds more bytes than the device's photo.
    let mut longer = bytes.clone();
    longer.extend(std::iter::repeat_n(7u8, 5000));
    first_chunk(&server, &sha, longer.len() + 10_000, &longer);

    device.ok(&["sync"]);
    stored_once(&server, &sha, &bytes);
}
