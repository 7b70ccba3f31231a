//! TLS served directly (`serve --tls-cert --tls-key`): a client that trusts the certificate reaches the API
//! over HTTPS and every answer carries Strict-Transport-Security; plain HTTP on that port gets no answer; a key
//! that is not one stops the start with a message naming the files.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use tiejiaoban::bin_dir;

#[test]
fn the_server_speaks_https_with_hsts_and_nothing_in_the_clear() {
    let tmp = tempfile::tempdir().unwrap();
    let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()]).unwrap();
    let (cert_pem, key_pem) = (cert.cert.pem(), cert.signing_key.serialize_pem());
    let (cert_path, key_path) = (tmp.path().join("cert.pem"), tmp.path().join("key.pem"));
    std::fs::write(&cert_path, &cert_pem).unwrap();
    std::fs::write(&key_path, &key_pem).unwrap();

    let mut child = Command::new(bin_dir().join("sync-server"))
        .args(["serve", "--listen", "127.0.0.1:0", "--demo"])
        .arg("--data")
        .arg(tmp.path().join("server"))
        .arg("--tls-cert")
        .arg(&cert_path)
        .arg("--tls-key")
        .arg(&key_path)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    while !line.starts_with("listening on ") {
        line.clear();
        assert!(out.read_line(&mut line).unwrap() > 0, "the server ended before listening");
    }
    let url = line.trim().strip_prefix("listening on ").unwrap().to_owned();
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");

    let trusting = reqwest::blocking::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(cert_pem.as_bytes()).unwrap())
        .build()
        .unwrap();
    let health = trusting.get(format!("{url}/api/v1/health")).send().unwrap();
    assert_eq!(health.status(), 200);
    assert_eq!(health.headers()["strict-transport-security"], "max-age=31536000");
    let signed_in = trusting
        .post(format!("{url}/api/v1/sessions"))
        .json(&serde_json::json!({"username": "chief1", "password": "demo1234"}))
        .send()
        .unwrap();
    assert_eq!(signed_in.status(), 201);
    // A client that does not trust it, and one speaking plain HTTP, get nothing.
    assert!(reqwest::blocking::get(format!("{url}/api/v1/health")).is_err(), "an untrusted certificate is refused");
    let clear = url.replace("https://", "http://");
    // (The server waits for a TLS hello that never comes; the client gives up after a while.)
    let impatient = reqwest::blocking::Client::builder().timeout(std::time::Duration::from_secs(3)).build().unwrap();
    let plain = impatient.get(format!("{clear}/api/v1/health")).send();
    assert!(plain.is_err() || !plain.unwrap().status().is_success(), "nothing is served in the clear");
    let _ = child.kill();
    let _ = child.wait();

    // A key that is not one stops the start.
    std::fs::write(&key_path, "not a key").unwrap();
    let refused = Command::new(bin_dir().join("sync-server"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .arg("--data")
        .arg(tmp.path().join("server"))
        .arg("--tls-cert")
        .arg(&cert_path)
        .arg("--tls-key")
        .arg(&key_path)
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("--tls-key"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
}
