//! Sign-in throttling through the real server: five wrong passwords lock a username (even the right one is
//! then refused, 429 with Retry-After), an unknown username is answered exactly as a known one, other users
//! are not touched, and device registration is held to the same count.

use serde_json::json;
use tiejiaoban::{Answer, Server};

fn sign_in(api: &tiejiaoban::Api, username: &str, password: &str) -> Answer {
    api.post("/sessions", None, &json!({"username": username, "password": password}))
}

#[test]
fn wrong_passwords_lock_a_username_known_or_not_and_nobody_else() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("server"));
    let api = server.api();
    for name in ["chief1", "nobody-here"] {
        for attempt in 1..=5 {
            let a = sign_in(&api, name, "wrong-password");
            assert_eq!((a.status, a.code()), (401, "unauthorized"), "{name}, attempt {attempt}: {}", a.body);
            assert_eq!(a.body["error"]["message"], "wrong username or password", "the same words for both");
        }
        let locked = sign_in(&api, name, "demo1234");
        assert_eq!((locked.status, locked.code()), (429, "rate_limited"), "{name}: {}", locked.body);
        let wait: u64 = locked.header("retry-after").expect("Retry-After").parse().unwrap();
        assert!((1..=60).contains(&wait), "{wait}");
    }
    // The device registration of a locked name waits as well; another user signs in.
    let register = api.post(
        "/devices/register",
        None,
        &json!({"username": "chief1", "password": "demo1234",
                "device": {"id": uuid::Uuid::now_v7().to_string(), "name": "x", "platform": "linux", "app_version": "t"}}),
    );
    assert_eq!(register.status, 429, "{}", register.body);
    assert_eq!(sign_in(&api, "chief2", "demo1234").status, 201);
    // A right password before the fifth failure ends the count.
    for _ in 0..4 {
        assert_eq!(sign_in(&api, "dispatcher1", "nope-nope").status, 401);
    }
    assert_eq!(sign_in(&api, "dispatcher1", "demo1234").status, 201);
    for _ in 0..4 {
        assert_eq!(sign_in(&api, "dispatcher1", "nope-nope").status, 401);
    }
    assert_eq!(sign_in(&api, "dispatcher1", "demo1234").status, 201, "counted again from nothing");
}

/// Every answer, the console's page included, carries the security headers: scripts only from the server, no
/// framing, no referrer, no content sniffing.
#[test]
fn answers_carry_the_security_headers() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("server"));
    let api = server.api();
    let health = api.get("/health", None);
    let page = api.send(api.http.get(format!("{}/console/", server.url)));
    assert_eq!(page.status, 200, "the console is built before the tests (scripts/test.sh)");
    for answer in [&health, &page] {
        let csp = answer.header("content-security-policy").expect("a CSP");
        assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"), "{csp}");
        assert_eq!(answer.header("x-frame-options"), Some("DENY"));
        assert_eq!(answer.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(answer.header("referrer-policy"), Some("no-referrer"));
    }
}
