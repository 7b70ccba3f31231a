//! Faults of the field at fixed points: a connection cut in the middle of a photo, and uploads a crash left
//! between their last bytes and their commit. The seeded fault runs at counts are in `faults.rs`.

use tiejiaoban::{CutProxy, Device, Server};

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
