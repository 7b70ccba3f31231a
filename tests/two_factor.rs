//! Two-factor sign-in (TOTP): a console user sets up an authenticator app and from then on signs in with its
//! code; a code is taken once; a wrong code is a wrong password to the throttle; an admin resets a lost phone;
//! a server started with `--require-totp-for-admins` lets an admin without one in only to set it up.
//!
//! Codes are those of the 30-second step the test is in (n) and the next (n + 1), both of which the server
//! takes whenever, within the next 30 s, it checks them.

use serde_json::{Value, json};
use tiejiaoban::{Answer, Api, Server};
use totp_rs::{Algorithm, Secret, TOTP};

/// The code of time step `now + ahead` for a secret, as the user's app shows it.
fn code(secret: &str, ahead: u64) -> String {
    let bytes = Secret::Encoded(secret.to_owned()).to_bytes().unwrap();
    let totp = TOTP::new(Algorithm::SHA1, 6, 0, 30, bytes, None, "test".into()).unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    totp.generate(now + 30 * ahead)
}

/// A code that is none of the codes the server takes now.
fn wrong(secret: &str) -> String {
    let taken: Vec<String> = (0..3).map(|k| code(secret, k)).collect();
    (0..1_000_000).map(|n| format!("{n:06}")).find(|c| !taken.contains(c)).unwrap()
}

fn sign_in(api: &Api, username: &str, totp: Option<&str>) -> Answer {
    let mut body = json!({"username": username, "password": "demo1234"});
    if let Some(code) = totp {
        body["totp"] = json!(code);
    }
    api.post("/sessions", None, &body)
}

fn delete(api: &Api, path: &str, token: &str, body: Option<Value>) -> Answer {
    let mut req = api.http.delete(format!("{}{path}", api.base)).bearer_auth(token);
    if let Some(body) = body {
        req = req.json(&body);
    }
    api.send(req)
}

/// Sets up two-factor sign-in for a signed-in user, confirming with the code of step n; returns the secret.
fn enrol(api: &Api, token: &str) -> String {
    enrol_with(api, token).0
}

/// `enrol`, returning the confirming code too.
fn enrol_with(api: &Api, token: &str) -> (String, String) {
    let begun = api.post("/me/totp", Some(token), &json!({}));
    assert_eq!(begun.status, 201, "{}", begun.body);
    let secret = begun.body["secret"].as_str().unwrap().to_owned();
    let url = begun.body["otpauth_url"].as_str().unwrap();
    assert!(url.starts_with("otpauth://totp/Tiejiaoban:") && url.contains(&secret), "{url}");
    let confirming = code(&secret, 0);
    let confirmed = api.post("/me/totp/confirm", Some(token), &json!({"code": confirming}));
    assert_eq!(confirmed.status, 200, "{}", confirmed.body);
    assert_eq!(confirmed.body["enabled"], true);
    (secret, confirming)
}

fn asks_for_the_code(answer: &Answer) {
    assert_eq!((answer.status, answer.code()), (401, "unauthorized"), "{}", answer.body);
    assert_eq!(answer.body["error"]["details"]["field"], "totp", "{}", answer.body);
}

#[test]
fn a_user_with_a_second_factor_signs_in_with_a_code_taken_once() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("server"));
    let api = server.api();
    let chief = api.sign_in("chief1");
    let off = api.get("/me/totp", Some(&chief));
    assert_eq!((off.body["enabled"].as_bool(), off.body["required"].as_bool()), (Some(false), Some(false)));

    // A wrong first code changes nothing; the right one puts it in force.
    let begun = api.post("/me/totp", Some(&chief), &json!({})).body;
    let pending = begun["secret"].as_str().unwrap();
    let refused = api.post("/me/totp/confirm", Some(&chief), &json!({"code": wrong(pending)}));
    assert_eq!((refused.status, refused.body["error"]["details"]["field"].as_str()), (422, Some("code")));
    assert_eq!(api.get("/me/totp", Some(&chief)).body["enabled"], false);
    assert_eq!(sign_in(&api, "chief1", None).status, 201, "not in force before it is confirmed");
    let (secret, confirming) = enrol_with(&api, &chief);
    assert_eq!(api.post("/me/totp", Some(&chief), &json!({})).status, 409, "turned off first, not swapped");

    // The password alone is not enough, however often; it is not a guess either (no 429).
    for _ in 0..6 {
        asks_for_the_code(&sign_in(&api, "chief1", None));
    }
    asks_for_the_code(&sign_in(&api, "chief1", Some(&wrong(&secret))));
    asks_for_the_code(&sign_in(&api, "chief1", Some("12345")));
    // The confirming code (step n) is spent, even once the clock has reached step n + 1 (the code itself, not
    // the code of the step that is now); the next step's is taken, once.
    asks_for_the_code(&sign_in(&api, "chief1", Some(&confirming)));
    let next = code(&secret, 1);
    let signed_in = sign_in(&api, "chief1", Some(&next));
    assert_eq!(signed_in.status, 201, "{}", signed_in.body);
    asks_for_the_code(&sign_in(&api, "chief1", Some(&next)));
    // A wrong password with the right code is a wrong password.
    let wrong_password = api.post("/sessions", None, &json!({"username": "chief1", "password": "nope", "totp": next}));
    assert_eq!(wrong_password.status, 401);
    assert!(wrong_password.body["error"]["details"].is_null(), "nothing said of the code: {}", wrong_password.body);

    // A phone registered under the account needs the code too.
    let device =
        json!({"id": uuid::Uuid::now_v7().to_string(), "name": "测试机", "platform": "linux", "app_version": "t"});
    let register = |totp: Option<String>| {
        let mut body = json!({"username": "chief1", "password": "demo1234", "device": device});
        if let Some(c) = totp {
            body["totp"] = json!(c);
        }
        api.post("/devices/register", None, &body)
    };
    asks_for_the_code(&register(None));

    // The admin sees who has it, and resets it for a lost phone; others may not.
    let admin = api.sign_in("admin");
    let has_it = |name: &str| {
        let users = api.get("/users", Some(&admin)).body;
        users["users"].as_array().unwrap().iter().find(|u| u["username"] == name).unwrap()["totp_enabled"].clone()
    };
    assert_eq!((has_it("chief1"), has_it("chief2")), (json!(true), json!(false)));
    assert_eq!(delete(&api, "/users/chief1/totp", &api.sign_in("dispatcher1"), None).status, 403);
    assert_eq!(delete(&api, "/users/nobody/totp", &admin, None).status, 404);
    assert_eq!(delete(&api, "/users/chief1/totp", &admin, None).status, 204);
    assert_eq!(has_it("chief1"), json!(false));
    assert_eq!(sign_in(&api, "chief1", None).status, 201);
    assert_eq!(register(None).status, 201);

    // Turning it off takes a current code.
    let dispatcher = api.sign_in("dispatcher1");
    let secret = enrol(&api, &dispatcher);
    let refused = delete(&api, "/me/totp", &dispatcher, Some(json!({"code": wrong(&secret)})));
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert_eq!(delete(&api, "/me/totp", &dispatcher, Some(json!({"code": code(&secret, 1)}))).status, 204);
    assert_eq!(sign_in(&api, "dispatcher1", None).status, 201);

    // A phone's token does not set up the console's sign-in.
    let (_, device_token) = api.register("inspector1");
    assert_eq!(api.post("/me/totp", Some(&device_token), &json!({})).status, 403);

    let audit = api.get("/audit?limit=100", Some(&admin)).body;
    let actions: Vec<&str> =
        audit["entries"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    for action in ["totp.enable", "totp.reset", "totp.disable"] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }
}

#[test]
fn wrong_codes_are_throttled_like_wrong_passwords() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("server"));
    let api = server.api();
    let secret = enrol(&api, &api.sign_in("chief2"));
    let bad = wrong(&secret);
    let answers: Vec<u16> = (0..7).map(|_| sign_in(&api, "chief2", Some(&bad)).status).collect();
    assert_eq!(&answers[..5], &[401; 5], "{answers:?}");
    let last = sign_in(&api, "chief2", Some(&code(&secret, 1)));
    assert_eq!(last.status, 429, "even the right code waits: {}", last.body);
    assert!(last.header("retry-after").is_some());
}

#[test]
fn an_admin_must_set_up_a_second_factor_where_the_server_requires_it() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start_with(&tmp.path().join("server"), 0, &["--require-totp-for-admins"], &[]);
    let api = server.api();
    // Other roles are not asked.
    assert!(sign_in(&api, "chief1", None).body.get("enrol_second_factor").is_none());

    let first = sign_in(&api, "admin", None);
    assert_eq!((first.status, first.body["enrol_second_factor"].as_bool()), (201, Some(true)), "{}", first.body);
    let admin = first.body["token"].as_str().unwrap().to_owned();
    let refused = api.get("/users", Some(&admin));
    assert_eq!((refused.status, refused.body["error"]["details"]["field"].as_str()), (403, Some("totp")));
    assert_eq!(api.get("/me", Some(&admin)).status, 200);
    let status = api.get("/me/totp", Some(&admin)).body;
    assert_eq!((status["enabled"].as_bool(), status["required"].as_bool()), (Some(false), Some(true)));
    let device = json!({"username": "admin", "password": "demo1234",
                        "device": {"id": uuid::Uuid::now_v7().to_string(), "name": "x", "platform": "linux", "app_version": "t"}});
    assert_eq!(api.post("/devices/register", None, &device).status, 403);

    // Someone else with the password alone holds another enrol-only session meanwhile.
    let other = sign_in(&api, "admin", None).body["token"].as_str().unwrap().to_owned();
    let secret = enrol(&api, &admin);
    assert_eq!(api.get("/users", Some(&admin)).status, 200, "the session is whole once it is set up");
    assert_eq!(api.get("/me", Some(&other)).status, 401, "the other enrol-only session ends; it gains nothing");
    let off = delete(&api, "/me/totp", &admin, Some(json!({"code": code(&secret, 1)})));
    assert_eq!(off.status, 403, "required here: {}", off.body);
    asks_for_the_code(&sign_in(&api, "admin", None));
    let again = sign_in(&api, "admin", Some(&code(&secret, 1)));
    assert_eq!(again.status, 201, "{}", again.body);
    assert!(again.body.get("enrol_second_factor").is_none());
}

#[test]
fn a_phone_registers_under_an_account_with_a_second_factor_with_its_code() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("server"));
    let api = server.api();
    let secret = enrol(&api, &api.sign_in("chief2"));
    let phone = tiejiaoban::Device::new(&tmp.path().join("phone"));
    let args = ["register", "--server", server.url.as_str(), "--username", "chief2", "--password", "demo1234"];
    let refused = phone.run(&args);
    let said = String::from_utf8_lossy(&refused.stderr).into_owned();
    assert!(!refused.status.success() && said.contains("6-digit code"), "the phone says what is missing: {said}");
    let wrong_code = wrong(&secret);
    let mut with_wrong = args.to_vec();
    with_wrong.extend(["--totp", wrong_code.as_str()]);
    let said = String::from_utf8_lossy(&phone.run(&with_wrong).stderr).into_owned();
    assert!(said.contains("wrong code"), "{said}");
    let code_now = code(&secret, 1);
    let mut with_code = args.to_vec();
    with_code.extend(["--totp", code_now.as_str()]);
    phone.ok(&with_code);
}
