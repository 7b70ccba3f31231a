//! Reports from other channels, end to end through the real server and the device CLI: a 12345 report sent
//! for 核实 to the inspector of its grid, confirmed on the phone with a photo, filed, handled, verified and
//! closed; a report placed by its address alone and not found; resends; the caller's contact kept from
//! inspectors and departments; free tasks (点名抽查); every refusal naming its field; 按时核实率 by hand.

use serde_json::{Value, json};
use tiejiaoban::{Answer, Api, Device, Server, fixture, sha256_hex};

fn expect(a: &Answer, status: u16, code: &str, field: Option<&str>) {
    assert_eq!((a.status, a.code()), (status, code), "{}", a.body);
    if let Some(field) = field {
        assert_eq!(a.body["error"]["details"]["field"], field, "{}", a.body);
    }
}

fn status(a: Answer, status: u16) -> Value {
    assert_eq!(a.status, status, "{}", a.body);
    a.body
}

fn tasks(phone: &Device) -> Vec<Value> {
    serde_json::from_str(&phone.ok(&["tasks", "--json"])).expect("tasks --json")
}

fn uuid() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// A photo uploaded by `token`; returns its PhotoRef.
fn photo(api: &Api, token: &str, name: &str) -> Value {
    let bytes = std::fs::read(fixture(name)).unwrap();
    let sha = sha256_hex(&bytes);
    let len = bytes.len();
    let put = api.put_blob(token, &sha, "image/jpeg", bytes);
    assert!(put.status == 201 || put.status == 200, "{}", put.body);
    json!({"sha256": sha, "role": "before", "taken_at": null, "width": 0, "height": 0, "bytes": len})
}

#[test]
fn a_hotline_report_is_confirmed_on_the_phone_and_runs_to_a_closed_case() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("server"));
    let api = server.api();
    let phone1 = Device::new(&tmp.path().join("phone1"));
    phone1.register(&server.url, "inspector1");
    let phone2 = Device::new(&tmp.path().join("phone2"));
    phone2.register(&server.url, "inspector2");
    let dispatcher = api.sign_in("dispatcher1");
    let admin = api.sign_in("admin");
    let chief = api.sign_in("chief1");
    let inspector = api.sign_in("inspector3");
    let department = api.sign_in("dept-hw");
    let picture = photo(&api, &dispatcher, "orientation-landscape-1.jpg");

    // A 12345 report at a point of grid 210103001 (中街西网格, inspector1's), with the caller's contact.
    let id = uuid();
    let report = json!({
        "id": id, "channel": "hotline", "external_ref": "12345-20261204-0031", "category": "C0101",
        "description": "市民来电: 井盖缺失", "location": {"lat": 41.7940, "lon": 123.4300},
        "contact": {"name": "李女士", "phone": "139 1234 5678"}, "photos": [picture],
    });
    let first = status(api.post("/reports", Some(&dispatcher), &report), 201)["report"].clone();
    assert_eq!(
        (first["state"].as_str(), first["grid"].as_str(), first["assignee"].as_str(), first["channel"].as_str()),
        (Some("verifying"), Some("210103001"), Some("inspector1"), Some("hotline"))
    );
    assert!(first["task_id"].is_string() && first["case_no"].is_null(), "{first}");
    assert_eq!(first["contact"]["phone"], "139 1234 5678", "the dispatcher sees the caller");
    // Resent as the hotline system resends: the same answer, nothing new; another body under the id: 409.
    assert_eq!(status(api.post("/reports", Some(&dispatcher), &report), 200)["report"], first);
    let mut changed = report.clone();
    changed["description"] = json!("另一件事");
    expect(&api.post("/reports", Some(&dispatcher), &changed), 409, "conflict", None);
    assert_eq!(server.count("SELECT COUNT(*) FROM reports"), 1);
    assert_eq!(server.count("SELECT COUNT(*) FROM tasks WHERE kind = 'confirm'"), 1);

    // The contact is the dispatcher's and the admin's: the chief sees the report without it, inspectors and
    // departments not at all, and the phone's task does not carry it.
    let path = format!("/reports/{id}");
    assert_eq!(status(api.get(&path, Some(&admin)), 200)["report"]["contact"]["name"], "李女士");
    assert!(status(api.get(&path, Some(&chief)), 200)["report"]["contact"].is_null());
    expect(&api.get(&path, Some(&inspector)), 403, "forbidden", None);
    expect(&api.get("/reports", Some(&department)), 403, "forbidden", None);
    phone1.ok(&["sync"]);
    let listed = tasks(&phone1);
    let task = listed.iter().find(|t| t["task_type"] == "confirm").expect("the 核实 task").clone();
    assert_eq!((task["category"].as_str(), task["case_no"].as_str()), (Some("C0101"), None));
    assert_eq!(task["photos"], json!([first["photos"][0]]), "the report's photo comes with it");
    let fetched = phone1.home.join("photos").join(format!("{}.jpg", first["photos"][0].as_str().unwrap()));
    assert_eq!(
        tiejiaoban::sha256_hex(&std::fs::read(&fetched).expect("the report's photo fetched to the phone")),
        first["photos"][0].as_str().unwrap()
    );
    let stored = String::from_utf8_lossy(&std::fs::read(phone1.home.join("device.sqlite")).unwrap()).into_owned();
    assert!(stored.contains("市民来电"), "the task is held on the phone");
    for private in ["13912345678", "139 1234 5678", "李女士"] {
        assert!(!stored.contains(private), "{private} reached the phone");
    }

    // On the phone: a result that does not fit a 核实 task is refused there; confirmed with a photo files it.
    let task_id = task["id"].as_str().unwrap();
    let wrong = phone1.run(&["task-complete", task_id, "--result", "pass"]);
    assert!(!wrong.status.success() && String::from_utf8_lossy(&wrong.stderr).contains("confirmed or not_found"));
    let shot = fixture("orientation-portrait-6.jpg");
    phone1.ok(&[
        "task-complete",
        task_id,
        "--result",
        "confirmed",
        "--note",
        "确有井盖缺失",
        "--photo",
        shot.to_str().unwrap(),
    ]);
    phone1.ok(&["sync"]);
    let filed = status(api.get(&path, Some(&dispatcher)), 200)["report"].clone();
    assert_eq!((filed["state"].as_str(), filed["note"].as_str()), (Some("filed"), Some("确有井盖缺失")));
    let case_no = filed["case_no"].as_str().expect("filed as a case").to_owned();
    let case = status(api.get(&format!("/cases/{case_no}"), Some(&dispatcher)), 200);
    assert_eq!((case["state"].as_str(), case["department"].as_str()), (Some("dispatched"), Some("SW")));
    assert_eq!(case["grid"], "210103001");
    let finding = &case["findings"][0];
    assert_eq!(
        (finding["reporter"].as_str(), finding["photos"].as_array().map(Vec::len)),
        (Some("inspector1"), Some(2))
    );

    // The case runs as any other: handled by its department, verified by the inspector who confirmed it.
    let sw = api.water_department(&admin);
    let act = |body: Value| status(api.post(&format!("/cases/{case_no}/actions"), Some(&sw), &body), 200);
    act(json!({"action": "accept"}));
    let fixed = photo(&api, &sw, "orientation-landscape-6.jpg");
    act(json!({"action": "handle", "note": "已补装井盖", "photos": [fixed["sha256"]]}));
    phone1.ok(&["sync"]);
    let verify = tasks(&phone1).into_iter().find(|t| t["task_type"] == "verify").expect("the 核查 task");
    assert_eq!(verify["case_no"], case_no.as_str());
    phone1.ok(&["task-complete", verify["id"].as_str().unwrap(), "--result", "pass"]);
    phone1.ok(&["sync"]);
    let closed = status(api.get(&format!("/cases/{case_no}"), Some(&dispatcher)), 200);
    assert_eq!(closed["state"], "closed");

    // A report with an address only: placed at the middle of the road it names (中街路, in grid 210103002,
    // inspector2's), without a category; the inspector finds nothing and says so.
    let lost = uuid();
    let by_address = json!({"id": lost, "channel": "leader", "description": "领导交办: 查看占道经营",
                            "address": "沈河区中街路 88号门前"});
    let second = status(api.post("/reports", Some(&chief), &by_address), 201)["report"].clone();
    assert_eq!((second["grid"].as_str(), second["assignee"].as_str()), (Some("210103002"), Some("inspector2")));
    let at = &second["location"];
    assert!((at["lat"].as_f64().unwrap() - 41.7969).abs() < 0.0005, "{at}");
    phone2.ok(&["sync"]);
    let check = tasks(&phone2).into_iter().find(|t| t["task_type"] == "confirm").unwrap();
    let check_id = check["id"].as_str().unwrap();
    let bare = phone2.run(&["task-complete", check_id, "--result", "not_found"]);
    assert!(!bare.status.success(), "not found needs a note");
    let uncategorised = phone2.run(&["task-complete", check_id, "--result", "confirmed"]);
    assert!(String::from_utf8_lossy(&uncategorised.stderr).contains("category"), "a category must be chosen");
    let seen = fixture("orientation-landscape-3.jpg");
    phone2.ok(&[
        "task-complete",
        check_id,
        "--result",
        "not_found",
        "--note",
        "现场无占道经营",
        "--photo",
        seen.to_str().unwrap(),
    ]);
    phone2.ok(&["sync"]);
    let ended = status(api.get(&format!("/reports/{lost}"), Some(&dispatcher)), 200)["report"].clone();
    assert_eq!((ended["state"].as_str(), ended["note"].as_str()), (Some("not_confirmed"), Some("现场无占道经营")));
    assert!(ended["case_no"].is_null());
    // The photo of what was there is the centre's to read, though no case was filed.
    let tasks_seen = status(api.get("/tasks?type=confirm", Some(&dispatcher)), 200);
    let not_found = tasks_seen["tasks"].as_array().unwrap().iter().find(|t| t["id"] == check_id).unwrap().clone();
    assert_eq!(api.get_blob(&dispatcher, not_found["photos"][0].as_str().unwrap()).0, 200);
    let verifying = status(api.get("/reports?state=not_confirmed", Some(&dispatcher)), 200);
    assert_eq!(verifying["reports"].as_array().unwrap().len(), 1);
    expect(&api.get("/reports?state=lost", Some(&dispatcher)), 422, "invalid", Some("state"));

    // Filed at once (verify: false): a case without 核实.
    let direct = json!({"id": uuid(), "channel": "camera", "category": "C0101", "verify": false,
                        "location": {"lat": 41.7990, "lon": 123.4280}});
    let direct = status(api.post("/reports", Some(&dispatcher), &direct), 201)["report"].clone();
    assert_eq!(direct["state"], "filed");
    assert!(direct["case_no"].is_string() && direct["task_id"].is_null(), "{direct}");
    // Its 核查 goes to an inspector of its grid (210103003: inspector3), not to the dispatcher who took it.
    let direct_case = direct["case_no"].as_str().unwrap();
    let act_on = |body: Value| status(api.post(&format!("/cases/{direct_case}/actions"), Some(&sw), &body), 200);
    act_on(json!({"action": "accept"}));
    let fixed = photo(&api, &sw, "orientation-portrait-3.jpg");
    let handled = act_on(json!({"action": "handle", "note": "已处理", "photos": [fixed["sha256"]]}));
    let verifier = handled["tasks"].as_array().and_then(|t| t.last()).map(|t| t["assignee"].clone());
    let verifier = verifier.unwrap_or_else(|| {
        status(api.get(&format!("/cases/{direct_case}"), Some(&dispatcher)), 200)["tasks"][0]["assignee"].clone()
    });
    assert_eq!(verifier, "inspector3");

    // 按时核实率, by hand: inspector1 and inspector2 each had one 核实 task, both done before the deadline.
    let from = (chrono::Local::now() - chrono::Duration::days(1)).format("%Y-%m-%d").to_string();
    let to = (chrono::Local::now() + chrono::Duration::days(60)).format("%Y-%m-%d").to_string();
    let stats = status(api.get(&format!("/stats?from={from}&to={to}&group_by=inspector"), Some(&dispatcher)), 200);
    let row = |who: &str| stats["rows"].as_array().unwrap().iter().find(|r| r["key"] == who).cloned().unwrap();
    for who in ["inspector1", "inspector2"] {
        let r = row(who);
        assert_eq!((r["confirm_due"].as_u64(), r["confirmed_on_time"].as_u64()), (Some(1), Some(1)), "{who}: {r}");
    }
    assert_eq!(row("inspector1")["verify_due"], 1, "the 核查 task is counted apart");
}

#[test]
fn bad_reports_and_tasks_are_refused_naming_the_field_and_change_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("server"));
    let api = server.api();
    let phone = Device::new(&tmp.path().join("phone"));
    phone.register(&server.url, "inspector1");
    let dispatcher = api.sign_in("dispatcher1");
    let inspector = api.sign_in("inspector1");
    let here = json!({"lat": 41.7940, "lon": 123.4300});
    let post = |body: Value| api.post("/reports", Some(&dispatcher), &body);
    let cases: [(Value, &str); 7] = [
        (json!({"id": uuid(), "channel": "hotline", "description": "无处"}), "location"),
        (json!({"id": uuid(), "channel": "hotline", "location": here.clone(), "category": "Z9999"}), "category"),
        (
            json!({"id": uuid(), "channel": "hotline", "location": here.clone(), "contact": {"name": "王", "phone": "12345"}}),
            "contact.phone",
        ),
        (json!({"id": uuid(), "channel": "hotline", "location": here.clone(), "verify": false}), "category"),
        (json!({"id": uuid(), "channel": "hotline", "location": here.clone(), "assignee": "nobody"}), "assignee"),
        (json!({"id": uuid(), "channel": "hotline", "location": here.clone(), "assignee": "dept-hw"}), "assignee"),
        // 青年大街 is no road of the dictionary: the place is unknown, and nobody is named to go and look.
        (json!({"id": uuid(), "channel": "hotline", "address": "青年大街 3号"}), "assignee"),
    ];
    for (body, field) in cases {
        expect(&post(body), 422, "invalid", Some(field));
    }
    expect(&post(json!({"id": uuid(), "channel": "fax", "location": here.clone()})), 422, "invalid", None);
    // A finding's id is taken: a report under it would file a second record with it.
    let finding = phone.report("E0102", 41.7968, "orientation-landscape-1.jpg");
    phone.ok(&["sync"]);
    expect(&post(json!({"id": finding, "channel": "hotline", "location": here.clone()})), 409, "conflict", None);
    expect(
        &api.post("/reports", Some(&inspector), &json!({"id": uuid(), "channel": "hotline", "location": here.clone()})),
        403,
        "forbidden",
        None,
    );
    assert_eq!(server.count("SELECT COUNT(*) FROM reports"), 0);

    // Free tasks: to a real inspector, with a deadline ahead; a chief for the own team only.
    let due = (chrono::Local::now() + chrono::Duration::hours(4)).to_rfc3339();
    let task = |assignee: &str| {
        json!({"id": uuid(), "type": "inspect", "assignee": assignee, "title": "点名抽查: 拍一张你所在位置的照片",
               "due_at": due})
    };
    let chief2 = api.sign_in("chief2");
    expect(&api.post("/tasks", Some(&chief2), &task("inspector1")), 403, "forbidden", None);
    expect(&api.post("/tasks", Some(&dispatcher), &task("nobody")), 422, "invalid", Some("assignee"));
    // inspector2's only phone is revoked (lost): nothing can reach them. (An inspector who has not registered a
    // phone yet gets the task with everything else on the first sync.)
    let (lost, _) = api.register("inspector2");
    let admin = api.sign_in("admin");
    assert_eq!(api.post(&format!("/devices/{lost}/revoke"), Some(&admin), &json!({})).status, 200);
    expect(&api.post("/tasks", Some(&dispatcher), &task("inspector2")), 422, "invalid", Some("assignee"));
    expect(
        &post(json!({"id": uuid(), "channel": "hotline", "location": here.clone(), "assignee": "inspector2"})),
        422,
        "invalid",
        Some("assignee"),
    );
    let mut confirm = task("inspector1");
    confirm["type"] = json!("confirm");
    expect(&api.post("/tasks", Some(&dispatcher), &confirm), 422, "invalid", Some("type"));
    let mut late = task("inspector1");
    late["due_at"] = json!("2020-01-01T00:00:00+08:00");
    expect(&api.post("/tasks", Some(&dispatcher), &late), 422, "invalid", Some("due_at"));
    assert_eq!(server.count("SELECT COUNT(*) FROM tasks"), 0);

    let spot_check = task("inspector1");
    let made = status(api.post("/tasks", Some(&api.sign_in("chief1")), &spot_check), 201);
    assert_eq!((made["type"].as_str(), made["state"].as_str()), (Some("inspect"), Some("open")));
    assert_eq!(status(api.post("/tasks", Some(&api.sign_in("chief1")), &spot_check), 200)["id"], made["id"]);
    phone.ok(&["sync"]);
    let held: Vec<Value> = serde_json::from_str(&phone.ok(&["tasks", "--json"])).unwrap();
    let on_phone = held.iter().find(|t| t["task_type"] == "inspect").expect("the free task");
    assert_eq!(on_phone["title"], "点名抽查: 拍一张你所在位置的照片");
    let id = on_phone["id"].as_str().unwrap();
    let wrong = phone.run(&["task-complete", id, "--result", "confirmed"]);
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("ends with done"));
    let shot = fixture("orientation-portrait-6.jpg");
    phone.ok(&["task-complete", id, "--result", "done", "--note", "在中街路口", "--photo", shot.to_str().unwrap()]);
    phone.ok(&["sync"]);
    let listed = status(api.get("/tasks?type=inspect", Some(&dispatcher)), 200);
    let done = &listed["tasks"][0];
    assert_eq!(
        (done["state"].as_str(), done["result"].as_str(), done["note"].as_str()),
        (Some("done"), Some("done"), Some("在中街路口"))
    );
    // The centre reads the photo it asked for.
    let sha = done["photos"][0].as_str().unwrap();
    assert_eq!(api.get_blob(&dispatcher, sha).0, 200);
    assert_eq!(api.get_blob(&api.sign_in("dept-hw"), sha).0, 404, "others are not told it exists");
}

/// The server checks a result against the task's type itself (a device may be older, or not this one): a
/// result that does not fit is rejected naming `result`, and the task stays open for the right one.
#[test]
fn a_result_that_does_not_fit_the_task_type_is_rejected_by_the_server() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("server"));
    let api = server.api();
    let (device_id, token) = api.register("inspector3");
    let dispatcher = api.sign_in("dispatcher1");
    let due = (chrono::Local::now() + chrono::Duration::hours(4)).to_rfc3339();
    let task_id = uuid();
    let made = api.post(
        "/tasks",
        Some(&dispatcher),
        &json!({"id": task_id, "type": "inspect", "assignee": "inspector3", "title": "领导交办: 查看北顺城路", "due_at": due}),
    );
    assert_eq!(made.status, 201, "{}", made.body);
    let send = |seq: u64, result: &str| {
        let body = json!({"task_id": task_id, "result": result, "note": "", "photos": [],
                          "completed_at": chrono::Local::now().to_rfc3339()});
        let ops = json!([{"seq": seq, "kind": "task.complete", "body": body}]);
        status(api.post("/sync", Some(&token), &json!({"device_id": device_id, "ops": ops, "cursor": null})), 200)
    };
    for (seq, wrong) in [(1, "pass"), (2, "confirmed")] {
        let answer = send(seq, wrong);
        let result = &answer["results"][0];
        assert_eq!(
            (result["status"].as_str(), result["error"]["code"].as_str()),
            (Some("rejected"), Some("invalid")),
            "{answer}"
        );
        assert_eq!(result["error"]["details"]["field"], "result");
    }
    assert_eq!(server.count("SELECT COUNT(*) FROM tasks WHERE state = 'open'"), 1);
    let answer = send(3, "done");
    assert_eq!(answer["results"][0]["task"]["state"], "done", "{answer}");
}
