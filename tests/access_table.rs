//! Access as a table, through the real server. The routes come from the server's own OpenAPI document (which a
//! test keeps equal to the router), so a new route without a row here fails this test.
//!
//! 1. Every route, every method: no token, a forged one, an expired session, a signed-out session and a
//!    revoked device's token are each answered 401 — except the four public routes.
//! 2. Every route that reads (GET) × every kind of caller — an inspector, the chief of the record's team and
//!    of another, the dispatcher, the record's department and another, the admin — answered as the table
//!    says: `ok` (a 2xx answer; a list shows only what the caller may see) or `403`.

use std::collections::BTreeSet;

use serde_json::json;
use tiejiaoban::{Answer, Api, Device, Server};

/// (method, path) answered without a token.
const PUBLIC: [(&str, &str); 4] =
    [("GET", "/health"), ("POST", "/devices/register"), ("POST", "/sessions"), ("GET", "/openapi.json")];

/// Who may read what: one column per caller of `CALLERS`; a case of 一中队 dispatched to HW, reported by
/// inspector1.
const READS: &str = "
    route                                 insp1 chief1 chief2 disp  hw    sz    admin
    /audit                                403   403    403    403   403   403   ok
    /basemaps                             ok    ok     ok     ok    ok    ok    ok
    /basemaps/{name}                      404   404    404    404   404   404   404
    /basemaps/{name}/tiles/{z}/{x}/{y}    404   404    404    404   404   404   404
    /blobs/{sha256}                       ok    ok     404    ok    ok    404   ok
    /campaigns                            ok    ok     ok     ok    ok    ok    ok
    /cases                                ok    ok     ok     ok    ok    ok    ok
    /cases/{case_no}                      ok    ok     403    ok    ok    403   ok
    /cases/{case_no}/evidence             ok    ok     403    ok    ok    403   ok
    /coverage                             403   ok     ok     ok    403   403   ok
    /departments                          403   403    403    ok    403   403   ok
    /devices                              403   403    403    403   403   403   ok
    /exports                              ok    ok     ok     ok    ok    ok    ok
    /exports/{id}                         404   404    404    404   404   404   404
    /exports/{id}/file                    404   404    404    404   404   404   404
    /dictionary                           ok    ok     ok     ok    ok    ok    ok
    /health                               ok    ok     ok     ok    ok    ok    ok
    /heatmap                              403   ok     ok     ok    403   403   ok
    /integrations                         403   403    403    403   403   403   ok
    /me                                   ok    ok     ok     ok    ok    ok    ok
    /me/totp                              403   ok     ok     ok    ok    ok    ok
    /openapi.json                         ok    ok     ok     ok    ok    ok    ok
    /patrols                              403   ok     ok     ok    403   403   ok
    /reports                              403   ok     ok     ok    403   403   ok
    /reports/{id}                         403   ok     ok     ok    403   403   ok
    /review                               403   ok     ok     ok    403   403   ok
    /stats                                403   ok     ok     ok    403   403   ok
    /sync-health                          403   403    403    403   403   403   ok
    /tasks                                403   ok     ok     ok    403   403   ok
    /teams                                403   403    403    ok    403   403   ok
    /users                                403   403    403    403   403   403   ok
    /webhooks                             403   403    403    403   403   403   ok
    /webhooks/{id}                        403   403    403    403   403   403   404
    /webhooks/{id}/deliveries             403   403    403    403   403   403   404
";

struct World {
    case_no: String,
    sha: String,
    report: String,
    task: String,
    finding: String,
    device: String,
}

/// A path of the document with its parameters filled in from the world, and the query a read needs.
fn fill(path: &str, w: &World) -> String {
    let day = chrono::Local::now().format("%Y-%m-%d").to_string();
    let query = match path {
        "/stats" => format!("?from={day}&to={day}&group_by=team"),
        "/coverage" => format!("?from={day}&to={day}&by=road"),
        "/heatmap" => format!("?from={day}&to={day}"),
        "/patrols" | "/review" => format!("?date={day}"),
        _ => String::new(),
    };
    let filled = path
        .replace("{case_no}", &w.case_no)
        .replace("{sha256}", &w.sha)
        .replace(
            "{id}",
            if path.starts_with("/reports") {
                &w.report
            } else if path.starts_with("/tasks") {
                &w.task
            } else if path.starts_with("/findings") {
                &w.finding
            } else {
                &w.device
            },
        )
        .replace("{name}", "shenhe")
        .replace("{username}", "inspector3")
        .replace("{z}/{x}/{y}", "15/27000/12000");
    format!("{filled}{query}")
}

fn call(api: &Api, method: &str, path: &str, token: Option<&str>) -> Answer {
    let url = format!("{}{path}", api.base);
    let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut req = api.http.request(m, url);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if matches!(method, "POST" | "PUT" | "PATCH") {
        req = req.json(&json!({}));
    }
    api.send(req)
}

#[test]
fn every_route_is_closed_without_a_valid_token_and_reads_follow_the_table() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("server"));
    let api = server.api();

    // The world: a case of 一中队 reported by inspector1, approved by chief1 and dispatched to HW; a report
    // and its 核实 task; a device to revoke; a base map to read.
    let phone = Device::new(&tmp.path().join("phone"));
    phone.register(&server.url, "inspector1");
    let finding = phone.report("E0102", 41.7968, "orientation-landscape-1.jpg");
    phone.ok(&["sync"]);
    let chief1 = api.sign_in("chief1");
    let approved = api.post(&format!("/findings/{finding}/review"), Some(&chief1), &json!({"decision": "approve"}));
    assert_eq!(approved.status, 200, "{}", approved.body);
    let case_no = approved.body["case"]["case_no"].as_str().unwrap().to_owned();
    let dispatcher = api.sign_in("dispatcher1");
    let dispatched = api.post(
        &format!("/cases/{case_no}/actions"),
        Some(&dispatcher),
        &json!({"action": "dispatch", "department": "HW"}),
    );
    assert_eq!(dispatched.status, 200, "{}", dispatched.body);
    let sha = server.text("SELECT sha256 FROM blobs").unwrap();
    let report = uuid::Uuid::now_v7().to_string();
    let taken = api.post(
        "/reports",
        Some(&dispatcher),
        &json!({"id": report, "channel": "hotline", "location": {"lat": 41.794, "lon": 123.43}}),
    );
    assert_eq!(taken.status, 201, "{}", taken.body);
    let task = taken.body["report"]["task_id"].as_str().unwrap().to_owned();
    let admin = api.sign_in("admin");
    let (revoked_device, revoked_token) = api.register("inspector2");
    assert_eq!(api.post(&format!("/devices/{revoked_device}/revoke"), Some(&admin), &json!({})).status, 200);
    let w = World { case_no, sha, report, task, finding, device: revoked_device };

    // Tokens that open nothing: forged, expired, signed out, revoked.
    let expired = api.sign_in("chief2");
    let hash = protocol::digest::sha256_hex(expired.as_bytes());
    server.execute(&format!("UPDATE sessions SET expires_ts = 0 WHERE token_hash = '{hash}'"));
    assert_eq!(
        server.count(&format!("SELECT COUNT(*) FROM sessions WHERE token_hash = '{hash}' AND expires_ts = 0")),
        1
    );
    let signed_out = api.sign_in("dept-sz");
    assert_eq!(call(&api, "DELETE", "/sessions/current", Some(&signed_out)).status, 204);
    let forged = "tjbs_0000000000000000000000000000000000000000000";

    let document = api.get("/openapi.json", None).body;
    let mut routes: Vec<(String, String)> = Vec::new();
    for (path, ops) in document["paths"].as_object().unwrap() {
        let path = path.strip_prefix("/api/v1").unwrap_or(path).to_owned();
        for method in ops.as_object().unwrap().keys() {
            routes.push((method.to_uppercase(), path.clone()));
        }
    }
    assert!(routes.len() > 40, "{routes:?}");
    let mut wrong = Vec::new();
    for (method, path) in &routes {
        if PUBLIC.contains(&(method.as_str(), path.as_str())) {
            continue;
        }
        let filled = fill(path, &w);
        for (what, token) in [
            ("none", None),
            ("forged", Some(forged)),
            ("expired", Some(&*expired)),
            ("signed out", Some(&*signed_out)),
            ("revoked", Some(&*revoked_token)),
        ] {
            let a = call(&api, method, &filled, token);
            // A HEAD answer has no body to carry the error's code.
            if a.status != 401 || (method != "HEAD" && a.code() != "unauthorized") {
                wrong.push(format!("{method} {filled} with {what} token: {} {}", a.status, a.body));
            }
        }
    }
    assert!(wrong.is_empty(), "answered without a valid token:\n{}", wrong.join("\n"));

    // Reads by every kind of caller.
    let (_, inspector) = api.register("inspector1");
    let callers =
        [inspector, chief1, api.sign_in("chief2"), dispatcher, api.sign_in("dept-hw"), api.sign_in("dept-sz"), admin];
    let table: Vec<Vec<&str>> =
        READS.lines().map(|l| l.split_whitespace().collect()).filter(|r: &Vec<&str>| !r.is_empty()).collect();
    let gets: BTreeSet<&str> = routes.iter().filter(|(m, _)| m == "GET").map(|(_, p)| p.as_str()).collect();
    let rows: BTreeSet<&str> = table[1..].iter().map(|r| r[0]).collect();
    assert_eq!(gets, rows, "every read has a row, every row a route");
    for row in &table[1..] {
        let filled = fill(row[0], &w);
        for ((token, expected), who) in callers.iter().zip(&row[1..]).zip(&table[0][1..]) {
            let a = call(&api, "GET", &filled, Some(token));
            let got = match a.status {
                200..=299 => "ok".to_owned(),
                s => s.to_string(),
            };
            if got != *expected {
                wrong.push(format!("GET {filled} by {who}: {got}, the table says {expected} ({})", a.body));
            }
        }
    }
    assert!(wrong.is_empty(), "the answers differ from the table:\n{}", wrong.join("\n"));
}
