//! The console's extension endpoints (documented in the OpenAPI description): who am I, dictionary,
//! users, patrols with tracks, sync health, and the OpenAPI document itself.

use serde_json::json;
use tiejiaoban::{Device, STRONG_PASSWORD, Server};

#[test]
fn console_extensions_answer_by_role() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("server"));
    let api = server.api();
    let admin = api.sign_in("admin");
    let chief = api.sign_in("chief1");
    let inspector = api.sign_in("inspector1");

    let doc = api.get("/openapi.json", None);
    assert_eq!(doc.status, 200);
    assert!(doc.body["openapi"].as_str().unwrap().starts_with("3."));
    for path in ["/api/v1/sync", "/api/v1/cases/{case_no}/actions", "/api/v1/stats", "/api/v1/devices/{id}/revoke"] {
        assert!(doc.body["paths"][path].is_object(), "{path}");
    }

    assert_eq!(api.get("/me", Some(&chief)).body["user"]["username"], "chief1");
    let dict = api.get("/dictionary", Some(&inspector));
    assert_eq!(dict.body["categories"].as_array().unwrap().len(), 47);
    let mut newer = dict.body.clone();
    newer["categories"][0]["time_limit_hours"] = json!(3);
    // Routing by road: exposed garbage on 中街路 goes to the street office (JD), not sanitation (HW).
    newer["routes"] = json!([{"category": "E0102", "road": "中街路", "department": "JD"}]);
    assert_eq!(api.post("/dictionary", Some(&chief), &newer).status, 403);
    let imported = api.post("/dictionary", Some(&admin), &newer);
    assert_eq!(imported.status, 200, "{}", imported.body);
    assert!(imported.body["version"].as_i64().unwrap() > dict.body["version"].as_i64().unwrap());

    let added = api.post(
        "/users",
        Some(&admin),
        &json!({"username": "zhao", "password": STRONG_PASSWORD, "role": "inspector", "team": "三中队"}),
    );
    assert_eq!(added.status, 201, "{}", added.body);
    assert_eq!(
        api.post(
            "/users",
            Some(&admin),
            &json!({"username": "zhao", "password": STRONG_PASSWORD, "role": "inspector"})
        )
        .status,
        409
    );
    assert_eq!(
        api.post("/users", Some(&admin), &json!({"username": "x", "password": "1", "role": "inspector"})).status,
        422
    );
    let guessable =
        api.post("/users", Some(&admin), &json!({"username": "xu", "password": "demo123456", "role": "inspector"}));
    assert_eq!((guessable.status, guessable.body["error"]["details"]["field"].as_str()), (422, Some("password")));
    assert_eq!(
        api.post("/users", Some(&chief), &json!({"username": "yu", "password": STRONG_PASSWORD, "role": "inspector"}))
            .status,
        403
    );
    let users = api.get("/users", Some(&admin));
    assert!(users.body["users"].as_array().unwrap().iter().any(|u| u["username"] == "zhao"));
    assert_eq!(api.get("/users", Some(&chief)).status, 403);

    // A patrol walked on a device shows on the chief's map with its track and finds.
    let phone = Device::new(&tmp.path().join("phone"));
    phone.register(&server.url, "inspector1");
    phone.ok(&["patrol", "start"]);
    phone.ok(&["patrol", "track", "--lat", "41.7968", "--lon", "123.4300"]);
    phone.ok(&["patrol", "track", "--lat", "41.7968", "--lon", "123.4301"]); // about 8 m on
    phone.ok(&["patrol", "track", "--lat", "41.79681", "--lon", "123.43011"]); // under 5 m: thinned out
    phone.ok(&["patrol", "track", "--lat", "41.7968", "--lon", "123.4400", "--accuracy", "80"]); // too inaccurate
    let on_patrol = phone.report("E0102", 41.7968, "orientation-landscape-1.jpg");
    let ended = phone.ok(&["patrol", "end"]);
    assert!(ended.contains(" 8 m") || ended.contains(" 9 m"), "{ended}");
    phone.ok(&["sync"]);
    let today = chrono::Local::now().format("%Y-%m-%d").to_string();
    let patrols = api.get(&format!("/patrols?date={today}"), Some(&chief));
    assert_eq!(patrols.status, 200, "{}", patrols.body);
    let p = &patrols.body["patrols"][0];
    assert_eq!(p["user"]["username"], "inspector1");
    assert_eq!(p["points"].as_array().unwrap().len(), 2);
    assert_eq!(p["findings"], 1);
    assert!(p["ended_at"].is_string());
    // The track ran along 中街路 of the demo dictionary (about 8 m of it).
    let roads = p["roads"].as_array().unwrap();
    assert_eq!(roads.len(), 1, "{roads:?}");
    assert_eq!(roads[0]["name"], "中街路");
    let on_road = roads[0]["distance_m"].as_f64().unwrap();
    assert!((7.0..10.0).contains(&on_road), "{on_road}");
    assert_eq!(api.get(&format!("/patrols?date={today}"), Some(&api.sign_in("chief2"))).body["patrols"], json!([]));
    assert_eq!(api.get(&format!("/patrols?date={today}"), Some(&inspector)).status, 403);

    // The route override applies when the case is filed; the same category elsewhere keeps its department.
    let photo = tiejiaoban::fixture("orientation-portrait-1.jpg");
    let routed = phone.ok(&[
        "report",
        "--category",
        "E0102",
        "--lat",
        "41.7968",
        "--lon",
        "123.4330",
        "--road",
        "中街路",
        "--photo",
        photo.to_str().unwrap(),
    ]);
    let routed = routed.lines().last().unwrap().to_owned();
    // Away from every demo road: no road is filled in, and the category's own department takes it.
    let off_road = phone.ok(&[
        "report",
        "--category",
        "E0102",
        "--lat",
        "41.7930",
        "--lon",
        "123.4440",
        "--photo",
        photo.to_str().unwrap(),
    ]);
    let off_road = off_road.lines().last().unwrap().to_owned();
    phone.ok(&["sync"]);
    let approve = |id: &str| api.post(&format!("/findings/{id}/review"), Some(&chief), &json!({"decision": "approve"}));
    let case = approve(&routed);
    assert_eq!(case.status, 200, "{}", case.body);
    assert_eq!(case.body["case"]["department"], "JD");
    let listed = api.get(&format!("/review?date={today}"), Some(&chief)).body["findings"].clone();
    let road_of = |id: &str| listed.as_array().unwrap().iter().find(|f| f["id"] == id).unwrap()["road"].clone();
    assert!(road_of(&off_road).is_null());
    assert_eq!(road_of(&on_patrol), "中街路", "the device filled in the road it stood on");
    assert_eq!(approve(&off_road).body["case"]["department"], "HW");

    // Each sync tells the server the device's backlog and dictionary version, for the admin's list.
    let devices = api.get("/devices", Some(&admin));
    let d = &devices.body["devices"][0];
    assert_eq!(d["backlog"], 0);
    assert_eq!(d["dictionary_version"], imported.body["version"]);

    let health = api.get("/sync-health", Some(&admin));
    assert_eq!(health.status, 200);
    assert_eq!(health.body["findings"], 3);
    assert!(health.body["storage_bytes"].as_i64().unwrap() > 0);
    assert_eq!(api.get("/sync-health", Some(&chief)).status, 403);
}

#[test]
fn every_answer_carries_a_request_id() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("server"));
    let api = server.api();
    let id = |a: &tiejiaoban::Answer| a.headers.get("x-request-id").and_then(|v| v.to_str().ok()).map(str::to_owned);
    // A new one for each request, errors included; a client's own is kept.
    let (a, b) = (api.get("/health", None), api.get("/no-such-endpoint", None));
    assert_eq!(b.status, 404);
    let (a, b) = (id(&a).expect("an id on a success"), id(&b).expect("an id on an error"));
    assert_ne!(a, b);
    assert!(uuid::Uuid::parse_str(&a).is_ok(), "{a}");
    let own = api.send(api.http.get(format!("{}/health", api.base)).header("x-request-id", "phone-42-7"));
    assert_eq!(id(&own).as_deref(), Some("phone-42-7"));
}
