//! The centre chasing cases: 督办 (supervision) with a note, and a department's requests for more time or to
//! return a misrouted case, decided by the dispatcher; each with the roles that may, recorded in the history.

use serde_json::{Value, json};
use tiejiaoban::{Answer, Api, Device, Server};

fn expect(a: &Answer, status: u16, code: &str) {
    assert_eq!((a.status, a.code()), (status, code), "{}", a.body);
}

fn ok(a: Answer) -> Value {
    assert_eq!(a.status, 200, "{}", a.body);
    a.body
}

/// A case of an automatic category (C0101, a water manhole cover): filed and dispatched to SW at once.
fn dispatched_case(api: &Api, phone: &Device, lat: f64) -> String {
    let id = phone.report("C0101", lat, "orientation-landscape-1.jpg");
    phone.ok(&["sync"]);
    let listed =
        api.get(&format!("/review?date={}", chrono::Local::now().format("%Y-%m-%d")), Some(&api.sign_in("chief1")));
    let finding = listed.body["findings"].as_array().unwrap().iter().find(|f| f["id"] == id.as_str()).unwrap().clone();
    finding["case_no"].as_str().expect("filed at once").to_owned()
}

#[test]
fn the_centre_supervises_and_decides_the_departments_requests() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("server"));
    let api = server.api();
    let phone = Device::new(&tmp.path().join("phone"));
    phone.register(&server.url, "inspector1");
    let dispatcher = api.sign_in("dispatcher1");
    let chief = api.sign_in("chief1");
    // The department of water supply (SW) has no demo user: the admin adds one.
    let admin = api.sign_in("admin");
    let department = api.water_department(&admin);
    let act =
        |token: &str, case_no: &str, body: Value| api.post(&format!("/cases/{case_no}/actions"), Some(token), &body);
    let case = |case_no: &str| ok(api.get(&format!("/cases/{case_no}"), Some(&dispatcher)));

    let case_no = dispatched_case(&api, &phone, 41.7968);
    let fresh = case(&case_no);
    assert_eq!((fresh["state"].as_str(), fresh["department"].as_str()), (Some("dispatched"), Some("SW")));
    assert_eq!((fresh["light"].as_str(), fresh["supervisions"].as_i64()), (Some("green"), Some(0)));
    assert_eq!(fresh["requests"], json!([]));

    // 督办: the dispatcher's, with a note; the deadline stays; chiefs and departments may not.
    expect(&act(&dispatcher, &case_no, json!({"action": "supervise"})), 422, "invalid");
    expect(&act(&chief, &case_no, json!({"action": "supervise", "note": "快"})), 403, "forbidden");
    expect(&act(&department, &case_no, json!({"action": "supervise", "note": "快"})), 403, "forbidden");
    let supervised = ok(act(&dispatcher, &case_no, json!({"action": "supervise", "note": "群众再次来电, 请今日处理"})));
    assert_eq!(
        (supervised["supervisions"].as_i64(), supervised["due_at"].as_str()),
        (Some(1), fresh["due_at"].as_str())
    );
    let last = supervised["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!((last["action"].as_str(), last["actor"].as_str()), (Some("supervise"), Some("dispatcher1")));
    // The department sees it on its case.
    let seen = ok(api.get(&format!("/cases/{case_no}"), Some(&department)));
    assert_eq!(seen["supervisions"], 1);

    // A request for more time: the department's, with hours and a reason; nothing changes until decided.
    expect(&act(&department, &case_no, json!({"action": "request_extension", "note": "需要停水作业"})), 422, "invalid");
    expect(
        &act(&department, &case_no, json!({"action": "request_extension", "hours": 800, "note": "x"})),
        422,
        "invalid",
    );
    expect(
        &act(&dispatcher, &case_no, json!({"action": "request_extension", "hours": 24, "note": "x"})),
        403,
        "forbidden",
    );
    let asked =
        ok(act(&department, &case_no, json!({"action": "request_extension", "hours": 24, "note": "需要停水作业"})));
    assert_eq!(asked["due_at"], fresh["due_at"], "unchanged while pending");
    assert_eq!(asked["requests"][0]["state"], "pending");
    assert_eq!(
        (asked["requests"][0]["kind"].as_str(), asked["requests"][0]["hours"].as_f64()),
        (Some("extension"), Some(24.0))
    );
    let offered: Vec<&str> = asked["allowed_actions"].as_array().unwrap().iter().map(|a| a.as_str().unwrap()).collect();
    assert!(!offered.contains(&"request_return"), "one request at a time: {offered:?}");
    expect(&act(&department, &case_no, json!({"action": "request_return", "note": "不归我们"})), 409, "conflict");
    let for_dispatcher = case(&case_no);
    let offered: Vec<&str> =
        for_dispatcher["allowed_actions"].as_array().unwrap().iter().map(|a| a.as_str().unwrap()).collect();
    assert!(offered.contains(&"approve_request") && offered.contains(&"deny_request"), "{offered:?}");

    // Approved: the deadline moves; the decision and its maker are in the history, then the extension.
    expect(&act(&department, &case_no, json!({"action": "approve_request", "note": "同意"})), 403, "forbidden");
    let approved = ok(act(&dispatcher, &case_no, json!({"action": "approve_request", "note": "同意延期"})));
    assert_ne!(approved["due_at"], fresh["due_at"]);
    assert!(approved["due_at"].as_str().unwrap() > fresh["due_at"].as_str().unwrap());
    let request = &approved["requests"][0];
    assert_eq!((request["state"].as_str(), request["decided_by"].as_str()), (Some("approved"), Some("dispatcher1")));
    let actions: Vec<&str> =
        approved["history"].as_array().unwrap().iter().rev().take(2).map(|h| h["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["extend", "approve_request"]);
    expect(&act(&dispatcher, &case_no, json!({"action": "approve_request", "note": "再次"})), 409, "conflict");

    // A request to return it, denied: the case stays with the department.
    ok(act(&department, &case_no, json!({"action": "request_return", "note": "应属市政"})));
    let denied = ok(act(&dispatcher, &case_no, json!({"action": "deny_request", "note": "井盖属水务"})));
    assert_eq!((denied["state"].as_str(), denied["department"].as_str()), (Some("dispatched"), Some("SW")));
    assert_eq!(denied["requests"][1]["state"], "denied");

    // Asked again and approved: the case returns to the centre.
    ok(act(&department, &case_no, json!({"action": "request_return", "note": "确属市政"})));
    let returned = ok(act(&dispatcher, &case_no, json!({"action": "approve_request", "note": "改派市政"})));
    assert_eq!(returned["state"], "filed");
    assert_eq!(returned["history"].as_array().unwrap().last().unwrap()["action"], "return");
    assert_eq!(returned["requests"].as_array().unwrap().len(), 3);

    // Dispatched again, to SZ this time.
    ok(act(&dispatcher, &case_no, json!({"action": "dispatch", "department": "SZ"})));

    // The indicators, by hand, each fact charged to the department the case was with then: SW had one dispatch
    // (automatic, at filing), one supervision and one return, 准确派遣率 0; SZ one dispatch, no return, 1.
    let today = chrono::Local::now().format("%Y-%m-%d");
    let stats = ok(api.get(&format!("/stats?from={today}&to={today}&group_by=department"), Some(&dispatcher)));
    let row = |key: &str| stats["rows"].as_array().unwrap().iter().find(|r| r["key"] == key).cloned().unwrap();
    let (sw, sz) = (row("SW"), row("SZ"));
    let n = |r: &Value, f: &str| r[f].as_u64().unwrap();
    assert_eq!((n(&sw, "dispatched"), n(&sw, "supervised"), n(&sw, "returned")), (1, 1, 1), "{sw}");
    assert_eq!(sw["dispatch_accuracy"].as_f64(), Some(0.0));
    assert_eq!((n(&sz, "dispatched"), n(&sz, "returned")), (1, 0), "{sz}");
    assert_eq!(sz["dispatch_accuracy"].as_f64(), Some(1.0));
}
