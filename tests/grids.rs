//! Unit grids (单元网格): imported from GeoJSON by the admin (`PUT /grids`) or on the command line, they place
//! every finding and case on the server, and every report on the phone before it is sent, by the same rule.
//! A refused file changes nothing.

use std::process::Command;

use serde_json::{Value, json};
use tiejiaoban::{Api, Device, Server, bin_dir, finding_body, fixture, sha256_hex};

fn today() -> String {
    chrono::Local::now().format("%Y-%m-%d").to_string()
}

/// A grid feature: a rectangle from (lon0, lat0) to (lon1, lat1), GeoJSON order.
fn grid(code: &str, inspectors: &[&str], [lon0, lat0, lon1, lat1]: [f64; 4]) -> Value {
    json!({
        "type": "Feature",
        "properties": {"code": code, "name": format!("{code} 网格"), "team": "一中队", "inspectors": inspectors},
        "geometry": {"type": "Polygon", "coordinates": [[[lon0, lat0], [lon1, lat0], [lon1, lat1], [lon0, lat1], [lon0, lat0]]]}
    })
}

fn collection(features: Vec<Value>) -> Value {
    json!({"type": "FeatureCollection", "features": features})
}

/// West and east of 123.430 across the demo district; the test findings lie at 123.4328, in the east one.
fn two_grids() -> Value {
    collection(vec![
        grid("210103101", &["inspector1"], [123.420, 41.785, 123.430, 41.805]),
        grid("210103102", &["inspector1", "inspector2"], [123.430, 41.785, 123.440, 41.805]),
    ])
}

fn put_grids(api: &Api, token: &str, body: &Value) -> tiejiaoban::Answer {
    api.send(api.http.put(format!("{}/grids", api.base)).bearer_auth(token).body(body.to_string()))
}

fn review_grid(api: &Api, chief: &str, id: &str) -> Value {
    let listed = api.get(&format!("/review?date={}", today()), Some(chief));
    assert_eq!(listed.status, 200, "{}", listed.body);
    listed.body["findings"].as_array().unwrap().iter().find(|f| f["id"] == id).expect("finding in review")["grid"]
        .clone()
}

#[test]
fn grids_place_every_finding_and_case_on_the_server_and_the_phone() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("server"));
    let api = server.api();
    let admin = api.sign_in("admin");
    let chief = api.sign_in("chief1");
    let (device_id, token) = api.register("inspector1");
    let photo = std::fs::read(fixture("orientation-portrait-1.jpg")).unwrap();
    let sha = sha256_hex(&photo);
    assert_eq!(api.put_blob(&token, &sha, "image/jpeg", photo).status, 201);
    let sync = |ops: Value| {
        let answer = api.post("/sync", Some(&token), &json!({"device_id": device_id, "ops": ops, "cursor": null}));
        assert_eq!(answer.status, 200, "{}", answer.body);
        answer
    };

    // Without grids in the dictionary (the demo's taken out), a finding keeps the grid the device sent.
    let mut plain = api.get("/dictionary", Some(&admin)).body;
    assert_eq!(plain["grids"].as_array().map(Vec::len), Some(4), "the demo district's grids");
    assert_eq!(
        (plain["roads"][0]["name"].as_str(), plain["roads"][0]["chief"].as_str()),
        (Some("中街路"), Some("chief1"))
    );
    assert_eq!(plain["roads"][0]["grid"], "210103002", "the grid holding the road's middle");
    plain["grids"] = json!([]);
    assert_eq!(api.post("/dictionary", Some(&admin), &plain).status, 200);
    let early = uuid::Uuid::new_v4().to_string();
    let mut body = finding_body(&early, "E0102", &sha, 41.7968);
    body["grid"] = json!("老网格");
    sync(json!([{"seq": 1, "kind": "finding.create", "body": body}]));
    assert_eq!(review_grid(&api, &chief, &early), "老网格");

    let imported = put_grids(&api, &admin, &two_grids());
    assert_eq!(imported.status, 200, "{}", imported.body);
    assert_eq!(imported.body["grids"], 2);
    assert_eq!(imported.body["overlaps"], json!([]));
    let version = imported.body["version"].as_i64().unwrap();
    let dictionary = api.get("/dictionary", Some(&chief)).body;
    assert_eq!(dictionary["version"], version);
    assert_eq!(dictionary["grids"][1]["code"], "210103102");
    assert_eq!(dictionary["grids"][1]["inspectors"], json!(["inspector1", "inspector2"]));
    assert_eq!(dictionary["grids"][1]["polygon"][0][1], json!([41.785, 123.44]), "[lat, lon] as roads have it");
    // The finding stored before is placed again by the grids.
    assert_eq!(review_grid(&api, &chief, &early), "210103102");

    // What the device says is replaced by the server's answer; outside every grid, null.
    let filed = uuid::Uuid::new_v4().to_string();
    let outside = uuid::Uuid::new_v4().to_string();
    let mut body = finding_body(&filed, "C0101", &sha, 41.7968);
    body["grid"] = json!("wrong");
    let answer = sync(json!([
        {"seq": 2, "kind": "finding.create", "body": body},
        {"seq": 3, "kind": "finding.create", "body": finding_body(&outside, "E0102", &sha, 41.90)},
    ]));
    assert_eq!(review_grid(&api, &chief, &filed), "210103102");
    assert_eq!(review_grid(&api, &chief, &outside), Value::Null);
    let case_no = answer.body["results"][0]["finding"]["case_no"].as_str().expect("filed at once").to_owned();
    let case = api.get(&format!("/cases/{case_no}"), Some(&chief));
    assert_eq!(case.body["grid"], "210103102", "{}", case.body);
    assert_eq!(case.body["findings"][0]["grid"], "210103102");
    // The reporter's phone hears the grid with the finding's state.
    let changes = answer.body["changes"].as_array().unwrap();
    let updated = changes
        .iter()
        .find(|c| c["kind"] == "finding.updated" && c["finding_id"] == filed.as_str())
        .unwrap_or_else(|| panic!("no finding.updated for the filed finding: {changes:?}"));
    assert_eq!(updated["grid"], "210103102");

    // The phone places a report offline, from the dictionary it holds, as the server will.
    let phone = Device::new(&tmp.path().join("phone"));
    phone.register(&server.url, "inspector2");
    phone.ok(&["sync"]);
    let id = phone.report("E0102", 41.7968, "orientation-portrait-1.jpg");
    let local = |id: &str| phone.list().into_iter().find(|f| f["id"] == id).expect("finding on the phone");
    assert_eq!(local(&id)["grid"], "210103102", "before any sync");
    phone.ok(&["sync"]);
    assert_eq!(review_grid(&api, &chief, &id), "210103102");
    assert_eq!(local(&id)["grid"], "210103102", "after the server's answer");

    // The indicators by grid and by road: three reports in the east grid (the early one placed again), one
    // outside every grid; the phone's report named the demo road it was made on.
    let stats = |group_by: &str| {
        let answer = api.get(&format!("/stats?from={0}&to={0}&group_by={group_by}", today()), Some(&chief));
        assert_eq!(answer.status, 200, "{}", answer.body);
        answer.body["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (r["key"].as_str().unwrap().to_owned(), r["reported"].as_u64().unwrap()))
            .collect::<Vec<_>>()
    };
    assert_eq!(stats("grid"), [("-".to_owned(), 1), ("210103102".to_owned(), 3)]);
    assert!(stats("road").contains(&("中街路".to_owned(), 1)), "{:?}", stats("road"));

    // Where problems cluster: the positions for the heat map, filtered.
    let heat = |query: &str, token: &str| api.get(&format!("/heatmap?from={0}&to={0}&{query}", today()), Some(token));
    let all = heat("kind=findings", &chief);
    assert_eq!(all.status, 200, "{}", all.body);
    assert_eq!(all.body["points"].as_array().unwrap().len(), 4);
    let manholes = heat("kind=findings&category=C0101", &chief).body;
    assert_eq!(manholes["points"].as_array().unwrap().len(), 1);
    assert_eq!(manholes["points"][0]["grid"], "210103102");
    assert_eq!(heat("kind=cases", &chief).body["points"].as_array().unwrap().len(), 1);
    assert_eq!(
        heat("kind=findings", &api.sign_in("chief2")).body["points"].as_array().unwrap().len(),
        0,
        "another team's"
    );
    assert_eq!(heat("kind=findings", &token).status, 403);
    assert_eq!(heat("kind=tasks", &chief).status, 422);
}

#[test]
fn a_refused_grid_file_changes_nothing_and_names_the_feature() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("server"));
    let api = server.api();
    let admin = api.sign_in("admin");
    let version = || api.get("/dictionary", Some(&admin)).body["version"].clone();
    let before = version();

    // A bow tie: the second feature's ring crosses itself.
    let mut bow = grid("210103102", &[], [123.430, 41.785, 123.440, 41.805]);
    bow["geometry"]["coordinates"] =
        json!([[[123.430, 41.785], [123.440, 41.805], [123.440, 41.785], [123.430, 41.805], [123.430, 41.785]]]);
    let answer =
        put_grids(&api, &admin, &collection(vec![grid("210103101", &[], [123.420, 41.785, 123.430, 41.805]), bow]));
    assert_eq!(answer.status, 422, "{}", answer.body);
    assert_eq!(answer.body["error"]["details"]["feature"], 1);
    assert_eq!(answer.body["error"]["details"]["code"], "210103102");
    assert!(answer.body["error"]["message"].as_str().unwrap().contains("self-intersection"), "{}", answer.body);

    let answer =
        put_grids(&api, &admin, &collection(vec![grid("210103101", &["nobody"], [123.42, 41.785, 123.43, 41.805])]));
    assert_eq!(answer.status, 422, "{}", answer.body);
    assert_eq!(answer.body["error"]["details"]["feature"], 0);
    assert!(answer.body["error"]["message"].as_str().unwrap().contains("nobody"));

    let swapped = json!({"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"code": "S"},
        "geometry": {"type": "Polygon", "coordinates": [[[41.785, 123.42], [41.785, 123.43], [41.805, 123.43], [41.785, 123.42]]]}}]});
    let answer = put_grids(&api, &admin, &swapped);
    assert_eq!(answer.status, 422);
    assert!(answer.body["error"]["message"].as_str().unwrap().contains("[lat, lon]"), "{}", answer.body);

    let answer = api.send(api.http.put(format!("{}/grids", api.base)).bearer_auth(&admin).body("{\"type\": "));
    assert_eq!(answer.status, 422);
    assert!(answer.body["error"]["message"].as_str().unwrap().starts_with("not GeoJSON"), "{}", answer.body);

    assert_eq!(put_grids(&api, &api.sign_in("chief1"), &two_grids()).status, 403);
    // The console's preview: checked, nothing stored.
    let checked = api.send(
        api.http.put(format!("{}/grids?dry_run=true", api.base)).bearer_auth(&admin).body(two_grids().to_string()),
    );
    assert_eq!(checked.status, 200, "{}", checked.body);
    assert_eq!((checked.body["dry_run"].as_bool(), checked.body["grids"].as_u64()), (Some(true), Some(2)));
    assert_eq!(checked.body["version"].as_i64(), before.as_i64().map(|v| v + 1), "the version an import would make");
    assert_eq!(version(), before, "nothing of a refused file is kept, nor of a check");

    // Overlapping grids are kept, with a warning that says by how much.
    let overlapping = collection(vec![
        grid("A", &[], [123.420, 41.785, 123.431, 41.805]),
        grid("B", &[], [123.430, 41.785, 123.440, 41.805]),
    ]);
    let answer = put_grids(&api, &admin, &overlapping);
    assert_eq!(answer.status, 200, "{}", answer.body);
    let overlap = &answer.body["overlaps"][0];
    assert_eq!((overlap["a"].as_str(), overlap["b"].as_str()), (Some("A"), Some("B")));
    // 0.001° of longitude (83 m) along 0.02° of latitude (2.2 km).
    let area = overlap["area_m2"].as_f64().unwrap();
    assert!((150_000.0..220_000.0).contains(&area), "{area}");
}

#[test]
fn the_command_line_imports_grids_offline() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("server");
    let data_s = data.to_str().unwrap();
    let cli = |args: &[&str]| Command::new(bin_dir().join("sync-server")).args(args).output().unwrap();
    let write = |name: &str, text: &str| {
        let path = tmp.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_owned()
    };
    let no_owners = collection(vec![
        json!({"type": "Feature", "properties": {"code": "210103101"},
            "geometry": {"type": "Polygon", "coordinates": [[[123.42, 41.785], [123.43, 41.785], [123.43, 41.805], [123.42, 41.805], [123.42, 41.785]]]}}),
        json!({"type": "Feature", "properties": {"name": "无编码"},
            "geometry": {"type": "Polygon", "coordinates": [[[123.43, 41.785], [123.44, 41.785], [123.44, 41.805], [123.43, 41.805], [123.43, 41.785]]]}}),
    ]);
    let out = cli(&["grid", "import", "--data", data_s, &write("broken.geojson", &no_owners.to_string())]);
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("features[1]") && said.contains("no `code`"), "{said}");

    // A file far larger than a city's grids is refused before it is read.
    let huge = tmp.path().join("huge.geojson");
    std::fs::File::create(&huge).unwrap().set_len(40 * 1024 * 1024).unwrap();
    let out = cli(&["grid", "import", "--data", data_s, huge.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("at most 32 MB"), "{}", String::from_utf8_lossy(&out.stderr));

    let mut good = no_owners.clone();
    good["features"][1]["properties"]["code"] = json!("210103102");
    let out = cli(&["grid", "import", "--data", data_s, &write("good.geojson", &good.to_string())]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("imported 2 grids"));

    let server = Server::start(&data);
    let api = server.api();
    let dictionary = api.get("/dictionary", Some(&api.sign_in("admin"))).body;
    let codes: Vec<&str> =
        dictionary["grids"].as_array().unwrap().iter().map(|g| g["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["210103101", "210103102"]);
    assert_eq!(dictionary["grids"][1]["name"], "无编码");
}

/// A deterministic number in [0, 1) for (a, b, salt): the test's positions and jitter, the same every run.
fn unit(a: u64, b: u64, salt: u64) -> f64 {
    let mut x = a.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ b.wrapping_mul(0xC2B2_AE3D_27D4_EB4F) ^ salt;
    x ^= x >> 31;
    x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^= x >> 29;
    (x >> 11) as f64 / (1u64 << 53) as f64
}

#[test]
fn the_phone_and_the_server_place_a_thousand_positions_alike() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("server"));
    let api = server.api();
    let admin = api.sign_in("admin");

    // 12 × 12 irregular grids that tile the district: a mesh of jittered vertices (by up to a fifth of a cell).
    let (lat0, lon0, d, n) = (41.785, 123.420, 0.0015, 12u64);
    let vertex = |i: u64, j: u64| -> [f64; 2] {
        let edge = |k: u64| k == 0 || k == n;
        let jl = if edge(i) { 0.0 } else { (unit(i, j, 1) - 0.5) * 0.4 * d };
        let jo = if edge(j) { 0.0 } else { (unit(i, j, 2) - 0.5) * 0.4 * d };
        [lon0 + j as f64 * d + jo, lat0 + i as f64 * d + jl]
    };
    let features: Vec<Value> = (0..n)
        .flat_map(|i| (0..n).map(move |j| (i, j)))
        .map(|(i, j)| {
            let ring = [vertex(i, j), vertex(i, j + 1), vertex(i + 1, j + 1), vertex(i + 1, j), vertex(i, j)];
            json!({"type": "Feature", "properties": {"code": format!("M{i:02}{j:02}")},
                   "geometry": {"type": "Polygon", "coordinates": [ring]}})
        })
        .collect();
    let put = put_grids(&api, &admin, &collection(features));
    assert_eq!(put.status, 200, "{}", put.body);
    assert_eq!(put.body["overlaps"], json!([]), "a tiling has no overlaps");

    // The phone takes the dictionary with its next sync and places positions offline.
    let phone = Device::new(&tmp.path().join("phone"));
    phone.register(&server.url, "inspector1");
    phone.ok(&["sync"]);
    let span = n as f64 * d;
    let points: Vec<(f64, f64)> = (0..1000)
        .map(|k| (lat0 - 0.1 * span + unit(k, 0, 3) * 1.2 * span, lon0 - 0.1 * span + unit(k, 0, 4) * 1.2 * span))
        .collect();
    let list = tmp.path().join("points.txt");
    std::fs::write(&list, points.iter().map(|(lat, lon)| format!("{lat},{lon}\n")).collect::<String>()).unwrap();
    let on_phone: Vec<Value> = phone
        .ok(&["place", "--from", list.to_str().unwrap()])
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(on_phone.len(), 1000);
    let refused = phone.run(&["place", "--at", "123.43,41.79"]);
    assert_eq!(refused.status.code(), Some(2), "a latitude beyond 90° is no position");
    assert!(String::from_utf8_lossy(&refused.stderr).contains("not a position"));

    // The server places the same positions, sent as findings.
    let (device_id, token) = api.register("inspector2");
    let photo = std::fs::read(fixture("orientation-portrait-1.jpg")).unwrap();
    let sha = sha256_hex(&photo);
    assert_eq!(api.put_blob(&token, &sha, "image/jpeg", photo).status, 201);
    let ids: Vec<String> = (0..1000).map(|_| uuid::Uuid::now_v7().to_string()).collect();
    for chunk in (0..1000).collect::<Vec<usize>>().chunks(100) {
        let ops: Vec<Value> = chunk
            .iter()
            .map(|&k| {
                let mut body = finding_body(&ids[k], "E0102", &sha, points[k].0);
                body["location"]["lon"] = json!(points[k].1);
                json!({"seq": k + 1, "kind": "finding.create", "body": body})
            })
            .collect();
        let answer = api.post("/sync", Some(&token), &json!({"device_id": device_id, "ops": ops, "cursor": null}));
        assert_eq!(answer.status, 200, "{}", answer.body);
    }
    let listed = api.get(&format!("/review?date={}", today()), Some(&admin));
    let on_server: std::collections::HashMap<String, Value> = listed.body["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["id"].as_str().unwrap().to_owned(), f["grid"].clone()))
        .collect();
    let mut inside = 0;
    for k in 0..1000 {
        let server_grid = &on_server[&ids[k]];
        assert_eq!(&on_phone[k]["grid"], server_grid, "position {:?}", points[k]);
        inside += usize::from(server_grid.is_string());
    }
    // Most positions fall in a grid, some outside the district.
    assert!((600..1000).contains(&inside), "{inside} of 1000 inside");
}
