//! Positions and maps: a pin placed by hand keeps the phone's own fix beside it (`gps`), shown wherever the
//! finding is; offline base maps (MBTiles) are uploaded by the admin or imported on the command line, listed
//! and downloaded (resumably) by phones.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};
use tiejiaoban::{Api, CutProxy, Device, Server, bin_dir, finding_body, fixture, sha256_hex};

fn today() -> String {
    chrono::Local::now().format("%Y-%m-%d").to_string()
}

#[test]
fn a_manual_pin_keeps_the_gps_fix_beside_it() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("server"));
    let api = server.api();
    let (device_id, token) = api.register("inspector1");
    let chief = api.sign_in("chief1");
    let photo = std::fs::read(fixture("orientation-portrait-1.jpg")).unwrap();
    let sha = sha256_hex(&photo);
    assert_eq!(api.put_blob(&token, &sha, "image/jpeg", photo).status, 201);

    let fixed_at = "2026-12-04T08:00:00+08:00";
    let gps = json!({"lat": 41.79712, "lon": 123.43301, "accuracy_m": 7.5, "fixed_at": fixed_at});
    // A reviewed category (E0102) and one filed at once (C0101, a manhole cover).
    let pinned = |id: &str, category: &str, gps: Value| {
        let mut body = finding_body(id, category, &sha, 41.7968);
        body["location"]["source"] = json!("manual");
        body["gps"] = gps;
        body
    };
    let reviewed = uuid::Uuid::new_v4().to_string();
    let filed = uuid::Uuid::new_v4().to_string();
    let plain = uuid::Uuid::new_v4().to_string();
    let bad = uuid::Uuid::new_v4().to_string();
    let first = pinned(&reviewed, "E0102", gps.clone());
    let ops = json!([
        {"seq": 1, "kind": "finding.create", "body": first},
        {"seq": 2, "kind": "finding.create", "body": pinned(&filed, "C0101", gps.clone())},
        {"seq": 3, "kind": "finding.create", "body": finding_body(&plain, "E0102", &sha, 41.80)},
        {"seq": 4, "kind": "finding.create",
         "body": pinned(&bad, "E0102", json!({"lat": 91.0, "lon": 123.4, "accuracy_m": 5.0, "fixed_at": fixed_at}))},
    ]);
    let sync = api.post("/sync", Some(&token), &json!({"device_id": device_id, "ops": ops, "cursor": null}));
    assert_eq!(sync.status, 200, "{}", sync.body);
    let status: Vec<&str> =
        sync.body["results"].as_array().unwrap().iter().map(|r| r["status"].as_str().unwrap()).collect();
    assert_eq!(status, ["applied", "applied", "applied", "rejected"]);
    let refused = &sync.body["results"][3]["error"];
    assert_eq!((refused["code"].as_str(), refused["details"]["field"].as_str()), (Some("invalid"), Some("gps.lat")));

    // The same op again is a duplicate: the fix is part of the body the device is remembered by.
    let again = api.post(
        "/sync",
        Some(&token),
        &json!({"device_id": device_id, "ops": [{"seq": 1, "kind": "finding.create", "body": first}], "cursor": null}),
    );
    assert_eq!(again.body["results"][0]["status"], "duplicate");

    let listed = api.get(&format!("/review?date={}", today()), Some(&chief));
    assert_eq!(listed.status, 200, "{}", listed.body);
    let item = |id: &str| listed.body["findings"].as_array().unwrap().iter().find(|f| f["id"] == id).cloned().unwrap();
    assert_eq!(item(&reviewed)["location"]["source"], "manual");
    assert_eq!(item(&reviewed)["gps"], gps, "the fix as sent, beside the pin");
    assert!(item(&plain)["gps"].is_null(), "null when the device sent none: {}", item(&plain));
    assert!(item(&plain).as_object().unwrap().contains_key("gps"));

    let case_no = sync.body["results"][1]["finding"]["case_no"].as_str().unwrap().to_owned();
    let case = api.get(&format!("/cases/{case_no}"), Some(&chief));
    assert_eq!(case.status, 200, "{}", case.body);
    assert_eq!(case.body["findings"][0]["gps"], gps, "a case's findings carry the fix too");
}

/// An MBTiles package of `tiles` PNG tiles at zoom 14 around Shenyang, with or without the metadata's bounds.
fn mbtiles(dir: &Path, name: &str, tiles: u32, with_bounds: bool) -> PathBuf {
    let path = dir.join(format!("{name}.mbtiles"));
    let mut metadata = vec![("name", "沈河区"), ("format", "png"), ("minzoom", "14"), ("maxzoom", "14")];
    if with_bounds {
        metadata.push(("bounds", "123.40,41.77,123.46,41.81"));
    }
    let pngs: Vec<Vec<u8>> = (0..tiles)
        .map(|i| {
            let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
            png.extend((0..4000u32).map(|b| ((b * 31 + i * 7) % 251) as u8));
            png
        })
        .collect();
    let rows = pngs.iter().zip(0u32..).map(|(png, i)| (14, 13810 + i % 8, 10000 + i / 8, png.as_slice()));
    mbtiles::write(&path, &metadata, rows).unwrap();
    path
}

fn put_basemap(api: &Api, token: &str, name: &str, query: &str, bytes: Vec<u8>) -> tiejiaoban::Answer {
    api.send(api.http.put(format!("{}/basemaps/{name}{query}", api.base)).bearer_auth(token).body(bytes))
}

/// The package files the server keeps, temporary ones included.
fn kept_files(data: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(data.join("basemaps"))
        .map(|d| d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    names.sort();
    names
}

#[test]
fn an_admin_uploads_a_base_map_and_phones_list_and_resume_its_download() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("server");
    let server = Server::start(&data);
    let api = server.api();
    let admin = api.sign_in("admin");
    let (_, phone) = api.register("inspector1");
    let package = std::fs::read(mbtiles(tmp.path(), "shenhe", 40, true)).unwrap();

    // Only an admin uploads, under a name of a-z, 0-9 and -.
    assert_eq!(put_basemap(&api, &phone, "shenhe", "", package.clone()).status, 403);
    assert_eq!(put_basemap(&api, &admin, "Shen_He", "", package.clone()).status, 422);
    assert_eq!(put_basemap(&api, &admin, "shenhe", "?datum=bd09", package.clone()).code(), "invalid");
    // What is not a readable MBTiles package is refused, and nothing of it is kept.
    let junk = put_basemap(&api, &admin, "shenhe", "", b"SQLite format 3\0 but not really".to_vec());
    assert_eq!((junk.status, junk.code()), (422, "invalid"), "{}", junk.body);
    assert!(junk.body["error"]["message"].as_str().unwrap().contains("MBTiles"), "{}", junk.body);
    assert!(kept_files(&data).is_empty(), "{:?}", kept_files(&data));
    assert_eq!(api.get("/basemaps", Some(&phone)).body["basemaps"], json!([]));

    let made = put_basemap(&api, &admin, "shenhe", "?datum=gcj02", package.clone());
    assert_eq!(made.status, 201, "{}", made.body);
    let listed = api.get("/basemaps", Some(&phone));
    assert_eq!(listed.status, 200);
    let b = &listed.body["basemaps"][0];
    assert_eq!(
        (b["name"].as_str(), b["format"].as_str(), b["datum"].as_str()),
        (Some("shenhe"), Some("mbtiles"), Some("gcj02"))
    );
    assert_eq!(b["bounds"], json!([123.40, 41.77, 123.46, 41.81]));
    assert_eq!((b["minzoom"].as_u64(), b["maxzoom"].as_u64()), (Some(14), Some(14)));
    assert_eq!(b["bytes"].as_u64(), Some(package.len() as u64));
    assert_eq!(b["sha256"].as_str(), Some(sha256_hex(&package).as_str()));
    assert!(b["updated_at"].as_str().is_some());
    assert_eq!(kept_files(&data), ["shenhe.mbtiles"]);

    // The whole file, then the rest of it from a byte on (a broken download resumed).
    let get = |range: Option<&str>| {
        let mut req = api.http.get(format!("{}/basemaps/shenhe", api.base)).bearer_auth(&phone);
        if let Some(r) = range {
            req = req.header("Range", r);
        }
        let resp = req.send().unwrap();
        (resp.status().as_u16(), resp.bytes().unwrap().to_vec())
    };
    assert_eq!(get(None), (200, package.clone()));
    let from = package.len() / 3;
    let (status, rest) = get(Some(&format!("bytes={from}-")));
    assert_eq!((status, rest.as_slice()), (206, &package[from..]));
    assert_eq!(api.get("/basemaps/elsewhere", Some(&phone)).status, 404);

    // One tile at a time, rows counted from the north (the console's map): TMS row 10000 at zoom 14 is row
    // 16383 - 10000 from the north.
    let tile = |token: &str, path: &str| {
        let resp =
            api.http.get(format!("{}/basemaps/shenhe/tiles/{path}", api.base)).bearer_auth(token).send().unwrap();
        let kind = resp.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned());
        (resp.status().as_u16(), kind, resp.bytes().unwrap().to_vec())
    };
    let conn = rusqlite::Connection::open(tmp.path().join("shenhe.mbtiles")).unwrap();
    let expected: Vec<u8> = conn
        .query_row(
            "SELECT tile_data FROM tiles WHERE zoom_level = 14 AND tile_column = 13810 AND tile_row = 10000",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(tile(&admin, "14/13810/6383.png"), (200, Some("image/png".to_owned()), expected));
    assert_eq!(tile(&admin, "14/13810/10000").0, 404, "no tile there (the row is counted from the north)");
    assert_eq!(tile(&admin, "14/abc/6383").0, 400);
    assert_eq!(api.get("/basemaps", None).status, 401);

    // Replaced: 200, the new size and hash; the old file is gone.
    let bigger = std::fs::read(mbtiles(tmp.path(), "shenhe-2", 64, false)).unwrap();
    let replaced = put_basemap(&api, &admin, "shenhe", "", bigger.clone());
    assert_eq!(replaced.status, 200, "{}", replaced.body);
    assert_eq!(replaced.body["sha256"].as_str(), Some(sha256_hex(&bigger).as_str()));
    assert_eq!(replaced.body["datum"], "wgs84");
    // Without bounds in the metadata, they are those of the tiles (columns 13810..13817 at zoom 14).
    let west = replaced.body["bounds"][0].as_f64().unwrap();
    assert!((west - (13810.0 / 16384.0 * 360.0 - 180.0)).abs() < 1e-9, "{}", replaced.body);
    assert_eq!(get(None), (200, bigger));

    let del = |token: &str| api.send(api.http.delete(format!("{}/basemaps/shenhe", api.base)).bearer_auth(token));
    assert_eq!(del(&phone).status, 403);
    assert_eq!(del(&admin).status, 204);
    assert_eq!(del(&admin).status, 404);
    assert_eq!(api.get("/basemaps/shenhe", Some(&phone)).status, 404);
    assert!(kept_files(&data).is_empty());
}

#[test]
fn the_command_line_imports_a_base_map_offline() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("server");
    let cli = |args: &[&str]| Command::new(bin_dir().join("sync-server")).args(args).output().unwrap();
    let package = mbtiles(tmp.path(), "dadong", 8, true);
    let data_s = data.to_str().unwrap();
    let out = cli(&[
        "basemap",
        "import",
        "--data",
        data_s,
        "--name",
        "dadong",
        "--datum",
        "gcj02",
        package.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("imported base map dadong"));

    // Not a package: a clear message, a non-zero exit, nothing kept.
    let junk = tmp.path().join("junk.mbtiles");
    std::fs::write(&junk, "not a database").unwrap();
    let out = cli(&["basemap", "import", "--data", data_s, "--name", "junk", junk.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("MBTiles"), "{}", String::from_utf8_lossy(&out.stderr));
    let out = cli(&["basemap", "import", "--data", data_s, "--name", "../up", package.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a base map name"));
    assert_eq!(kept_files(&data), ["dadong.mbtiles"]);

    let server = Server::start(&data);
    let api = server.api();
    let (_, phone) = api.register("inspector1");
    let listed = api.get("/basemaps", Some(&phone));
    assert_eq!(listed.body["basemaps"][0]["name"], "dadong");
    assert_eq!(listed.body["basemaps"][0]["datum"], "gcj02");
    let bytes = std::fs::read(&package).unwrap();
    assert_eq!(listed.body["basemaps"][0]["sha256"].as_str(), Some(sha256_hex(&bytes).as_str()));
}

#[test]
fn a_phone_resumes_a_cut_download_and_checks_the_package_before_using_it() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("server");
    let server = Server::start(&data);
    let api = server.api();
    let admin = api.sign_in("admin");
    let package = std::fs::read(mbtiles(tmp.path(), "shenhe", 300, true)).unwrap();
    assert!(package.len() > 1_000_000, "{}", package.len());
    assert_eq!(put_basemap(&api, &admin, "shenhe", "", package.clone()).status, 201);

    let proxy = CutProxy::start(server.port);
    let phone = Device::new(&tmp.path().join("phone"));
    phone.register(&proxy.url(), "inspector1");
    let listed = phone.ok(&["basemap", "list"]);
    assert!(listed.contains("shenhe") && listed.contains("\t-"), "{listed}");

    // The signal goes about 400 KB into the package.
    let before = proxy.received();
    proxy.cut_answer_after(400_000);
    let cut = phone.run(&["basemap", "get", "shenhe"]);
    assert!(!cut.status.success(), "the cut download fails");
    assert_eq!(proxy.cuts(), 1);
    let got_before_cut = proxy.received() - before;
    let part = tmp.path().join("phone/basemaps/shenhe.part");
    let kept = std::fs::metadata(&part).unwrap().len();
    assert!(kept > 0 && kept < package.len() as u64, "{kept}");
    assert!(!tmp.path().join("phone/basemaps/shenhe.mbtiles").exists(), "nothing half-downloaded is installed");

    // Again: it resumes where the bytes end, and sends only the rest.
    let before = proxy.received();
    let out = phone.run(&["basemap", "get", "shenhe"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains(&format!("resuming shenhe from byte {kept}")), "{stderr}");
    let resent = proxy.received() - before;
    let rest = package.len() as u64 - kept;
    assert!(
        resent < rest + 20_000,
        "only the rest came again: {resent} bytes for {rest} ({got_before_cut} before the cut)"
    );
    assert_eq!(std::fs::read(tmp.path().join("phone/basemaps/shenhe.mbtiles")).unwrap(), package);
    assert!(!part.exists());
    assert!(phone.ok(&["basemap", "list"]).contains("installed"));

    // A package replaced on the server is downloaded whole again; removal frees the phone.
    let newer = std::fs::read(mbtiles(tmp.path(), "shenhe-new", 20, true)).unwrap();
    assert_eq!(put_basemap(&api, &admin, "shenhe", "", newer.clone()).status, 200);
    assert!(phone.ok(&["basemap", "list"]).contains("installed, older"));
    phone.ok(&["basemap", "get", "shenhe"]);
    assert_eq!(std::fs::read(tmp.path().join("phone/basemaps/shenhe.mbtiles")).unwrap(), newer);
    phone.ok(&["basemap", "remove", "shenhe"]);
    assert!(!tmp.path().join("phone/basemaps/shenhe.mbtiles").exists());
}
