//! Whole cases through every path of the lifecycle, over the real HTTP API and a real device, with the
//! history and indicators they leave (expected figures computed by hand from the scenario).

use serde_json::{Value, json};
use tiejiaoban::{Api, Device, Server, fixture, sha256_hex};

struct Console<'a> {
    api: &'a Api,
    token: String,
}

impl Console<'_> {
    fn act(&self, case_no: &str, body: Value) -> tiejiaoban::Answer {
        self.api.post(&format!("/cases/{case_no}/actions"), Some(&self.token), &body)
    }
    fn review(&self, id: &str, body: Value) -> tiejiaoban::Answer {
        self.api.post(&format!("/findings/{id}/review"), Some(&self.token), &body)
    }
    fn case(&self, case_no: &str) -> Value {
        let a = self.api.get(&format!("/cases/{case_no}"), Some(&self.token));
        assert_eq!(a.status, 200, "{}", a.body);
        a.body
    }
}

fn expect(a: &tiejiaoban::Answer, status: u16, code: &str) {
    assert_eq!((a.status, a.code()), (status, code), "{}", a.body);
}

fn ok(a: tiejiaoban::Answer) -> Value {
    assert_eq!(a.status, 200, "{}", a.body);
    a.body
}

fn pending_task(device: &Device) -> Value {
    device.ok(&["sync"]);
    let tasks: Vec<Value> = serde_json::from_str(&device.ok(&["tasks", "--json"])).unwrap();
    tasks.into_iter().find(|t| t["state"] == "open").expect("an open verification task")
}

#[test]
fn cases_walk_every_path_and_leave_history_and_indicators() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("server"));
    let api = server.api();
    let phone = Device::new(&tmp.path().join("phone"));
    phone.register(&server.url, "inspector1");
    let login = |u: &str| Console { api: &api, token: api.sign_in(u) };
    let (chief, chief2, dispatcher, hw, sz, zf, admin) = (
        login("chief1"),
        login("chief2"),
        login("dispatcher1"),
        login("dept-hw"),
        login("dept-sz"),
        login("dept-zf"),
        login("admin"),
    );
    let inspector_console = login("inspector1");

    // F1: exposed garbage, reviewed by the chief.
    let f1 = phone.report("E0102", 41.7968, "orientation-landscape-1.jpg");
    phone.ok(&["sync"]);
    expect(&chief2.review(&f1, json!({"decision": "approve"})), 403, "forbidden");
    expect(&inspector_console.review(&f1, json!({"decision": "approve"})), 403, "forbidden");
    expect(&chief.review(&f1, json!({"decision": "maybe"})), 422, "invalid");
    expect(&chief.review(&f1, json!({"decision": "reject"})), 422, "invalid");
    expect(&chief.review(&f1, json!({"decision": "merge", "case_no": "20000101-9999"})), 404, "not_found");
    expect(&chief.review(&f1, json!({"decision": "approve", "category": "X0000"})), 422, "invalid");
    expect(&chief.review("0192f3a0-0000-7000-8000-000000000000", json!({"decision": "approve"})), 404, "not_found");
    let approved = ok(chief.review(&f1, json!({"decision": "approve"})));
    assert_eq!(approved["finding"]["state"], "filed");
    assert_eq!(approved["case"]["state"], "filed", "approving files; only dispatch dispatches");
    assert_eq!(approved["case"]["department"], "HW");
    let c1 = approved["case"]["case_no"].as_str().unwrap().to_owned();
    expect(&chief.review(&f1, json!({"decision": "reject", "reason": "late"})), 409, "invalid_transition");

    // Dispatch → accept → handle, with refusals for the wrong role and the wrong state.
    expect(&hw.act(&c1, json!({"action": "accept"})), 409, "invalid_transition");
    expect(&chief.act(&c1, json!({"action": "dispatch"})), 403, "forbidden");
    expect(&dispatcher.act(&c1, json!({"action": "teleport"})), 422, "invalid");
    expect(&dispatcher.act(&c1, json!({"action": "dispatch", "department": "NOPE"})), 422, "invalid");
    expect(&dispatcher.act("20000101-9999", json!({"action": "dispatch"})), 404, "not_found");
    assert_eq!(ok(dispatcher.act(&c1, json!({"action": "dispatch"})))["state"], "dispatched");
    // Each caller is told what it may do with the case now, and the console shows no other buttons.
    assert_eq!(hw.case(&c1)["allowed_actions"], json!(["accept", "return", "request_extension", "request_return"]));
    assert_eq!(sz.api.get(&format!("/cases/{c1}"), Some(&sz.token)).status, 403);
    assert_eq!(dispatcher.case(&c1)["allowed_actions"], json!(["dispatch", "extend", "supervise", "suspend", "void"]));
    assert_eq!(chief.case(&c1)["allowed_actions"], json!(["void"]), "a chief may void the team's cases");
    expect(&sz.act(&c1, json!({"action": "accept"})), 403, "forbidden");
    assert_eq!(ok(hw.act(&c1, json!({"action": "accept"})))["state"], "accepted");
    let fix = std::fs::read(fixture("orientation-portrait-6.jpg")).unwrap();
    let fix_sha = sha256_hex(&fix);
    expect(&hw.act(&c1, json!({"action": "handle", "photos": [fix_sha]})), 422, "invalid");
    assert_eq!(api.put_blob(&hw.token, &fix_sha, "image/jpeg", fix).status, 201);
    let handled = ok(hw.act(&c1, json!({"action": "handle", "note": "已清运", "photos": [fix_sha]})));
    assert_eq!(handled["state"], "handled");
    // The handling photo is visible to the centre and to the verifier, not to another department.
    let get_blob =
        |token: &str| api.send(api.http.get(format!("{}/blobs/{fix_sha}", api.base)).bearer_auth(token)).status;
    assert_eq!(get_blob(&dispatcher.token), 200);
    assert_eq!(get_blob(&inspector_console.token), 200);
    assert_eq!(get_blob(&sz.token), 404);

    // The verification task carries this handling's photo, so that the inspector sees what was done.
    let assigned =
        server.text("SELECT body FROM changes WHERE kind = 'task.assigned' ORDER BY id DESC LIMIT 1").unwrap();
    let assigned: Value = serde_json::from_str(&assigned).unwrap();
    assert!(assigned["task"]["photos"].as_array().unwrap().contains(&json!(fix_sha)), "{assigned}");

    // The reporter verifies on site: fail sends it back (rework), pass closes it.
    let task = pending_task(&phone);
    assert_eq!(task["case_no"], c1.as_str());
    let id = task["id"].as_str().unwrap();
    phone.ok(&[
        "task-complete",
        id,
        "--result",
        "fail",
        "--note",
        "仍有垃圾",
        "--photo",
        fixture("orientation-portrait-8.jpg").to_str().unwrap(),
    ]);
    phone.ok(&["sync"]);
    let case = chief.case(&c1);
    assert_eq!((case["state"].as_str(), case["rework_count"].as_i64()), (Some("dispatched"), Some(1)));
    ok(hw.act(&c1, json!({"action": "accept"})));
    ok(hw.act(&c1, json!({"action": "handle", "note": "二次清运", "photos": [fix_sha]})));
    let task = pending_task(&phone);
    phone.ok(&["task-complete", task["id"].as_str().unwrap(), "--result", "pass"]);
    phone.ok(&["sync"]);
    let case = chief.case(&c1);
    assert_eq!(case["state"], "closed");
    let actions: Vec<(&str, &str)> = case["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h["action"].as_str().unwrap(), h["actor"].as_str().unwrap()))
        .collect();
    assert_eq!(
        actions,
        vec![
            ("file", "chief1"),
            ("dispatch", "dispatcher1"),
            ("accept", "dept-hw"),
            ("handle", "dept-hw"),
            ("verify", "inspector1"),
            ("accept", "dept-hw"),
            ("handle", "dept-hw"),
            ("verify", "inspector1"),
        ]
    );
    let last = case["history"].as_array().unwrap().last().unwrap();
    assert_eq!((last["from"].as_str(), last["to"].as_str()), (Some("handled"), Some("closed")), "the verifier closes");
    assert!(case["history"][3]["photos"].as_array().unwrap().contains(&json!(fix_sha)));
    assert!(
        case["history"].as_array().unwrap().iter().all(|h| h["due_at"].is_string()),
        "each action names its deadline"
    );
    let mine = phone.list();
    let row = mine.iter().find(|f| f["id"] == f1.as_str()).unwrap();
    assert_eq!((row["case_no"].as_str(), row["case_state"].as_str()), (Some(c1.as_str()), Some("closed")));
    expect(&dispatcher.act(&c1, json!({"action": "dispatch"})), 409, "invalid_transition");

    // F2: a manhole cover (auto): dispatched at once; suspend, resume, extend, void.
    let f2 = phone.report("C0101", 41.7000, "orientation-landscape-3.jpg");
    phone.ok(&["sync"]);
    let c2 = phone.list().iter().find(|f| f["id"] == f2.as_str()).unwrap()["case_no"].as_str().unwrap().to_owned();
    let case = chief.case(&c2);
    assert_eq!((case["state"].as_str(), case["department"].as_str()), (Some("dispatched"), Some("SW")));
    assert_eq!(case["history"][1]["actor"], "system");
    assert_eq!(ok(dispatcher.act(&c2, json!({"action": "suspend", "note": "汛期挂账"})))["state"], "suspended");
    assert_eq!(ok(dispatcher.act(&c2, json!({"action": "resume"})))["state"], "dispatched");
    let before = chief.case(&c2)["due_at"].as_str().unwrap().to_owned();
    expect(&dispatcher.act(&c2, json!({"action": "extend", "hours": 2})), 422, "invalid");
    expect(&dispatcher.act(&c2, json!({"action": "extend", "hours": 721, "note": "太久"})), 422, "invalid");
    let extended = ok(dispatcher.act(&c2, json!({"action": "extend", "hours": 2, "note": "需要封路"})));
    let after = extended["due_at"].as_str().unwrap();
    let delta =
        chrono::DateTime::parse_from_rfc3339(after).unwrap() - chrono::DateTime::parse_from_rfc3339(&before).unwrap();
    assert_eq!(delta.num_minutes(), 120, "an urgent category extends in clock hours");
    expect(&chief2.act(&c2, json!({"action": "void", "note": "x"})), 403, "forbidden");
    assert_eq!(ok(chief.act(&c2, json!({"action": "void", "note": "重复上报"})))["state"], "voided");
    expect(&dispatcher.act(&c2, json!({"action": "resume"})), 409, "invalid_transition");

    // F3: a vendor, returned by the department as misrouted; F4 reports it again and is merged.
    let f3 = phone.report("E0501", 41.8100, "orientation-portrait-1.jpg");
    phone.ok(&["sync"]);
    let c3 = ok(chief.review(&f3, json!({"decision": "approve"})))["case"]["case_no"].as_str().unwrap().to_owned();
    ok(dispatcher.act(&c3, json!({"action": "dispatch"})));
    expect(&zf.act(&c3, json!({"action": "return"})), 422, "invalid");
    assert_eq!(ok(zf.act(&c3, json!({"action": "return", "note": "不属于本部门"})))["state"], "filed");
    let f4 = phone.report("E0501", 41.8101, "orientation-portrait-3.jpg");
    phone.ok(&["sync"]);
    let today = chrono::Local::now().format("%Y-%m-%d").to_string();
    let day = ok(api.get(&format!("/review?date={today}"), Some(&chief.token)));
    let item = day["findings"].as_array().unwrap().iter().find(|f| f["id"] == f4.as_str()).unwrap().clone();
    assert_eq!(item["possible_duplicate_of"], c3.as_str(), "an open case 11 m away is suggested");
    expect(&chief.review(&f4, json!({"decision": "merge", "case_no": c1})), 409, "conflict");
    assert_eq!(ok(chief.review(&f4, json!({"decision": "merge", "case_no": c3})))["finding"]["state"], "merged");
    assert_eq!(chief.case(&c3)["findings"].as_array().unwrap().len(), 2);

    // F5 fixed on the spot; F6 rejected.
    let photo = fixture("orientation-landscape-6.jpg");
    let out = phone.ok(&[
        "report",
        "--category",
        "E0104",
        "--lat",
        "41.75",
        "--lon",
        "123.43",
        "--fixed-on-spot",
        "--photo",
        photo.to_str().unwrap(),
        "--after-photo",
        fixture("orientation-landscape-8.jpg").to_str().unwrap(),
    ]);
    let f5 = out.lines().last().unwrap().to_owned();
    let f6 = phone.report("E0104", 41.76, "45-gps_ifd.jpg");
    phone.ok(&["sync"]);
    let c5 = ok(chief.review(&f5, json!({"decision": "approve"})))["case"].clone();
    assert_eq!((c5["state"].as_str(), c5["self_handled"].as_bool()), (Some("closed"), Some(true)));
    assert_eq!(
        ok(chief.review(&f6, json!({"decision": "reject", "reason": "照片不清"})))["finding"]["state"],
        "rejected"
    );
    phone.ok(&["sync"]);
    let row = phone.list().into_iter().find(|f| f["id"] == f6.as_str()).unwrap();
    assert_eq!((row["server_state"].as_str(), row["reason"].as_str()), (Some("rejected"), Some("照片不清")));

    // Lists and scopes.
    let open = ok(api.get("/cases?state=filed", Some(&dispatcher.token)));
    assert_eq!(
        open["cases"].as_array().unwrap().iter().map(|c| c["case_no"].clone()).collect::<Vec<_>>(),
        vec![json!(c3)]
    );
    let hw_cases = ok(api.get("/cases", Some(&hw.token)));
    assert!(hw_cases["cases"].as_array().unwrap().iter().all(|c| c["department"] == "HW"));
    assert_eq!(ok(api.get("/cases", Some(&chief2.token)))["cases"], json!([]), "another team's chief sees none");
    expect(&api.get(&format!("/cases/{c1}"), Some(&chief2.token)), 403, "forbidden");
    expect(&api.get("/cases?state=lost", Some(&dispatcher.token)), 422, "invalid");
    assert_eq!(ok(api.get("/cases?overdue=true", Some(&dispatcher.token)))["cases"], json!([]));

    // Indicators over a period holding every deadline of the scenario, computed by hand:
    // reported 6 (F1–F6), valid 5 (all but F6), self-handled 1 (F5); two verification tasks, both on time;
    // cases due: c1 and c3 (c2 voided, c5 self-handled), c1 handled in time; 2 handles, 1 rework;
    // closed: c1 (by verification) and c5 (on the spot), both in time.
    let from = (chrono::Local::now() - chrono::Duration::days(1)).format("%Y-%m-%d").to_string();
    let to = (chrono::Local::now() + chrono::Duration::days(60)).format("%Y-%m-%d").to_string();
    let stats = ok(api.get(&format!("/stats?from={from}&to={to}&group_by=inspector"), Some(&dispatcher.token)));
    let rows = stats["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{stats}");
    let r = &rows[0];
    assert_eq!(r["key"], "inspector1");
    let n = |k: &str| r[k].as_u64().unwrap_or_else(|| panic!("{k} in {r}"));
    assert_eq!((n("reported"), n("valid"), n("self_handled")), (6, 5, 1));
    assert!((r["valid_rate"].as_f64().unwrap() - 5.0 / 6.0).abs() < 1e-9);
    assert_eq!((n("verify_due"), n("verified_on_time")), (2, 2));
    assert_eq!((n("due"), n("handled_on_time"), n("handled"), n("rework")), (2, 1, 2, 1));
    assert_eq!((r["on_time_rate"].as_f64(), r["rework_rate"].as_f64()), (Some(0.5), Some(0.5)));
    assert_eq!((n("closed"), n("closed_on_time")), (2, 2));
    let csv = api.send(
        api.http
            .get(format!("{}/stats?from={from}&to={to}&group_by=inspector", api.base))
            .bearer_auth(&dispatcher.token)
            .header("Accept", "text/csv"),
    );
    assert_eq!(csv.status, 200);
    let by_team = ok(api.get(&format!("/stats?from={from}&to={to}&group_by=team"), Some(&chief2.token)));
    assert_eq!(by_team["rows"], json!([]), "a chief counts the own team only");
    expect(&api.get(&format!("/stats?from={from}&to={to}"), Some(&hw.token)), 403, "forbidden");
    expect(&api.get(&format!("/stats?from={from}&to={to}&group_by=planet"), Some(&admin.token)), 422, "invalid");

    // The admin revokes the phone: its next sync is refused, and it cannot register again.
    let devices = ok(api.get("/devices", Some(&admin.token)));
    let device_id = devices["devices"][0]["id"].as_str().unwrap().to_owned();
    expect(&api.get("/devices", Some(&dispatcher.token)), 403, "forbidden");
    assert!(
        ok(admin.api.post(&format!("/devices/{device_id}/revoke"), Some(&admin.token), &json!({})))["revoked_at"]
            .is_string()
    );
    let out = phone.run(&["sync"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("refused"));
    let out = phone.run(&["register", "--server", &server.url, "--username", "inspector1", "--password", "demo1234"]);
    assert!(!out.status.success());
}
