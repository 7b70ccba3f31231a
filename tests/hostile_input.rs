//! A catalogue of hostile input across the endpoints: malformed, deeply nested and oversized JSON, invalid
//! UTF-8, wrong types, huge numbers, out-of-range places, times and durations, overlong strings in stored
//! fields, path traversal, SQL-looking text, lying Content-Types, unknown and broken Content-Encodings, a
//! decompression bomb, hash mismatches and offsets beyond the end. Each is a clean 4xx with the contract's
//! error body (its code, and the field where one is named); afterwards the store holds exactly what it held
//! (counted, table by table) and the server still answers.

use std::io::Write;

use serde_json::{Value, json};
use tiejiaoban::{Answer, Api, Server, fixture, sha256_hex};

/// Counts of every table a request could write to.
fn snapshot(server: &Server) -> Vec<(String, i64)> {
    let db = server.db();
    let mut stmt = db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        .unwrap();
    let tables: Vec<String> = stmt.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect();
    tables
        .into_iter()
        // The audit log records refused sign-ins (that is its purpose); the devices' last-seen times move.
        .filter(|t| t != "audit_log")
        .map(|t| {
            let n = db.query_row(&format!("SELECT COUNT(*) FROM \"{t}\""), [], |r| r.get(0)).unwrap();
            (t, n)
        })
        .collect()
}

/// One hostile request and what it must get.
struct Case {
    what: &'static str,
    method: &'static str,
    path: String,
    token: Token,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
    status: u16,
    code: &'static str,
    field: Option<&'static str>,
}

#[derive(Clone, Copy)]
enum Token {
    None,
    Device,
    Admin,
    Dispatcher,
}

fn json_case(what: &'static str, method: &'static str, path: &str, token: Token, body: Value) -> Case {
    Case {
        what,
        method,
        path: path.to_owned(),
        token,
        headers: vec![("content-type", "application/json".into())],
        body: serde_json::to_vec(&body).unwrap(),
        status: 422,
        code: "invalid",
        field: None,
    }
}

fn raw_case(what: &'static str, method: &'static str, path: &str, token: Token, body: Vec<u8>) -> Case {
    Case {
        what,
        method,
        path: path.to_owned(),
        token,
        headers: vec![("content-type", "application/json".into())],
        body,
        status: 400,
        code: "bad_request",
        field: None,
    }
}

impl Case {
    fn expect(mut self, status: u16, code: &'static str) -> Case {
        self.status = status;
        self.code = code;
        self
    }
    fn field(mut self, field: &'static str) -> Case {
        self.field = Some(field);
        self
    }
    fn header(mut self, name: &'static str, value: &str) -> Case {
        self.headers.retain(|(n, _)| *n != name);
        self.headers.push((name, value.to_owned()));
        self
    }
}

/// A resumable upload's chunk of three bytes with the given offset and length headers.
fn patch_case(what: &'static str, path: &str, offset: &str, length: &str) -> Case {
    Case {
        headers: vec![
            ("content-type", "application/offset+octet-stream".into()),
            ("upload-offset", offset.into()),
            ("upload-length", length.into()),
        ],
        body: b"abc".to_vec(),
        ..json_case(what, "PATCH", path, Token::Device, json!(null))
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

#[test]
fn hostile_input_gets_a_clean_4xx_and_changes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("server"));
    let api = server.api();
    let (device_id, device) = api.register("inspector1");
    let admin = api.sign_in("admin");
    let dispatcher = api.sign_in("dispatcher1");
    let photo = std::fs::read(fixture("orientation-portrait-1.jpg")).unwrap();
    let sha = sha256_hex(&photo);
    assert_eq!(api.put_blob(&device, &sha, "image/jpeg", photo.clone()).status, 201);
    // A case to act on: a report filed at once.
    let filed = api.post(
        "/reports",
        Some(&dispatcher),
        &json!({"id": uuid::Uuid::now_v7(), "channel": "camera", "category": "C0101", "verify": false,
                "location": {"lat": 41.7968, "lon": 123.4328}}),
    );
    assert_eq!(filed.status, 201, "{}", filed.body);
    let case_no = filed.body["report"]["case_no"].as_str().unwrap().to_owned();
    let actions = format!("/cases/{case_no}/actions");
    let long = "长".repeat(5000);
    let nested = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let other_sha = sha256_hex(b"something else");
    let blob = format!("/blobs/{other_sha}");
    let device_reg = |name: &str| {
        json!({"username": "inspector2", "password": "demo1234",
               "device": {"id": uuid::Uuid::now_v7(), "name": name, "platform": "p", "app_version": "1"}})
    };

    let cases = vec![
        // Malformed and deep JSON.
        raw_case("not JSON at all", "POST", "/sessions", Token::None, b"{username".to_vec()),
        // Balanced, so JSON: refused as the wrong type at its first level, not walked 100,000 deep.
        raw_case("JSON nested 100,000 deep", "POST", "/sync", Token::Device, nested.clone().into_bytes())
            .expect(422, "invalid")
            .field("[0]"),
        raw_case("objects nested deep in a report", "POST", "/reports", Token::Dispatcher, {
            format!("{{\"id\":{}{}", "{\"a\":".repeat(50_000), "}".repeat(50_001)).into_bytes()
        }),
        raw_case("invalid UTF-8 in a string", "POST", "/sessions", Token::None, b"{\"username\":\"\xff\xfe\",\"password\":\"x\"}".to_vec()),
        raw_case("invalid UTF-8 in a report", "POST", "/reports", Token::Dispatcher, b"{\"id\":\"\xc3\x28\"}".to_vec()),
        raw_case("a bare NaN", "POST", &actions, Token::Dispatcher, b"{\"action\":\"extend\",\"hours\":NaN,\"note\":\"x\"}".to_vec()),
        raw_case("an empty body", "POST", "/reports", Token::Dispatcher, Vec::new()),
        // Wrong types.
        json_case("a number for a username", "POST", "/sessions", Token::None, json!({"username": 5, "password": "x"})),
        json_case("a number for an action", "POST", &actions, Token::Dispatcher, json!({"action": 7})),
        json_case("a string for a location", "POST", "/reports", Token::Dispatcher,
            json!({"id": uuid::Uuid::now_v7(), "channel": "hotline", "location": "here"})),
        json_case("an array for the ops' device", "POST", "/sync", Token::Device, json!({"device_id": [1], "ops": []})).field("device_id"),
        // Numbers and ranges.
        raw_case("a number beyond f64", "POST", &actions, Token::Dispatcher, b"{\"action\":\"extend\",\"hours\":1e400,\"note\":\"x\"}".to_vec()),
        json_case("a deadline extended by a million hours", "POST", &actions, Token::Dispatcher,
            json!({"action": "extend", "hours": 1_000_000, "note": "x"})).field("hours"),
        json_case("a deadline extended by minus five hours", "POST", &actions, Token::Dispatcher,
            json!({"action": "extend", "hours": -5, "note": "x"})).field("hours"),
        json_case("a latitude of 91", "POST", "/reports", Token::Dispatcher,
            json!({"id": uuid::Uuid::now_v7(), "channel": "hotline", "location": {"lat": 91.0, "lon": 123.4}})).field("location.lat"),
        json_case("a longitude of -181", "POST", "/reports", Token::Dispatcher,
            json!({"id": uuid::Uuid::now_v7(), "channel": "hotline", "location": {"lat": 41.0, "lon": -181.0}})).field("location.lon"),
        json_case("a task due in the past", "POST", "/tasks", Token::Dispatcher,
            json!({"id": uuid::Uuid::now_v7(), "type": "inspect", "assignee": "inspector1", "title": "x", "due_at": "1970-01-01T00:00:00Z"})).field("due_at"),
        json_case("a task due in year 275760", "POST", "/tasks", Token::Dispatcher,
            json!({"id": uuid::Uuid::now_v7(), "type": "inspect", "assignee": "inspector1", "title": "x", "due_at": "+275760-01-01T00:00:00Z"})).field("due_at"),
        json_case("a campaign ending before it starts", "POST", "/campaigns", Token::Dispatcher,
            json!({"id": "x", "name": "x", "categories": ["C0101"], "from": "2026-12-31", "to": "2026-01-01"})).field("to"),
        json_case("a campaign on the 13th month", "POST", "/campaigns", Token::Dispatcher,
            json!({"id": "x", "name": "x", "categories": ["C0101"], "from": "2026-13-01", "to": "2026-13-02"})).field("from"),
        Case { body: Vec::new(), ..json_case("a day that does not exist", "GET", "/review?date=2026-02-30", Token::Dispatcher, json!(null)) }.field("date"),
        Case { body: Vec::new(), ..json_case("a period into year 10000", "GET", "/stats?from=2026-01-01&to=10000-01-01", Token::Dispatcher, json!(null)) }.field("to"),
        json_case("a cursor with a huge change id", "POST", "/sync", Token::Device,
            json!({"device_id": device_id, "ops": [], "cursor": "v1.99999999999999999999999.1.ab"})).field("cursor"),
        // Overlong strings in stored fields.
        json_case("an overlong note on a case", "POST", &actions, Token::Dispatcher, json!({"action": "supervise", "note": long})).field("note"),
        json_case("an overlong display name", "POST", "/users", Token::Admin,
            json!({"username": "long1", "password": "铁脚板-巡查-2026-秋", "role": "inspector", "display_name": long})).field("display_name"),
        json_case("an overlong username", "POST", "/users", Token::Admin,
            json!({"username": "u".repeat(300), "password": "铁脚板-巡查-2026-秋", "role": "inspector"})).field("username"),
        json_case("a username of spaces and slashes", "POST", "/users", Token::Admin,
            json!({"username": "../../etc", "password": "铁脚板-巡查-2026-秋", "role": "inspector"})).field("username"),
        json_case("an overlong team for a user", "POST", "/users", Token::Admin,
            json!({"username": "long2", "password": "铁脚板-巡查-2026-秋", "role": "inspector", "team": long})).field("team"),
        json_case("an overlong team name", "POST", "/teams", Token::Admin, json!({"name": long})).field("name"),
        json_case("an overlong device name", "POST", "/devices/register", Token::None, device_reg(&long)).field("device.name"),
        json_case("an overlong campaign name", "POST", "/campaigns", Token::Dispatcher,
            json!({"id": "long", "name": long, "categories": ["C0101"], "from": "2026-12-01", "to": "2026-12-31"})).field("name"),
        json_case("an overlong report address", "POST", "/reports", Token::Dispatcher,
            json!({"id": uuid::Uuid::now_v7(), "channel": "hotline", "address": long})).field("address"),
        json_case("an overlong task title", "POST", "/tasks", Token::Dispatcher,
            json!({"id": uuid::Uuid::now_v7(), "type": "inspect", "assignee": "inspector1", "title": long, "due_at": "2099-01-01T00:00:00Z"})).field("title"),
        // Path traversal and SQL-looking text.
        Case { body: Vec::new(), ..json_case("a traversal to the store's file", "GET", "/blobs/..%2F..%2Fserver.sqlite", Token::Admin, json!(null)) }.expect(404, "not_found"),
        // Base maps are looked up by name among those stored, never as a path.
        Case { body: Vec::new(), ..json_case("a traversal as a base map's name", "GET", "/basemaps/..%2F..%2Fserver.sqlite", Token::Admin, json!(null)) }.expect(404, "not_found"),
        Case { body: Vec::new(), ..json_case("a traversal as a tile's base map", "GET", "/basemaps/..%2Fblobs/tiles/1/1/1", Token::Admin, json!(null)) }.expect(404, "not_found"),
        json_case("a traversal as a base map to delete", "DELETE", "/basemaps/..%2F..%2Fserver.sqlite", Token::Admin, json!(null)).field("name"),
        json_case("a traversal as a username", "PATCH", "/users/..%2Fadmin", Token::Admin, json!({"active": false})).expect(404, "not_found"),
        Case { body: Vec::new(), ..json_case("a traversal as a case number", "GET", "/cases/..%2F..%2Fetc%2Fpasswd", Token::Admin, json!(null)) }.expect(404, "not_found"),
        Case { body: Vec::new(), ..json_case("a traversal as a report id", "GET", "/reports/..%2F..", Token::Admin, json!(null)) }.expect(404, "not_found"),
        json_case("SQL in a username", "POST", "/sessions", Token::None, json!({"username": "admin' OR '1'='1", "password": "x' OR '1'='1"}))
            .expect(401, "unauthorized"),
        Case { body: Vec::new(), ..json_case("SQL in a filter", "GET", "/cases?state=filed'%20OR%201=1%20--", Token::Dispatcher, json!(null)) }.field("state"),
        Case { body: Vec::new(), ..json_case("SQL in an audit filter's date", "GET", "/audit?from=2026-01-01';DROP%20TABLE%20users;--&to=2026-01-02", Token::Admin, json!(null)) }.field("from"),
        // Lying types and encodings.
        Case { headers: vec![("content-type", "image/png".into())], body: photo.clone(), ..json_case("a JPEG declared a PNG", "PUT", &format!("/blobs/{sha}"), Token::Device, json!(null)) }
            .expect(415, "unsupported_media_type"),
        Case { headers: vec![("content-type", "text/plain".into())], ..json_case("JSON declared as text", "POST", "/reports", Token::Dispatcher, json!({})) }
            .expect(415, "unsupported_media_type"),
        json_case("an unknown content encoding", "POST", "/sync", Token::Device, json!({"device_id": device_id, "ops": []}))
            .header("content-encoding", "br")
            .expect(415, "unsupported_media_type"),
        raw_case("gzip that is not gzip", "POST", "/sync", Token::Device, b"not gzip at all".to_vec()).header("content-encoding", "gzip"),
        raw_case("a decompression bomb", "POST", "/sync", Token::Device, gzip(&vec![b' '; 200 * 1024 * 1024]))
            .header("content-encoding", "gzip")
            .expect(413, "payload_too_large"),
        raw_case("a report of two megabytes", "POST", "/reports", Token::Dispatcher, {
            serde_json::to_vec(&json!({"id": uuid::Uuid::now_v7(), "channel": "hotline", "description": "x".repeat(2 << 20)})).unwrap()
        })
        .expect(413, "payload_too_large"),
        // Photos: hashes and offsets.
        Case { headers: vec![("content-type", "image/jpeg".into())], body: photo.clone(), ..json_case("bytes under another photo's name", "PUT", &blob, Token::Device, json!(null)) }
            .expect(422, "hash_mismatch"),
        patch_case("an offset beyond the end", &blob, "500", "100").field("Upload-Offset"),
        patch_case("a negative offset", &blob, "-1", "100").field("Upload-Offset"),
        patch_case("a length beyond u64", &blob, "0", "99999999999999999999999").field("Upload-Length"),
    ];
    assert!(cases.len() >= 40, "{} cases", cases.len());

    let before = snapshot(&server);
    let mut wrong = Vec::new();
    for case in cases {
        let token = match case.token {
            Token::None => None,
            Token::Device => Some(&device),
            Token::Admin => Some(&admin),
            Token::Dispatcher => Some(&dispatcher),
        };
        let method = reqwest::Method::from_bytes(case.method.as_bytes()).unwrap();
        let mut req = api.http.request(method, format!("{}{}", api.base, case.path)).body(case.body.clone());
        for (name, value) in &case.headers {
            req = req.header(*name, value);
        }
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let a: Answer = api.send(req);
        let field = a.body["error"]["details"]["field"].as_str();
        let has_message = a.body["error"]["message"].as_str().is_some_and(|m| !m.is_empty());
        if a.status != case.status
            || a.code() != case.code
            || !has_message
            || (case.field.is_some() && field != case.field)
        {
            wrong.push(format!(
                "{}: {} {} (field {:?}), expected {} {} (field {:?}): {}",
                case.what,
                a.status,
                a.code(),
                field,
                case.status,
                case.code,
                case.field,
                a.body.to_string().chars().take(300).collect::<String>()
            ));
        }
        assert_eq!(api.get("/health", None).status, 200, "the server still answers after: {}", case.what);
    }
    assert!(wrong.is_empty(), "{} answers were not as they should be:\n{}", wrong.len(), wrong.join("\n"));
    assert_eq!(snapshot(&server), before, "hostile requests changed what the server holds");
}

#[test]
fn sql_looking_text_is_kept_as_text() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("server"));
    let api: Api = server.api();
    let dispatcher = api.sign_in("dispatcher1");
    let text = "'); DROP TABLE cases; -- \" OR 1=1 /* 井盖 */";
    let id = uuid::Uuid::now_v7();
    let taken = api.post(
        "/reports",
        Some(&dispatcher),
        &json!({"id": id, "channel": "citizen", "description": text, "address": text, "verify": false,
                "category": "C0101", "location": {"lat": 41.7968, "lon": 123.4328}}),
    );
    assert_eq!(taken.status, 201, "{}", taken.body);
    let read = api.get(&format!("/reports/{id}"), Some(&dispatcher));
    assert_eq!(
        (read.body["report"]["description"].as_str(), read.body["report"]["address"].as_str()),
        (Some(text), Some(text))
    );
    assert_eq!(server.count("SELECT COUNT(*) FROM cases"), 1, "the cases are all there");
}
