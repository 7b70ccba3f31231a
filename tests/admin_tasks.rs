//! Console administration of teams and users, and verification tasks reassigned (改派) or cancelled,
//! through the real HTTP API with real devices.

use serde_json::{Value, json};
use tiejiaoban::{Answer, Api, Device, STRONG_PASSWORD, Server};

fn expect(a: &Answer, status: u16, code: &str) {
    assert_eq!((a.status, a.code()), (status, code), "{}", a.body);
}

fn ok(a: Answer) -> Value {
    assert!(a.status == 200 || a.status == 201, "{} {}", a.status, a.body);
    a.body
}

fn patch(api: &Api, path: &str, token: &str, body: &Value) -> Answer {
    api.send(api.http.patch(format!("{}{path}", api.base)).bearer_auth(token).json(body))
}

fn team<'a>(teams: &'a Value, name: &str) -> Option<&'a Value> {
    teams["teams"].as_array().unwrap().iter().find(|t| t["name"] == name)
}

#[test]
fn an_admin_manages_teams_and_users() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("server"));
    let api = server.api();
    let admin = api.sign_in("admin");
    let chief = api.sign_in("chief1");

    let teams = ok(api.get("/teams", Some(&admin)));
    assert_eq!(team(&teams, "一中队").unwrap()["members"], 3, "inspector1, inspector2 and chief1: {teams}");
    expect(&api.get("/teams", Some(&chief)), 403, "forbidden");

    // A new team; its name is checked and unique.
    let created = api.post("/teams", Some(&admin), &json!({"name": " 三中队 "}));
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.body["name"], "三中队");
    expect(&api.post("/teams", Some(&admin), &json!({"name": "三中队"})), 409, "conflict");
    expect(&api.post("/teams", Some(&admin), &json!({"name": "  "})), 422, "invalid");
    expect(&api.post("/teams", Some(&chief), &json!({"name": "四中队"})), 403, "forbidden");
    assert_eq!(team(&ok(api.get("/teams", Some(&admin))), "三中队").unwrap()["members"], 0);

    // inspector3 moves to the new team: the chief of 二中队 no longer sees their finds' team.
    let moved = ok(patch(&api, "/users/inspector3", &admin, &json!({"team": "三中队", "display_name": "巡查员三"})));
    assert_eq!((moved["team"].as_str(), moved["display_name"].as_str()), (Some("三中队"), Some("巡查员三")));
    assert_eq!(moved["role"], "inspector", "what is not given stays");
    let teams = ok(api.get("/teams", Some(&admin)));
    assert_eq!(team(&teams, "三中队").unwrap()["members"], 1);
    // Bad input is refused with the field, and changes nothing.
    expect(&patch(&api, "/users/inspector3", &admin, &json!({"password": "123"})), 422, "invalid");
    expect(&patch(&api, "/users/inspector3", &admin, &json!({"department": "NOPE"})), 422, "invalid");
    expect(&patch(&api, "/users/inspector3", &admin, &json!({"role": "department"})), 422, "invalid");
    expect(&patch(&api, "/users/inspector3", &admin, &json!({"colour": "blue"})), 422, "invalid");
    expect(&patch(&api, "/users/nobody", &admin, &json!({"team": "三中队"})), 404, "not_found");
    expect(&patch(&api, "/users/inspector3", &chief, &json!({"team": "一中队"})), 403, "forbidden");
    let lockout = patch(&api, "/users/admin", &admin, &json!({"active": false}));
    expect(&lockout, 422, "invalid");
    assert_eq!(lockout.body["error"]["details"]["field"], "active");
    let demotion = patch(&api, "/users/admin", &admin, &json!({"role": "inspector", "display_name": "改名"}));
    expect(&demotion, 422, "invalid");
    assert_eq!(demotion.body["error"]["details"]["field"], "role");
    let users = ok(api.get("/users", Some(&admin)));
    let i3 = users["users"].as_array().unwrap().iter().find(|u| u["username"] == "inspector3").unwrap();
    assert_eq!((i3["team"].as_str(), i3["active"].as_bool()), (Some("三中队"), Some(true)));
    let me = users["users"].as_array().unwrap().iter().find(|u| u["username"] == "admin").unwrap();
    assert_eq!((me["role"].as_str(), me["active"].as_bool()), (Some("admin"), Some(true)));
    assert_ne!(me["display_name"], "改名", "a refused change changes nothing");

    // A new password works at once; an inactive user can neither sign in nor sync.
    let phone = Device::new(&tmp.path().join("phone3"));
    phone.register(&server.url, "inspector3");
    ok(patch(&api, "/users/inspector3", &admin, &json!({"password": STRONG_PASSWORD})));
    let sign_in =
        |password: &str| api.post("/sessions", None, &json!({"username": "inspector3", "password": password}));
    assert_eq!(sign_in(STRONG_PASSWORD).status, 201);
    assert_eq!(sign_in("demo1234").status, 401);
    ok(patch(&api, "/users/inspector3", &admin, &json!({"active": false})));
    assert_eq!(sign_in(STRONG_PASSWORD).status, 401);
    let refused = phone.run(&["sync"]);
    assert!(!refused.status.success(), "an inactive user's device is refused");
    assert_eq!(team(&ok(api.get("/teams", Some(&admin))), "三中队").unwrap()["members"], 0);
    // Back again, and out of any team (null clears).
    let back = ok(patch(&api, "/users/inspector3", &admin, &json!({"active": true, "team": null})));
    assert!(back["team"].is_null());
    phone.ok(&["sync"]);

    // Departments of the dictionary with their users, for the admin and the dispatcher.
    let deps = ok(api.get("/departments", Some(&api.sign_in("dispatcher1"))));
    let hw = deps["departments"].as_array().unwrap().iter().find(|d| d["code"] == "HW").unwrap();
    assert_eq!((hw["users"].as_i64(), hw["open_cases"].as_i64()), (Some(1), Some(0)));
    expect(&api.get("/departments", Some(&chief)), 403, "forbidden");
}

/// Session tokens of the console users a case passes through.
struct Desk {
    chief: String,
    dispatcher: String,
    department: String,
}

impl Desk {
    fn signed_in(api: &Api) -> Desk {
        Desk {
            chief: api.sign_in("chief1"),
            dispatcher: api.sign_in("dispatcher1"),
            department: api.sign_in("dept-hw"),
        }
    }
}

/// The phones of inspector1 and inspector2 (一中队), registered.
fn phones(dir: &std::path::Path, server: &Server) -> (Device, Device) {
    let phone1 = Device::new(&dir.join("phone1"));
    phone1.register(&server.url, "inspector1");
    let phone2 = Device::new(&dir.join("phone2"));
    phone2.register(&server.url, "inspector2");
    (phone1, phone2)
}

/// Files, dispatches, accepts and handles a finding of `phone`; returns the case number.
fn handled_case(api: &Api, desk: &Desk, phone: &Device, lat: f64) -> String {
    let id = phone.report("E0102", lat, "orientation-landscape-1.jpg");
    phone.ok(&["sync"]);
    let approved = ok(api.post(&format!("/findings/{id}/review"), Some(&desk.chief), &json!({"decision": "approve"})));
    let case_no = approved["case"]["case_no"].as_str().unwrap().to_owned();
    let act = |token: &str, body: Value| ok(api.post(&format!("/cases/{case_no}/actions"), Some(token), &body));
    act(&desk.dispatcher, json!({"action": "dispatch"}));
    act(&desk.department, json!({"action": "accept"}));
    assert_eq!(act(&desk.department, json!({"action": "handle", "note": "已清运"}))["state"], "handled");
    case_no
}

fn device_tasks(phone: &Device) -> Vec<Value> {
    phone.ok(&["sync"]);
    serde_json::from_str(&phone.ok(&["tasks", "--json"])).unwrap()
}

#[test]
fn verification_tasks_are_reassigned_and_cancelled() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("server"));
    let api = server.api();
    let (phone1, phone2) = phones(tmp.path(), &server);
    let desk = Desk::signed_in(&api);
    let dispatcher = desk.dispatcher.clone();

    let case_no = handled_case(&api, &desk, &phone1, 41.7968);
    let case = ok(api.get(&format!("/cases/{case_no}"), Some(&dispatcher)));
    let first = case["tasks"][0].clone();
    assert_eq!((first["assignee"].as_str(), first["state"].as_str()), (Some("inspector1"), Some("open")));
    let task_id = first["id"].as_str().unwrap();
    let reassign = |token: &str, body: Value| api.post(&format!("/tasks/{task_id}/reassign"), Some(token), &body);

    // Who may, and to whom.
    expect(&reassign(&api.sign_in("chief2"), json!({"assignee": "inspector2"})), 403, "forbidden");
    expect(&reassign(&desk.department, json!({"assignee": "inspector2"})), 403, "forbidden");
    expect(&reassign(&dispatcher, json!({"assignee": "dept-sz"})), 422, "invalid");
    expect(&reassign(&dispatcher, json!({"assignee": "nobody"})), 422, "invalid");
    expect(&reassign(&dispatcher, json!({})), 422, "invalid");
    expect(
        &api.post("/tasks/not-a-task/reassign", Some(&dispatcher), &json!({"assignee": "inspector2"})),
        404,
        "not_found",
    );

    // To inspector2, with the same deadline; inspector1's phone hears the task is gone.
    let after = ok(reassign(&dispatcher, json!({"assignee": "inspector2", "note": "inspector1 休假"})));
    let tasks = after["tasks"].as_array().unwrap();
    assert_eq!(tasks.len(), 2);
    assert_eq!((tasks[0]["state"].as_str(), tasks[1]["state"].as_str()), (Some("cancelled"), Some("open")));
    assert_eq!(tasks[1]["assignee"], "inspector2");
    assert_eq!(tasks[1]["due_at"], first["due_at"]);
    let last = after["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!((last["action"].as_str(), last["actor"].as_str()), (Some("task_reassign"), Some("dispatcher1")));
    assert_eq!(last["note"], "inspector1 → inspector2: inspector1 休假");
    assert_eq!((last["from"].as_str(), last["to"].as_str()), (Some("handled"), Some("handled")));
    expect(&reassign(&dispatcher, json!({"assignee": "inspector2"})), 409, "invalid_transition");
    let on_phone1 = device_tasks(&phone1);
    assert_eq!(on_phone1.iter().filter(|t| t["state"] == "open").count(), 0, "{on_phone1:?}");

    // inspector2 verifies it on the spot: the case closes.
    let on_phone2 = device_tasks(&phone2);
    let open: Vec<&Value> = on_phone2.iter().filter(|t| t["state"] == "open").collect();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0]["case_no"], case_no.as_str());
    phone2.ok(&["task-complete", open[0]["id"].as_str().unwrap(), "--result", "pass"]);
    phone2.ok(&["sync"]);
    assert_eq!(ok(api.get(&format!("/cases/{case_no}"), Some(&dispatcher)))["state"], "closed");

    // Another case: the team's chief cancels its task; the case waits in `handled` for the centre.
    let second = handled_case(&api, &desk, &phone1, 41.7990);
    let case = ok(api.get(&format!("/cases/{second}"), Some(&dispatcher)));
    let task_id = case["tasks"][0]["id"].as_str().unwrap().to_owned();
    let cancel =
        |token: &str| api.post(&format!("/tasks/{task_id}/cancel"), Some(token), &json!({"note": "现场已拆除"}));
    expect(&cancel(&api.sign_in("chief2")), 403, "forbidden");
    let after = ok(cancel(&desk.chief));
    assert_eq!(after["state"], "handled");
    assert_eq!(after["tasks"][0]["state"], "cancelled");
    let last = after["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!((last["action"].as_str(), last["note"].as_str()), (Some("task_cancel"), Some("inspector1: 现场已拆除")));
    expect(&cancel(&dispatcher), 409, "invalid_transition");
    assert!(device_tasks(&phone1).iter().all(|t| t["state"] != "open"));
}

#[test]
fn a_verification_goes_to_an_inspector_of_the_grid_when_the_reporter_cannot_take_it() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("server"));
    let api = server.api();
    let (phone1, phone2) = phones(tmp.path(), &server);
    let Desk { chief, dispatcher, department } = Desk::signed_in(&api);
    let admin = api.sign_in("admin");

    // inspector1 reports in the demo's grid 210103002, whose inspector is inspector2.
    let id = phone1.report("E0102", 41.7968, "orientation-landscape-1.jpg");
    phone1.ok(&["sync"]);
    let approved = ok(api.post(&format!("/findings/{id}/review"), Some(&chief), &json!({"decision": "approve"})));
    let case_no = approved["case"]["case_no"].as_str().unwrap().to_owned();
    assert_eq!(approved["case"]["grid"], "210103002");
    let act = |token: &str, body: Value| ok(api.post(&format!("/cases/{case_no}/actions"), Some(token), &body));
    act(&dispatcher, json!({"action": "dispatch"}));
    act(&department, json!({"action": "accept"}));

    // Meanwhile inspector1's phone is revoked (lost): the verification cannot reach them.
    let devices = ok(api.get("/devices", Some(&admin)));
    let lost = devices["devices"].as_array().unwrap().iter().find(|d| d["user"]["username"] == "inspector1").unwrap();
    ok(api.post(&format!("/devices/{}/revoke", lost["id"].as_str().unwrap()), Some(&admin), &json!({})));
    assert_eq!(act(&department, json!({"action": "handle", "note": "已清运"}))["state"], "handled");

    let case = ok(api.get(&format!("/cases/{case_no}"), Some(&dispatcher)));
    assert_eq!(case["tasks"][0]["assignee"], "inspector2", "{}", case["tasks"]);
    let tasks = device_tasks(&phone2);
    let task = tasks.iter().find(|t| t["case_no"] == case_no.as_str()).unwrap_or_else(|| panic!("{tasks:?}"));
    // The finding's photo (inspector1's) came with it: the grid inspector may read it and the sync fetched it.
    let sha = task["photos"][0].as_str().expect("the finding's photo");
    let fetched = std::fs::read(phone2.home.join("photos").join(format!("{sha}.jpg"))).expect("fetched to the phone");
    assert_eq!(tiejiaoban::sha256_hex(&fetched), sha);
}
