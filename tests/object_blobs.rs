//! Photos in S3-compatible object storage (`serve --blobs s3://BUCKET/PREFIX`), against a real S3 server
//! (s3s-fs): a phone's photos land in the bucket byte for byte and come back whole; a resumable upload cut
//! half way goes on after the server is killed, from what the bucket holds; a bucket that does not answer
//! stops the start with a clear message.

use std::process::Command;

use tiejiaoban::{Device, S3, Server, bin_dir, fixture, sha256_hex};

fn server_on(s3: &S3, data: &std::path::Path, url: &str) -> Server {
    let env = s3.env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    Server::start_with(data, 0, &["--blobs", url], &env)
}

#[test]
fn a_phones_photos_are_kept_in_the_bucket_and_read_back_whole() {
    let tmp = tempfile::tempdir().unwrap();
    let s3 = S3::start(&tmp.path().join("s3"));
    let url = s3.bucket("photos", "city-a");
    let data = tmp.path().join("server");
    let server = server_on(&s3, &data, &url);
    let phone = Device::new(&tmp.path().join("phone"));
    phone.register(&server.url, "inspector1");
    phone.report("C0101", 41.7968, "orientation-portrait-6.jpg");
    phone.ok(&["sync"]);

    let sha = server.text("SELECT sha256 FROM blobs").unwrap();
    let object = tmp.path().join("s3/photos/city-a/photos").join(&sha);
    let kept = std::fs::read(&object).expect("the photo is an object of the bucket");
    assert_eq!(sha256_hex(&kept), sha, "byte for byte");
    assert!(!data.join("blobs").exists(), "nothing of it in the data directory");
    let chunks = tmp.path().join("s3/photos/city-a/partial");
    let left: Vec<_> = walk(&chunks).into_iter().filter(|p| !p.ends_with(".json")).collect();
    assert!(left.is_empty(), "the upload's chunks are gone once the photo is kept: {left:?}");

    let api = server.api();
    let (status, bytes) = api.get_blob(&api.sign_in("chief1"), &sha);
    assert_eq!((status, sha256_hex(&bytes)), (200, sha.clone()));
    // The same photo again is answered as held.
    let token = api.sign_in("inspector1");
    assert_eq!(api.put_blob(&token, &sha, "image/jpeg", kept).status, 200);
}

fn walk(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p.display().to_string());
            }
        }
    }
    out
}

#[test]
fn a_resumable_upload_goes_on_after_a_kill_from_what_the_bucket_holds() {
    let tmp = tempfile::tempdir().unwrap();
    let s3 = S3::start(&tmp.path().join("s3"));
    let url = s3.bucket("photos", "");
    let data = tmp.path().join("server");
    let bytes = std::fs::read(fixture("orientation-landscape-6.jpg")).unwrap();
    let sha = sha256_hex(&bytes);
    let half = bytes.len() / 2;

    let mut first = server_on(&s3, &data, &url);
    let api = first.api();
    let (_, token) = api.register("inspector1");
    let sent = api.patch_blob(&token, &sha, 0, bytes.len(), &bytes[..half]);
    assert_eq!((sent.status, sent.held()), (204, (Some(half.to_string().as_str()), Some("false"))), "{}", sent.body);
    first.kill();

    let second = server_on(&s3, &data, &url);
    let api = second.api();
    let asked = api.head_blob(&token, &sha);
    assert_eq!((asked.status, asked.held()), (200, (Some(half.to_string().as_str()), Some("false"))));
    // A chunk that does not start where the bucket's bytes end is refused with the offset to resume from.
    let wrong = api.patch_blob(&token, &sha, half + 10, bytes.len(), &bytes[half + 10..]);
    assert_eq!((wrong.status, wrong.header("upload-offset")), (409, Some(half.to_string().as_str())));
    let rest = api.patch_blob(&token, &sha, half, bytes.len(), &bytes[half..]);
    assert_eq!((rest.status, rest.held()), (204, (Some(bytes.len().to_string().as_str()), Some("true"))));
    let (status, back) = api.get_blob(&token, &sha);
    assert_eq!((status, back == bytes), (200, true));
    assert_eq!(second.count("SELECT COUNT(*) FROM blobs"), 1);

    // What a crash between keeping the photo and clearing its chunks would leave: a chunk of a kept photo. The
    // next start clears it; the chunks of an upload still under way stay.
    let chunk = |sha: &str| tmp.path().join("s3/photos/partial").join(sha).join("000000000000");
    let other = std::fs::read(fixture("orientation-portrait-8.jpg")).unwrap();
    let other_sha = sha256_hex(&other);
    let begun = api.patch_blob(&token, &other_sha, 0, other.len(), &other[..1000]);
    assert_eq!(begun.status, 204, "{}", begun.body);
    drop(second);
    std::fs::create_dir_all(chunk(&sha).parent().unwrap()).unwrap();
    std::fs::write(chunk(&sha), &bytes[..100]).unwrap();
    let third = server_on(&s3, &data, &url);
    assert!(!chunk(&sha).exists(), "the kept photo's leftover chunk is cleared");
    assert!(chunk(&other_sha).exists(), "an upload under way keeps what it holds");
    let asked = third.api().head_blob(&token, &other_sha);
    assert_eq!(asked.held(), (Some("1000"), Some("false")));
    // The phone sends that photo whole instead: it is kept, and the upload's chunks go with the upload.
    assert_eq!(third.api().put_blob(&token, &other_sha, "image/jpeg", other).status, 201);
    assert!(!chunk(&other_sha).exists(), "a finished upload's chunks are cleared");
    assert_eq!(third.count("SELECT COUNT(*) FROM uploads"), 0);
}

/// A bucket that takes no writes mid-run (its server is down): an upload is answered 503 with Retry-After and
/// nothing is recorded; the phone keeps its report and sends it once the bucket takes writes again.
#[test]
fn a_bucket_that_takes_no_writes_is_answered_503_and_nothing_is_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let mut s3 = S3::start(&tmp.path().join("s3"));
    let url = s3.bucket("photos", "city");
    let server = server_on(&s3, &tmp.path().join("server"), &url);
    let phone = Device::new(&tmp.path().join("phone"));
    phone.register(&server.url, "inspector1");
    phone.report("E0102", 41.7968, "orientation-portrait-6.jpg");
    phone.ok(&["sync"]);

    s3.halt();
    let second = phone.report("E0102", 41.8068, "orientation-portrait-8.jpg");
    assert!(!phone.run(&["sync"]).status.success(), "the sync cannot have gone through");
    let row = phone.list().into_iter().find(|f| f["id"] == second.as_str()).unwrap();
    assert_eq!(row["local_state"], "queued", "{row}");
    let api = server.api();
    let (_, token) = api.register("inspector1");
    let bytes = std::fs::read(fixture("orientation-landscape-3.jpg")).unwrap();
    let sha = sha256_hex(&bytes);
    let refused = api.put_blob(&token, &sha, "image/jpeg", bytes.clone());
    assert_eq!((refused.status, refused.code()), (503, "unavailable"), "{}", refused.body);
    assert_eq!(refused.header("retry-after"), Some("60"));
    assert_eq!(server.count(&format!("SELECT COUNT(*) FROM blobs WHERE sha256 = '{sha}'")), 0, "nothing recorded");

    s3.resume();
    phone.ok(&["sync"]);
    assert_eq!(server.count("SELECT COUNT(*) FROM findings"), 2);
    assert_eq!(api.put_blob(&token, &sha, "image/jpeg", bytes.clone()).status, 201);
    assert_eq!(api.get_blob(&token, &sha), (200, bytes));
}

#[test]
fn a_bucket_that_does_not_answer_stops_the_start() {
    let tmp = tempfile::tempdir().unwrap();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let out = Command::new(bin_dir().join("sync-server"))
        .args(["serve", "--listen", "127.0.0.1:0", "--blobs", "s3://photos"])
        .arg("--data")
        .arg(tmp.path().join("server"))
        .env("AWS_ENDPOINT_URL", format!("http://127.0.0.1:{closed}"))
        .env("AWS_ACCESS_KEY_ID", "k")
        .env("AWS_SECRET_ACCESS_KEY", "s")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ALLOW_HTTP", "true")
        .env("RUST_LOG", "error")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("object store") && said.contains("s3://photos"), "{said}");
    let bad = Command::new(bin_dir().join("sync-server"))
        .args(["serve", "--listen", "127.0.0.1:0", "--blobs", "/var/photos"])
        .arg("--data")
        .arg(tmp.path().join("server"))
        .output()
        .unwrap();
    assert!(!bad.status.success() && String::from_utf8_lossy(&bad.stderr).contains("--blobs"));
}
