//! Exports through the real server: findings and cases of a period as CSV, XLSX and GeoJSON, with the photos
//! as a ZIP on request, made in the background and downloaded when done; each caller gets what they may see;
//! bad requests name their field.

use std::io::Read;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tiejiaoban::{Api, Device, Server, sha256_hex};

/// Asks for an export and waits (polling) until it is done; the file's bytes.
fn export(api: &Api, server: &Server, token: &str, body: Value) -> (Value, Vec<u8>) {
    let begun = api.post("/exports", Some(token), &body);
    assert_eq!(begun.status, 202, "{}", begun.body);
    let id = begun.body["id"].as_str().unwrap().to_owned();
    let start = Instant::now();
    let job = loop {
        let job = api.get(&format!("/exports/{id}"), Some(token)).body;
        if job["state"] != "running" {
            break job;
        }
        assert!(start.elapsed() < Duration::from_secs(60), "export still running: {job}");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(job["state"], "done", "{job}");
    let file = reqwest::blocking::Client::new()
        .get(format!("{}/api/v1/exports/{id}/file", server.url))
        .bearer_auth(token)
        .send()
        .unwrap();
    assert_eq!(file.status().as_u16(), 200);
    let disposition = file.headers()["content-disposition"].to_str().unwrap().to_owned();
    assert!(disposition.contains(job["file_name"].as_str().unwrap()), "{disposition}");
    (job, file.bytes().unwrap().to_vec())
}

fn unzip(bytes: &[u8]) -> zip::ZipArchive<std::io::Cursor<Vec<u8>>> {
    zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).expect("a ZIP file")
}

fn entry(archive: &mut zip::ZipArchive<std::io::Cursor<Vec<u8>>>, name: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let names: Vec<String> = archive.file_names().map(str::to_owned).collect();
    archive
        .by_name(name)
        .unwrap_or_else(|e| panic!("{name} in the archive ({e}): {names:?}"))
        .read_to_end(&mut out)
        .unwrap();
    out
}

#[test]
fn findings_and_cases_export_as_csv_xlsx_and_geojson_with_their_photos() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("server"));
    let api = server.api();
    let phone = Device::new(&tmp.path().join("phone"));
    phone.register(&server.url, "inspector1");
    let auto = phone.report("C0101", 41.7968, "orientation-landscape-1.jpg");
    let reviewed = phone.report("C0301", 41.7970, "orientation-landscape-3.jpg");
    phone.ok(&["sync"]);
    let chief = api.sign_in("chief1");
    let other_chief = api.sign_in("chief2");
    let dispatcher = api.sign_in("dispatcher1");
    let day = chrono::Local::now().format("%Y-%m-%d").to_string();
    let ask = |kind: &str, format: &str| json!({"kind": kind, "format": format, "from": day, "to": day});

    // CSV of the chief's team's findings: a header, a line each, text a spreadsheet would run kept as text.
    let (job, csv) = export(&api, &server, &chief, ask("findings", "csv"));
    assert_eq!((job["rows"].as_u64(), job["total"].as_u64()), (Some(2), Some(2)));
    let text = String::from_utf8(csv).unwrap();
    let text = text.trim_start_matches('\u{feff}');
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    assert!(header.starts_with("id,observed_at,category,category_name,description,state"), "{header}");
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().any(|r| r.starts_with(&auto) && r.contains("上水井盖")), "{rows:?}");
    assert!(rows.iter().any(|r| r.starts_with(&reviewed)), "{rows:?}");
    // Another team's chief sees none of them.
    let (job, _) = export(&api, &server, &other_chief, ask("findings", "csv"));
    assert_eq!(job["rows"], 0);

    // GeoJSON of the cases: points at [lon, lat], every column a property.
    let (_, geojson) = export(&api, &server, &dispatcher, ask("cases", "geojson"));
    let geojson: Value = serde_json::from_slice(&geojson).unwrap();
    assert_eq!(geojson["type"], "FeatureCollection");
    let features = geojson["features"].as_array().unwrap();
    assert_eq!(features.len(), 1, "one case: the automatic category's");
    let case = &features[0];
    assert_eq!(case["geometry"]["type"], "Point");
    assert!((case["geometry"]["coordinates"][1].as_f64().unwrap() - 41.7968).abs() < 1e-9);
    assert_eq!(
        (case["properties"]["category"].as_str(), case["properties"]["department"].as_str()),
        (Some("C0101"), Some("SW"))
    );

    // XLSX: a workbook whose sheet has the header and a row a finding.
    let (_, xlsx) = export(&api, &server, &dispatcher, ask("findings", "xlsx"));
    let mut book = unzip(&xlsx);
    let sheet = String::from_utf8(entry(&mut book, "xl/worksheets/sheet1.xml")).unwrap();
    assert_eq!(sheet.matches("<row ").count(), 3, "{sheet}");
    assert!(sheet.contains("上水井盖"), "{sheet}");

    // With photos: a ZIP of the file and every photo, byte for byte.
    let mut with_photos = ask("findings", "csv");
    with_photos["photos"] = json!(true);
    let (job, zipped) = export(&api, &server, &dispatcher, with_photos);
    assert!(job["file_name"].as_str().unwrap().ends_with(".zip"));
    assert_eq!(job["photos"], 2);
    let mut archive = unzip(&zipped);
    let inner = format!("findings-{day}-{day}.csv");
    assert!(String::from_utf8(entry(&mut archive, &inner)).unwrap().contains(&auto));
    let names: Vec<String> = archive.file_names().filter(|n| n.starts_with("photos/")).map(str::to_owned).collect();
    assert_eq!(names.len(), 2, "{names:?}");
    for name in names {
        let sha = name.trim_start_matches("photos/").trim_end_matches(".jpg").to_owned();
        assert_eq!(sha256_hex(&entry(&mut archive, &name)), sha, "a photo is its own hash");
    }

    // Filters and refusals.
    let mut only = ask("findings", "csv");
    only["category"] = json!("C0301");
    assert_eq!(export(&api, &server, &dispatcher, only).0["rows"], 1);
    let bad = |body: Value, field: &str| {
        let a = api.post("/exports", Some(&dispatcher), &body);
        assert_eq!((a.status, a.body["error"]["details"]["field"].as_str()), (422, Some(field)), "{}", a.body);
    };
    let mut wrong = ask("cases", "csv");
    wrong["to"] = json!("2000-01-01");
    bad(wrong, "to");
    let mut wrong = ask("cases", "csv");
    wrong["category"] = json!("Z9999");
    bad(wrong, "category");
    let mut wrong = ask("findings", "csv");
    wrong["state"] = json!("dispatched");
    bad(wrong, "state");
    let department = api.sign_in("dept-hw");
    assert_eq!(api.post("/exports", Some(&department), &ask("findings", "csv")).status, 403);
    // Only who asked (and the admin) sees a job.
    let listed = api.get("/exports", Some(&chief)).body;
    let id = listed["exports"][0]["id"].as_str().unwrap();
    assert_eq!(api.get(&format!("/exports/{id}"), Some(&dispatcher)).status, 404);
    assert_eq!(api.get(&format!("/exports/{id}"), Some(&api.sign_in("admin"))).status, 200);
}
