//! Webhooks and the departments' group robots, through the real server: a receiver that is down, then answers
//! 500, then is up gets every event once it is up, across a server restart, each body signed; a receiver that
//! hangs holds only its own deliveries; a 企业微信 and a 钉钉 robot (local receivers that check each service's
//! documented format and, for DingTalk, its URL signature) get a short Chinese message for a dispatch, a 督办
//! and an overdue case of their department.

use std::collections::HashSet;
use std::net::TcpListener as StdListener;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use tiejiaoban::{Answer, Api, Device, Server};

/// What a receiver got: the path, the signature header and the body.
#[derive(Debug, Clone)]
struct Received {
    path: &'static str,
    signature: Option<String>,
    body: Value,
    /// The status the receiver answered.
    answered: u16,
}

const UP: u8 = 0;
const FAILING: u8 = 1;
const HANGING: u8 = 2;

#[derive(Clone)]
struct Receiver {
    got: Arc<Mutex<Vec<Received>>>,
    mode: Arc<AtomicU8>,
    port: u16,
}

type Q = Query<std::collections::HashMap<String, String>>;

impl Receiver {
    /// Listens on `port` from now on, in a runtime of its own.
    fn start(port: u16, mode: u8) -> Receiver {
        let me = Receiver { got: Arc::default(), mode: Arc::new(AtomicU8::new(mode)), port };
        let app = Router::new()
            .route("/hook", post(system))
            .route("/cgi-bin/webhook/send", post(wecom))
            .route("/robot/send", post(dingtalk))
            .with_state(me.clone());
        let listener = StdListener::bind(("127.0.0.1", port)).expect("bind the receiver");
        listener.set_nonblocking(true).unwrap();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                axum::serve(listener, app).await.unwrap();
            });
        });
        me
    }

    fn got(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }

    fn keep(&self, r: Received) {
        self.got.lock().unwrap().push(r);
    }
}

async fn system(State(me): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let mode = me.mode.load(Ordering::SeqCst);
    if mode == HANGING {
        tokio::time::sleep(Duration::from_secs(3600)).await;
    }
    let answered = if mode == FAILING { 500 } else { 200 };
    let signature = headers.get("x-tiejiaoban-signature").map(|v| v.to_str().unwrap().to_owned());
    // The signature is over the bytes as sent: kept as received, checked by the test.
    let body = json!({ "raw": String::from_utf8(body.to_vec()).unwrap() });
    me.keep(Received { path: "/hook", signature, body, answered });
    StatusCode::from_u16(answered).unwrap()
}

/// A WeCom group robot as its documentation describes it: `key` in the URL; `{"msgtype": "markdown",
/// "markdown": {"content"}}` with content of at most 4,096 bytes; 200 with `errcode` 0, or another code.
async fn wecom(State(me): State<Receiver>, Query(query): Q, body: Bytes) -> axum::Json<Value> {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let content = body["markdown"]["content"].as_str();
    let fits = query.get("key").map(String::as_str) == Some("wecom-key")
        && body["msgtype"] == "markdown"
        && content.is_some_and(|c| !c.is_empty() && c.len() <= 4096)
        && body.as_object().is_some_and(|o| o.len() == 2);
    me.keep(Received { path: "/wecom", signature: None, body, answered: 200 });
    axum::Json(if fits {
        json!({"errcode": 0, "errmsg": "ok"})
    } else {
        json!({"errcode": 40008, "errmsg": "invalid"})
    })
}

/// A DingTalk robot with 加签: `timestamp` (ms, within an hour) and `sign` = Base64(HMAC-SHA256(secret,
/// timestamp + "\n" + secret)) in the URL; `{"msgtype": "markdown", "markdown": {"title", "text"}}`.
async fn dingtalk(State(me): State<Receiver>, Query(query): Q, body: Bytes) -> axum::Json<Value> {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let ts = query.get("timestamp").cloned().unwrap_or_default();
    let fresh = ts.parse::<i64>().is_ok_and(|t| (chrono::Utc::now().timestamp_millis() - t).abs() < 3_600_000);
    let mut mac = Hmac::<Sha256>::new_from_slice(DING_SECRET.as_bytes()).unwrap();
    mac.update(format!("{ts}\n{DING_SECRET}").as_bytes());
    let expected = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    let signed = fresh
        && query.get("sign") == Some(&expected)
        && query.get("access_token").map(String::as_str) == Some("ding-token");
    let fits = body["msgtype"] == "markdown"
        && body["markdown"]["title"].as_str().is_some_and(|t| !t.is_empty())
        && body["markdown"]["text"].as_str().is_some_and(|t| !t.is_empty());
    me.keep(Received { path: "/dingtalk", signature: None, body, answered: 200 });
    axum::Json(match (signed, fits) {
        (true, true) => json!({"errcode": 0, "errmsg": "ok"}),
        (false, _) => json!({"errcode": 310000, "errmsg": "sign not match"}),
        (true, false) => json!({"errcode": 40035, "errmsg": "invalid message"}),
    })
}

const SECRET: &str = "a-shared-secret-of-the-12345-system";
const DING_SECRET: &str = "SEC0123456789abcdef";

fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Waits (polling, at most `limit`) until `check` holds.
fn until(what: &str, limit: Duration, mut check: impl FnMut() -> bool) {
    let start = Instant::now();
    while !check() {
        assert!(start.elapsed() < limit, "waited {limit:?} for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn ok(a: Answer, status: u16) -> Value {
    assert_eq!(a.status, status, "{}", a.body);
    a.body
}

fn expect(a: &Answer, status: u16, code: &str, field: Option<&str>) {
    assert_eq!((a.status, a.code()), (status, code), "{}", a.body);
    if let Some(f) = field {
        assert_eq!(a.body["error"]["details"]["field"], f, "{}", a.body);
    }
}

fn deliveries(api: &Api, admin: &str, hook: &str) -> Vec<Value> {
    let listed = ok(api.get(&format!("/webhooks/{hook}/deliveries?limit=1000"), Some(admin)), 200);
    listed["deliveries"].as_array().unwrap().clone()
}

fn hmac_hex(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

#[test]
fn every_event_reaches_a_receiver_that_was_down_then_failing_across_a_restart_and_robots_tell_their_groups() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("server");
    let args = ["--webhook-first-retry-secs", "1", "--public-url", "https://cg.example.cn"];
    let mut server = Server::start_with(&data, 0, &args, &[]);
    let api = server.api();
    let admin = api.sign_in("admin");
    let dispatcher = api.sign_in("dispatcher1");

    // The system receiver is down (nothing listens on its port yet); the robots' receiver is up.
    let system_port = free_port();
    let robots = Receiver::start(free_port(), UP);
    let robots_url = format!("http://127.0.0.1:{}", robots.port);

    // Bad registrations name their field; only the admin registers.
    let events = json!(["case.filed", "case.changed", "report.changed", "task.completed", "finding.rejected"]);
    let hook = json!({"url": format!("http://127.0.0.1:{system_port}/hook"), "events": events, "secret": SECRET});
    expect(&api.post("/webhooks", Some(&dispatcher), &hook), 403, "forbidden", None);
    let mut bad = hook.clone();
    bad["url"] = json!("ftp://127.0.0.1/hook");
    expect(&api.post("/webhooks", Some(&admin), &bad), 422, "invalid", Some("url"));
    let mut bad = hook.clone();
    bad["events"] = json!(["case.filed", "case.deleted"]);
    expect(&api.post("/webhooks", Some(&admin), &bad), 422, "invalid", Some("events[1]"));
    let mut bad = hook.clone();
    bad["secret"] = json!("");
    expect(&api.post("/webhooks", Some(&admin), &bad), 422, "invalid", Some("secret"));
    let robot = json!({"url": format!("{robots_url}/robot/send?access_token=ding-token"), "format": "dingtalk",
                       "department": "NOPE", "secret": DING_SECRET});
    expect(&api.post("/webhooks", Some(&admin), &robot), 422, "invalid", Some("department"));

    let created = ok(api.post("/webhooks", Some(&admin), &hook), 201);
    let hook_id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(created["signed"], true);
    assert!(created.get("secret").is_none(), "the secret is never shown: {created}");
    let wecom = json!({"url": format!("{robots_url}/cgi-bin/webhook/send?key=wecom-key"), "format": "wecom",
                       "department": "SW", "description": "水务 工作群"});
    ok(api.post("/webhooks", Some(&admin), &wecom), 201);
    let mut ding = robot.clone();
    ding["department"] = json!("SW");
    ok(api.post("/webhooks", Some(&admin), &ding), 201);
    // A receiver that never answers holds only its own deliveries.
    let hanging = Receiver::start(free_port(), HANGING);
    let slow =
        json!({"url": format!("http://127.0.0.1:{}/hook", hanging.port), "events": ["case.filed"], "secret": "x"});
    let slow_id = ok(api.post("/webhooks", Some(&admin), &slow), 201)["id"].as_str().unwrap().to_owned();

    // Events: a finding of an automatic category (filed, dispatched to SW), a finding rejected by the chief,
    // a 12345 report confirmed on the phone (report received and filed, task completed), a 督办.
    let phone = Device::new(&tmp.path().join("phone"));
    phone.register(&server.url, "inspector1");
    let auto = phone.report("C0101", 41.7968, "orientation-landscape-1.jpg");
    let to_reject = phone.report("C0301", 41.7970, "orientation-landscape-1.jpg");
    phone.ok(&["sync"]);
    let chief = api.sign_in("chief1");
    ok(
        api.post(
            &format!("/findings/{to_reject}/review"),
            Some(&chief),
            &json!({"decision": "reject", "reason": "照片不清"}),
        ),
        200,
    );
    let listed = phone.list();
    let case_no = listed.iter().find(|f| f["id"] == auto.as_str()).unwrap()["case_no"].as_str().unwrap().to_owned();
    ok(
        api.post(
            &format!("/cases/{case_no}/actions"),
            Some(&dispatcher),
            &json!({"action": "supervise", "note": "群众再次来电"}),
        ),
        200,
    );
    let report_id = uuid::Uuid::now_v7().to_string();
    let report = json!({"id": report_id, "channel": "hotline", "external_ref": "12345-0001", "category": "C0101",
                        "description": "井盖缺失", "location": {"lat": 41.7940, "lon": 123.4300},
                        "contact": {"name": "李女士", "phone": "13912345678"}});
    ok(api.post("/reports", Some(&dispatcher), &report), 201);
    phone.ok(&["sync"]);
    phone.complete_task("confirm", "confirmed", "orientation-landscape-1.jpg");

    // Nothing reached the system receiver yet: every delivery waits, with its failed tries.
    until("failed tries", Duration::from_secs(30), || {
        deliveries(&api, &admin, &hook_id).iter().all(|d| d["attempts"].as_i64() >= Some(1))
    });
    let waiting = deliveries(&api, &admin, &hook_id);
    let kinds: HashSet<&str> = waiting.iter().map(|d| d["event"].as_str().unwrap()).collect();
    for kind in ["case.filed", "case.changed", "report.changed", "task.completed", "finding.rejected"] {
        assert!(kinds.contains(kind), "{kind} in {kinds:?}");
    }
    assert!(waiting.iter().all(|d| d["state"] == "pending"), "{waiting:?}");
    assert!(waiting[0]["tries"][0]["error"].as_str().unwrap().contains("no connection"), "{}", waiting[0]);
    let expected: HashSet<String> = waiting.iter().map(|d| d["event_id"].as_str().unwrap().to_owned()).collect();

    // The hanging receiver's try ends at its timeout and is recorded; nothing else waited for it meanwhile.
    until("the hanging try recorded", Duration::from_secs(60), || {
        deliveries(&api, &admin, &slow_id).iter().any(|d| d["tries"].as_array().is_some_and(|t| !t.is_empty()))
    });
    let slow = deliveries(&api, &admin, &slow_id);
    let slow_try = slow.iter().find_map(|d| d["tries"].get(0)).expect("a try").clone();
    assert!(slow_try["error"].as_str().unwrap().contains("no answer within"), "{slow_try}");

    // Then it answers 500; then the server restarts with deliveries waiting; and an overdue case is found.
    let system = Receiver::start(system_port, FAILING);
    until("a try answered 500", Duration::from_secs(30), || system.got().iter().any(|r| r.answered == 500));
    assert!(server.terminate().success());
    server.execute(&format!("UPDATE cases SET due_at = '2026-01-01T00:00:00.000Z' WHERE case_no = '{case_no}'"));
    system.mode.store(UP, Ordering::SeqCst);
    server = Server::start_with(&data, 0, &args, &[]);
    let api = server.api();
    let admin = api.sign_in("admin");

    // Every event is delivered once the receiver is up, each with a valid signature.
    until("every event delivered", Duration::from_secs(60), || {
        let done: HashSet<String> = system
            .got()
            .iter()
            .filter(|r| r.answered == 200)
            .map(|r| {
                serde_json::from_str::<Value>(r.body["raw"].as_str().unwrap()).unwrap()["id"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        expected.is_subset(&done)
    });
    let mut seen_case_filed = false;
    for r in system.got() {
        let raw = r.body["raw"].as_str().unwrap();
        let sig = r.signature.clone().expect("signed");
        assert_eq!(sig, format!("sha256={}", hmac_hex(SECRET, raw.as_bytes())), "{raw}");
        let body: Value = serde_json::from_str(raw).unwrap();
        for key in ["id", "event", "at", "data"] {
            assert!(body.get(key).is_some(), "{key} in {body}");
        }
        if body["event"] == "case.filed" && body["data"]["case_no"] == case_no.as_str() {
            seen_case_filed = true;
            assert_eq!(body["data"]["category"], "C0101");
            assert_eq!(body["data"]["change"]["action"], "file");
        }
        if body["event"] == "report.changed" {
            assert_eq!(body["data"]["external_ref"], "12345-0001");
            assert!(body["data"]["contact"].is_null(), "the caller stays private: {body}");
        }
        if body["event"] == "finding.rejected" {
            assert_eq!(
                (body["data"]["id"].as_str(), body["data"]["change"]["note"].as_str()),
                (Some(to_reject.as_str()), Some("照片不清"))
            );
        }
        if body["event"] == "task.completed" {
            assert_eq!(
                (body["data"]["change"]["type"].as_str(), body["data"]["change"]["result"].as_str()),
                (Some("confirm"), Some("confirmed"))
            );
        }
    }
    assert!(seen_case_filed);
    until("deliveries marked delivered", Duration::from_secs(30), || {
        deliveries(&api, &admin, &hook_id).iter().all(|d| d["state"] == "delivered")
    });
    // Each delivery lists its tries: no connection (and 500 for those tried meanwhile), then 200.
    let listed = deliveries(&api, &admin, &hook_id);
    for d in &listed {
        let tries = d["tries"].as_array().unwrap();
        assert!(tries.len() >= 2, "{tries:?}");
        assert!(tries[0]["error"].as_str().unwrap().contains("no connection"), "{tries:?}");
        assert_eq!(tries.last().unwrap()["status"], 200);
        assert_eq!(d["attempts"].as_u64(), Some(tries.len() as u64));
    }
    assert!(listed.iter().flat_map(|d| d["tries"].as_array().unwrap()).any(|t| t["status"] == 500));

    // "Send again" delivers the same event once more, with the same id and body.
    let first = &listed[0];
    let delivery = first["id"].as_i64().unwrap();
    let before = system.got().len();
    ok(api.post(&format!("/webhooks/{hook_id}/deliveries/{delivery}/retry"), Some(&admin), &json!({})), 202);
    until("sent again", Duration::from_secs(30), || system.got().len() > before);
    let again: Value = serde_json::from_str(system.got().last().unwrap().body["raw"].as_str().unwrap()).unwrap();
    assert_eq!(again["id"], first["event_id"]);

    // The robots told the SW group of the dispatch, the 督办 and the overdue case, in their formats.
    until("robot messages", Duration::from_secs(30), || {
        let got = robots.got();
        ["/wecom", "/dingtalk"].iter().all(|p| {
            let texts: Vec<String> = got.iter().filter(|r| r.path == *p).map(|r| r.body.to_string()).collect();
            ["新派遣案件", "督办", "案件超期"]
                .iter()
                .all(|h| texts.iter().any(|t| t.contains(h) && t.contains(&case_no)))
        })
    });
    for r in robots.got() {
        let text = if r.path == "/wecom" { &r.body["markdown"]["content"] } else { &r.body["markdown"]["text"] };
        let text = text.as_str().unwrap();
        assert!(text.contains("> 类别：上水井盖（C0101）"), "{text}");
        let number = text.lines().next().unwrap().rsplit(' ').next().unwrap();
        assert!(text.contains(&format!("(https://cg.example.cn/console/#/department?case={number})")), "{text}");
    }
    let webhooks = ok(api.get("/webhooks", Some(&admin)), 200);
    for w in webhooks["webhooks"].as_array().unwrap().iter().filter(|w| w["format"] != "json") {
        assert_eq!(w["failed"], 0, "{w}");
        assert!(w["delivered"].as_i64().unwrap() >= 3, "{w}");
    }
    // The hotline report's case is SW's too: its dispatch was told as well, but never a case of another
    // department, and never an event the robots do not tell of (no filing, no report).
    assert!(robots.got().iter().all(|r| !r.body.to_string().contains("立案")));

    // Stopped: nothing more is sent, what waited is cancelled, the list stays.
    let stop = reqwest::blocking::Client::new().delete(format!("{}/api/v1/webhooks/{slow_id}", server.url));
    assert_eq!(api.send(stop.bearer_auth(&admin)).status, 204);
    let after = deliveries(&api, &admin, &slow_id);
    assert!(after.iter().all(|d| d["state"] != "pending"), "{after:?}");
}
