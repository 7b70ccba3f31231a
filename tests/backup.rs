//! Backup and restore of a data directory: a backup taken while the server runs and phones have synced,
//! restored into an empty directory, serves the same cases, findings and photos, and the same phone goes on
//! syncing with its token, nothing doubled; a backup whose photo was altered is refused on restore, naming the
//! photo; neither command writes into a directory that is not empty. On PostgreSQL (`TJB_TEST_BACKEND=postgres`)
//! the same story: the database dumped beside the data directory's files, restored into an empty database.

use std::process::{Command, Output};

use serde_json::Value;
use tiejiaoban::{Api, Device, PgDatabase, Server, bin_dir, postgres_database};

fn sync_server(args: &[&str]) -> Output {
    Command::new(bin_dir().join("sync-server")).args(args).output().expect("run sync-server")
}

/// `--database URL` of the server's store, when it is on PostgreSQL.
fn database_of(server: &Server) -> Vec<String> {
    server.pg.as_ref().map(|db| vec!["--database".to_owned(), db.url.clone()]).unwrap_or_default()
}

/// A new, empty database to restore into, when the backup is of a PostgreSQL store.
fn empty_database(server_was_on_postgres: bool) -> (Option<PgDatabase>, Vec<String>) {
    if !server_was_on_postgres {
        return (None, Vec::new());
    }
    let db = postgres_database().expect("a PostgreSQL server");
    let args = vec!["--database".to_owned(), db.url.clone()];
    (Some(db), args)
}

fn with<'a>(args: &[&'a str], more: &'a [String]) -> Vec<&'a str> {
    args.iter().copied().chain(more.iter().map(String::as_str)).collect()
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// What a client sees of the server: the day's findings, the cases, and every photo's bytes by hash.
struct Seen(Vec<Value>, Vec<Value>, Vec<(String, Vec<u8>)>);

fn seen(api: &Api) -> Seen {
    let token = api.sign_in("dispatcher1");
    let day = chrono::Local::now().format("%Y-%m-%d");
    let mut findings =
        api.get(&format!("/review?date={day}"), Some(&token)).body["findings"].as_array().unwrap().clone();
    findings.sort_by_key(|f| f["id"].as_str().unwrap().to_owned());
    let cases = api.get("/cases", Some(&token)).body["cases"].as_array().unwrap().clone();
    let mut photos: Vec<(String, Vec<u8>)> = findings
        .iter()
        .flat_map(|f| f["photos"].as_array().unwrap().iter().map(|p| p["sha256"].as_str().unwrap().to_owned()))
        .map(|sha| {
            let (status, bytes) = api.get_blob(&token, &sha);
            assert_eq!(status, 200, "{sha}");
            (sha, bytes)
        })
        .collect();
    photos.sort();
    Seen(findings, cases, photos)
}

#[test]
fn a_backup_taken_while_serving_restores_into_a_server_the_phones_go_on_with() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let mut server = Server::start(&data);
    let port = server.port;
    let phone = Device::new(&tmp.path().join("phone"));
    phone.register(&server.url, "inspector1");
    phone.report("C0101", 41.7968, "orientation-landscape-1.jpg");
    phone.report("C0301", 41.7970, "orientation-landscape-3.jpg");
    phone.ok(&["sync"]);
    let api = server.api();
    let dispatcher = api.sign_in("dispatcher1");
    let case_no = api.get("/cases", Some(&dispatcher)).body["cases"][0]["case_no"].as_str().unwrap().to_owned();
    let supervised = api.post(
        &format!("/cases/{case_no}/actions"),
        Some(&dispatcher),
        &serde_json::json!({"action": "supervise", "note": "请今日处理"}),
    );
    assert_eq!(supervised.status, 200, "{}", supervised.body);
    let before = seen(&api);
    assert_eq!((before.0.len(), before.1.len(), before.2.len()), (2, 1, 2));

    // Backed up while the server runs.
    let backup = tmp.path().join("backup");
    let store = database_of(&server);
    let on_postgres = !store.is_empty();
    let out =
        sync_server(&with(&["backup", "--data", data.to_str().unwrap(), "--to", backup.to_str().unwrap()], &store));
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("2 findings, 1 cases, 2 photos checked"), "{}", text(&out));
    let manifest: Value = serde_json::from_slice(&std::fs::read(backup.join("backup.json")).unwrap()).unwrap();
    assert_eq!(manifest["inventory"]["findings"], 2);
    // Never into a directory that holds something.
    let again =
        sync_server(&with(&["backup", "--data", data.to_str().unwrap(), "--to", backup.to_str().unwrap()], &store));
    assert!(!again.status.success() && text(&again).contains("not empty"), "{}", text(&again));

    // The machine is lost; the backup is restored into a new directory and served on the same address.
    assert!(server.terminate().success());
    let restored = tmp.path().join("restored");
    let (_new_db, into) = empty_database(on_postgres);
    let out = sync_server(&with(
        &["restore", "--from", backup.to_str().unwrap(), "--data", restored.to_str().unwrap()],
        &into,
    ));
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("as the backup holds"), "{}", text(&out));
    let into_full = sync_server(&with(
        &["restore", "--from", backup.to_str().unwrap(), "--data", restored.to_str().unwrap()],
        &into,
    ));
    assert!(!into_full.status.success() && text(&into_full).contains("not empty"), "{}", text(&into_full));
    let into: Vec<&str> = into.iter().map(String::as_str).collect();
    let server = Server::start_with(&restored, port, &into, &[]);
    let api = server.api();
    let after = seen(&api);
    assert_eq!(after.0, before.0, "the same findings");
    assert_eq!(after.2, before.2, "the same photos, byte for byte");
    let case_after = api.get(&format!("/cases/{case_no}"), Some(&api.sign_in("dispatcher1"))).body;
    assert_eq!(case_after["supervisions"], 1);
    // The phone goes on with its token: what it sent before is not sent again, a new report is taken once.
    phone.report("C0301", 41.7972, "orientation-landscape-6.jpg");
    phone.ok(&["sync"]);
    phone.ok(&["sync"]);
    assert_eq!(seen(&api).0.len(), 3);
    let list = phone.list();
    assert!(list.iter().all(|f| f["local_state"] == "received"), "{list:?}");

    // A backup whose photo was altered is refused on restore, naming the photo.
    let pack = std::fs::read_dir(backup.join("blobs").join("packs")).unwrap().next().unwrap().unwrap().path();
    let mut bytes = std::fs::read(&pack).unwrap();
    let sha = &before.2[0].0;
    let at =
        bytes.windows(before.2[0].1.len()).position(|w| w == before.2[0].1.as_slice()).expect("the photo in its pack");
    bytes[at + 100] ^= 0xFF;
    std::fs::write(&pack, bytes).unwrap();
    let damaged = tmp.path().join("damaged");
    let (_damaged_db, into) = empty_database(on_postgres);
    let out = sync_server(&with(
        &["restore", "--from", backup.to_str().unwrap(), "--data", damaged.to_str().unwrap()],
        &into,
    ));
    assert!(!out.status.success(), "{}", text(&out));
    assert!(text(&out).contains(&format!("photo {sha} does not match its hash")), "{}", text(&out));
    // Nothing half restored is left: the directory is as empty as before, and no staging copy remains beside it.
    assert_eq!(std::fs::read_dir(&damaged).unwrap().count(), 0);
    let beside: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert!(!beside.iter().any(|n| n.to_string_lossy().contains("restoring")), "{beside:?}");
}
