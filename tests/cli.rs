//! The command lines of protocol.md: clear messages and non-zero exits on bad input, never a panic.

use std::process::Command;

use serde_json::json;
use tiejiaoban::{Device, STRONG_PASSWORD, Server, bin_dir, fixture};

fn server_cli(args: &[&str]) -> std::process::Output {
    Command::new(bin_dir().join("sync-server")).args(args).output().expect("run sync-server")
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn user_add_works_on_a_fresh_data_directory_and_checks_its_input() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("fresh");
    let data_s = data.to_str().unwrap();
    let out = server_cli(&[
        "user",
        "add",
        "--data",
        data_s,
        "--username",
        "wang",
        "--password",
        STRONG_PASSWORD,
        "--role",
        "inspector",
        "--team",
        "三中队",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = server_cli(&[
        "user",
        "add",
        "--data",
        data_s,
        "--username",
        "hw",
        "--password",
        "pw",
        "--role",
        "department",
        "--department",
        "HW",
    ]);
    assert!(out.status.success(), "a department of the default dictionary: {}", stderr(&out));
    assert!(stderr(&out).contains("warning: --password"), "a weak password is taken with a warning: {}", stderr(&out));

    for (args, expect) in [
        (vec!["--username", "x", "--password", STRONG_PASSWORD, "--role", "boss"], "--role"),
        (
            vec!["--username", "y", "--password", STRONG_PASSWORD, "--role", "department", "--department", "NOPE"],
            "NOPE",
        ),
        (vec!["--username", "wang", "--password", STRONG_PASSWORD, "--role", "inspector"], "exists"),
    ] {
        let mut full = vec!["user", "add", "--data", data_s];
        full.extend(args);
        let out = server_cli(&full);
        assert!(!out.status.success());
        assert!(stderr(&out).contains(expect), "{:?}: {}", full, stderr(&out));
        assert!(!stderr(&out).contains("panicked"));
    }

    // The new user can sign in to a server on that directory.
    let server = Server::start(&data);
    let a = server.api().post("/sessions", None, &json!({"username": "wang", "password": STRONG_PASSWORD}));
    assert_eq!(a.status, 201);
    assert_eq!(a.body["user"]["team"], "三中队");
    let weak = server.api().post("/sessions", None, &json!({"username": "hw", "password": "pw"}));
    assert_eq!(weak.status, 201, "the operator's choice stands");
}

#[test]
fn dict_import_adds_a_version_devices_receive() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("server");
    let server = Server::start(&data);
    let port = server.port;
    let device = Device::new(&tmp.path().join("phone"));
    device.register(&server.url, "inspector1");
    drop(server);

    let dict = json!({"version": 1, "departments": [{"code": "HW", "name": "环卫"}], "roads": [],
        "categories": [{"code": "E0199", "name": "测试类", "name_en": "test", "branch": "event", "parent": "E01",
                        "department": "HW", "time_limit_hours": 8, "review": "chief", "urgent": false}]});
    let file = tmp.path().join("dict.json");
    std::fs::write(&file, dict.to_string()).unwrap();
    let out = server_cli(&["dict", "import", "--data", data.to_str().unwrap(), file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("version 3"), "after the default and the demo roads");

    std::fs::write(&file, "{not json").unwrap();
    let out = server_cli(&["dict", "import", "--data", data.to_str().unwrap(), file.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("not JSON"));

    let server = Server::start_with(&data, port, &[], &[]);
    device.ok(&["sync"]);
    let status: serde_json::Value = serde_json::from_str(&device.ok(&["status", "--json"])).unwrap();
    assert_eq!(status["dictionary_version"], 3);
    // A category of the new version is accepted; one only in older versions is still known to the server.
    device.report("E0199", 41.8, "orientation-portrait-1.jpg");
    device.ok(&["sync"]);
    assert_eq!(server.count("SELECT COUNT(*) FROM findings WHERE category = 'E0199'"), 1);
}

#[test]
fn every_subcommand_has_help_and_wrong_arguments_fail_clearly() {
    for args in
        [vec!["--help"], vec!["serve", "--help"], vec!["user", "add", "--help"], vec!["dict", "import", "--help"]]
    {
        assert!(server_cli(&args).status.success(), "{args:?}");
    }
    let out = server_cli(&["serve", "--listen", "not-an-address"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("cannot listen"));
    assert!(!server_cli(&["frobnicate"]).status.success());
}

#[test]
fn the_device_command_line_refuses_clearly() {
    let tmp = tempfile::tempdir().unwrap();
    let device = Device::new(&tmp.path().join("phone"));
    let photo = fixture("orientation-portrait-1.jpg");
    let report = |category: &str| {
        device.run(&[
            "report",
            "--category",
            category,
            "--lat",
            "41.8",
            "--lon",
            "123.4",
            "--photo",
            photo.to_str().unwrap(),
        ])
    };
    let out = report("E0102");
    assert!(!out.status.success());
    assert!(stderr(&out).contains("register"), "refused before register: {}", stderr(&out));

    let server = Server::start(&tmp.path().join("server"));
    device.register(&server.url, "inspector1");
    let out = report("Z9999");
    assert!(!out.status.success());
    assert!(stderr(&out).contains("Z9999"));
    let heic = fixture("iphone_13_pro_max.HEIC");
    let out = device.run(&[
        "report",
        "--category",
        "E0102",
        "--lat",
        "41.8",
        "--lon",
        "123.4",
        "--photo",
        heic.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("unsupported photo format"), "{}", stderr(&out));
    assert!(device.list().is_empty(), "nothing is queued after a refusal");

    let other = Device::new(&tmp.path().join("phone"));
    let out = other.run(&["register", "--server", &server.url, "--username", "inspector1", "--password", "wrong"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("wrong username or password"));

    // Another user may not take over while ops wait; the same user keeps the device id and the queue.
    device.report("E0102", 41.8, "orientation-portrait-1.jpg");
    let out = device.run(&["register", "--server", &server.url, "--username", "inspector2", "--password", "demo1234"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("waiting"));
    let before: serde_json::Value = serde_json::from_str(&device.ok(&["status", "--json"])).unwrap();
    device.register(&server.url, "inspector1");
    let after: serde_json::Value = serde_json::from_str(&device.ok(&["status", "--json"])).unwrap();
    assert_eq!(before["device_id"], after["device_id"]);
    assert_eq!(server.count("SELECT COUNT(*) FROM devices"), 1);
    assert_eq!(server.count("SELECT COUNT(*) FROM findings"), 1, "registering again synced the queue");
}

#[test]
fn the_server_stops_cleanly_on_sigterm() {
    let tmp = tempfile::tempdir().unwrap();
    let mut server = Server::start(&tmp.path().join("server"));
    assert_eq!(server.api().get("/health", None).status, 200);
    assert!(server.terminate().success());
}

#[test]
fn review_lists_the_day_by_role() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("server"));
    let one = Device::new(&tmp.path().join("p1"));
    let two = Device::new(&tmp.path().join("p3"));
    one.register(&server.url, "inspector1");
    two.register(&server.url, "inspector3");
    let a = one.report("E0102", 41.80, "orientation-landscape-1.jpg");
    let b = two.report("E0501", 41.81, "orientation-landscape-3.jpg");
    one.ok(&["sync"]);
    two.ok(&["sync"]);

    let api = server.api();
    let today = chrono::Local::now().format("%Y-%m-%d").to_string();
    let ids = |user: &str| -> Vec<String> {
        let token = api.sign_in(user);
        let r = api.get(&format!("/review?date={today}"), Some(&token));
        assert_eq!(r.status, 200, "{}", r.body);
        r.body["findings"].as_array().unwrap().iter().map(|f| f["id"].as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(ids("chief1"), vec![a.clone()], "a chief sees the own team only");
    assert_eq!(ids("chief2"), vec![b.clone()]);
    let mut all = ids("dispatcher1");
    all.sort();
    let mut expected = vec![a.clone(), b];
    expected.sort();
    assert_eq!(all, expected);

    let token = api.sign_in("chief1");
    let item = &api.get(&format!("/review?date={today}"), Some(&token)).body["findings"][0];
    assert_eq!(item["reporter"], "inspector1");
    assert_eq!(item["state"], "pending_review");
    assert_eq!(item["photos"].as_array().unwrap().len(), 1);
    assert!(item["location"]["lat"].is_number());
    let tomorrow = (chrono::Local::now() + chrono::Duration::days(1)).format("%Y-%m-%d").to_string();
    assert_eq!(api.get(&format!("/review?date={tomorrow}"), Some(&token)).body["findings"], json!([]));
    let paged = api.get(&format!("/review?date={today}&limit=1&offset=1"), Some(&api.sign_in("admin")));
    assert_eq!(paged.body["findings"].as_array().unwrap().len(), 1);
}
