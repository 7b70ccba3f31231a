//! Faults at counts. Each fault is injected at seeded random moments, so that a failing trial can be run
//! again with its seed. CI runs a few trials of each; `scripts/faults.sh` runs the long counts and writes
//! the figures that RELIABILITY.md holds.
//!
//! - `FAULT_SEED` (default 2026): the seed of every random choice.
//! - `FAULT_TRIALS_SERVER_KILL`, `FAULT_TRIALS_CUT`, `FAULT_TRIALS_DEVICE_KILL`: trials of each fault.
//! - `FAULT_REPORT`: a file each test appends one JSON line to (fault, trials, checks, figures).
//!
//! After every trial the tests check, not assume: every finding a device holds is on the server exactly
//! once, every photo there is byte-identical to the phone's, every op answered before the fault is still
//! there, each finding of a category filed at once has one case, and the server's store passes SQLite's
//! integrity check.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};
use tiejiaoban::{Api, CutProxy, Device, Server, bin_dir, fixture};

/// The largest piece of a photo the device sends in one request.
const CHUNK: u64 = 256 * 1024;

fn seed() -> u64 {
    std::env::var("FAULT_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(2026)
}

fn trials(var: &str, in_ci: usize) -> usize {
    std::env::var(var).ok().and_then(|s| s.parse().ok()).unwrap_or(in_ci)
}

/// Appends the test's figures to `FAULT_REPORT`, when set.
fn record(line: Value) {
    if let Ok(path) = std::env::var("FAULT_REPORT") {
        use std::io::Write;
        let mut file = std::fs::OpenOptions::new().create(true).append(true).open(path).expect("fault report");
        writeln!(file, "{line}").expect("write fault report");
    }
}

/// A category filed as a case at once, and one a chief reviews first.
const AUTO: &str = "C0101";
const REVIEWED: &str = "E0102";

/// The findings a device holds: id → local state.
fn held(device: &Device) -> BTreeMap<String, String> {
    device
        .list()
        .into_iter()
        .map(|f| (f["id"].as_str().unwrap().to_owned(), f["local_state"].as_str().unwrap().to_owned()))
        .collect()
}

/// The photos a device keeps: sha256 → bytes.
fn photos(device: &Device) -> BTreeMap<String, Vec<u8>> {
    let db = rusqlite::Connection::open(device.home.join("device.sqlite")).unwrap();
    let mut stmt = db.prepare("SELECT sha256 FROM photo_files").unwrap();
    let shas: Vec<String> = stmt.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect();
    shas.into_iter()
        .map(|sha| {
            let bytes = std::fs::read(device.home.join("photos").join(format!("{sha}.jpg")))
                .unwrap_or_else(|e| panic!("photo {sha} of {}: {e}", device.home.display()));
            (sha, bytes)
        })
        .collect()
}

/// The checks every trial ends with. `auto` is the number of findings of the category filed at once.
fn everything_once(server: &Server, api: &Api, admin: &str, devices: &[Device], auto: i64) {
    let mut all = BTreeSet::new();
    for device in devices {
        for (id, state) in held(device) {
            assert_eq!(state, "received", "finding {id} of {} not received", device.home.display());
            all.insert(id);
        }
    }
    for id in &all {
        let n = server.count(&format!("SELECT COUNT(*) FROM findings WHERE id = '{id}'"));
        assert_eq!(n, 1, "finding {id} held {n} times");
    }
    assert_eq!(server.count("SELECT COUNT(*) FROM findings"), all.len() as i64, "a finding no device has");
    assert_eq!(server.count("SELECT COUNT(*) FROM cases"), auto, "one case per finding filed at once");
    for device in devices {
        for (sha, bytes) in photos(device) {
            let (status, stored) = api.get_blob(admin, &sha);
            assert_eq!(status, 200, "photo {sha}");
            assert!(
                stored == bytes,
                "photo {sha} differs from the phone's ({} vs {} bytes)",
                stored.len(),
                bytes.len()
            );
        }
    }
    if server.pg.is_none() {
        let integrity = server.text("PRAGMA integrity_check").unwrap();
        assert_eq!(integrity, "ok");
    }
}

fn spawn_patrol(home: &Path, args: &[&str]) -> Child {
    Command::new(bin_dir().join("patrol"))
        .arg("--home")
        .arg(home)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("run patrol")
}

/// Syncs until the device has nothing left to send; a sync may meet the server still starting.
fn sync_until_done(device: &Device) {
    for _ in 0..5 {
        if device.run(&["sync"]).status.success() && held(device).values().all(|s| s == "received") {
            return;
        }
    }
    device.ok(&["sync"]);
}

/// 20 phones sync findings with photos side by side; the server is SIGKILLed at a random moment, started
/// again on the same port, and every phone syncs to the end.
#[test]
fn server_killed_at_random_moments_while_twenty_devices_sync() {
    let trials = trials("FAULT_TRIALS_SERVER_KILL", 3);
    let phones = std::env::var("FAULT_DEVICES").ok().and_then(|s| s.parse().ok()).unwrap_or(20usize);
    let mut rng = ChaCha8Rng::seed_from_u64(seed());
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("server");
    let mut server = Server::start(&data);
    let port = server.port;
    let admin = server.api().sign_in("admin");
    let devices: Vec<Device> = (0..phones)
        .map(|i| {
            let device = Device::new(&tmp.path().join(format!("phone-{i}")));
            device.register(&server.url, &format!("inspector{}", i % 3 + 1));
            device
        })
        .collect();
    let (mut auto, mut answered_before_kill, mut unanswered) = (0i64, 0usize, 0usize);
    for trial in 0..trials {
        // Every phone reports one finding; one in five with a large photo, sent in several chunks.
        let reports: Vec<Child> = devices
            .iter()
            .enumerate()
            .map(|(i, device)| {
                let n = trial * phones + i;
                let category = if n.is_multiple_of(2) { AUTO } else { REVIEWED };
                auto += i64::from(category == AUTO);
                let photo = fixture(if i % 5 == 0 { "iphone_hdr_YES.jpg" } else { "orientation-portrait-1.jpg" });
                // 0.001° apart (over 100 m): no two are duplicates of one problem.
                let lat = format!("{:.4}", 41.70 + n as f64 * 0.001);
                let args = ["report", "--category", category, "--lat", &lat, "--lon", "123.43", "--accuracy", "5"];
                let mut args: Vec<&str> = args.to_vec();
                args.extend(["--photo", photo.to_str().unwrap()]);
                spawn_patrol(&device.home, &args)
            })
            .collect();
        for mut child in reports {
            assert!(child.wait().unwrap().success(), "a report of trial {trial} failed");
        }

        let syncs: Vec<Child> = devices.iter().map(|d| spawn_patrol(&d.home, &["sync"])).collect();
        std::thread::sleep(Duration::from_millis(rng.random_range(0..500)));
        server.kill();
        for mut child in syncs {
            let _ = child.wait();
        }
        // What each phone holds as answered now must survive the restart.
        let answered: Vec<Vec<String>> = devices
            .iter()
            .map(|d| held(d).into_iter().filter(|(_, s)| s == "received").map(|(id, _)| id).collect())
            .collect();
        let count: usize = answered.iter().map(Vec::len).sum();
        answered_before_kill += count - trial * phones;
        unanswered += (trial + 1) * phones - count;

        server = Server::start_with(&data, port, &[], &[]);
        for id in answered.iter().flatten() {
            let n = server.count(&format!("SELECT COUNT(*) FROM findings WHERE id = '{id}'"));
            assert_eq!(n, 1, "trial {trial}: finding {id} was answered before the kill but is gone");
        }
        for device in &devices {
            sync_until_done(device);
        }
        everything_once(&server, &server.api(), &admin, &devices, auto);
    }
    record(json!({"fault": "server_kill", "trials": trials, "devices": phones, "seed": seed(),
                  "findings": trials * phones, "answered_before_kill": answered_before_kill,
                  "unanswered_at_kill": unanswered}));
}

/// One phone behind a proxy that cuts its connection at a random byte of its requests (photo chunks and
/// sync batches) or of the server's answers, on a slow, uneven network. The next sync finishes the work and
/// sends again at most one chunk of the photo.
#[test]
fn connections_cut_at_random_offsets_of_requests_and_answers() {
    let trials = trials("FAULT_TRIALS_CUT", 12);
    let mut rng = ChaCha8Rng::seed_from_u64(seed() ^ 0xC07);
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("server"));
    let admin = server.api().sign_in("admin");
    let proxy = CutProxy::start(server.port);
    proxy.slow(3);
    let device = Device::new(&tmp.path().join("phone"));
    device.register(&proxy.url(), "inspector1");
    let (mut auto, mut request_cuts, mut answer_cuts, mut most_again) = (0i64, 0u64, 0u64, 0u64);
    for trial in 0..trials {
        let category = if trial % 2 == 0 { AUTO } else { REVIEWED };
        auto += i64::from(category == AUTO);
        let photo = if trial % 3 == 0 { "orientation-landscape-1.jpg" } else { "iphone_hdr_YES.jpg" };
        device.report(category, 41.70 + trial as f64 * 0.001, photo);
        let status: Value = serde_json::from_str(&device.ok(&["status", "--json"])).unwrap();
        let photo_bytes = status["pending_photo_bytes"].as_u64().unwrap();

        let start = proxy.sent();
        let cuts = proxy.cuts();
        // Two cuts in three in the requests (anywhere in the photo or the batch after it), one in the answers.
        let in_requests = rng.random_range(0..3) < 2;
        if in_requests {
            proxy.cut_after(rng.random_range(0..photo_bytes + 4096));
        } else {
            proxy.cut_answer_after(rng.random_range(0..2048));
        }
        let first = device.run(&["sync"]);
        let was_cut = proxy.cuts() > cuts;
        assert_eq!(first.status.success(), !was_cut, "trial {trial}: a sync fails exactly when it is cut");
        proxy.disarm();
        sync_until_done(&device);
        if was_cut {
            *if in_requests { &mut request_cuts } else { &mut answer_cuts } += 1;
            let sent = proxy.sent() - start;
            let again = sent.saturating_sub(photo_bytes);
            assert!(sent >= photo_bytes, "trial {trial}: {sent} < {photo_bytes}");
            assert!(
                again <= CHUNK + 32 * 1024,
                "trial {trial}: {again} bytes sent again for a {photo_bytes}-byte photo"
            );
            most_again = most_again.max(again);
        }
        everything_once(&server, &server.api(), &admin, std::slice::from_ref(&device), auto);
        assert_eq!(server.count("SELECT COUNT(*) FROM uploads"), 0, "trial {trial}: an upload left half done");
    }
    assert!(request_cuts > 0 && answer_cuts > 0, "both directions were cut: {request_cuts}, {answer_cuts}");
    record(json!({"fault": "connection_cut", "trials": trials, "seed": seed(), "request_cuts": request_cuts,
                  "answer_cuts": answer_cuts,
                  "most_bytes_sent_again": most_again, "chunk": CHUNK}));
}

/// Requests sent twice and out of order, by several clients at once: photo chunks at any offset, sync
/// batches before the photos they name, the same batch again. Nothing may fail with a 5xx or be stored
/// twice; an honest phone that then finishes the work finds everything in place.
#[test]
fn duplicated_and_reordered_requests_change_nothing_twice() {
    use tiejiaoban::{fake_jpeg, finding_body, sha256_hex};
    let rounds = trials("FAULT_TRIALS_STORM", 3);
    let mut rng = ChaCha8Rng::seed_from_u64(seed() ^ 0x5707);
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("server"));
    let api = server.api();
    let admin = api.sign_in("admin");
    let (device_id, token) = api.register("inspector1");
    let (mut seq, mut auto, mut sent, mut answered) = (0u64, 0i64, 0usize, BTreeMap::<u16, usize>::new());
    let mut photos: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut ops: Vec<Value> = Vec::new();
    for round in 0..rounds {
        // Eight findings, each with a photo of two or three chunks, sent as two batches.
        let mut requests: Vec<(String, Option<usize>, Value)> = Vec::new();
        let mut batch = Vec::new();
        for k in 0..8 {
            let n = round * 8 + k;
            let bytes = fake_jpeg(CHUNK as usize * 2 + 1000 * (n + 1), 9000 + n as u64);
            let sha = sha256_hex(&bytes);
            for offset in (0..bytes.len()).step_by(CHUNK as usize) {
                requests.push((sha.clone(), Some(offset), Value::Null));
            }
            photos.insert(sha.clone(), bytes);
            let category = if n % 2 == 0 { AUTO } else { REVIEWED };
            auto += i64::from(category == AUTO);
            seq += 1;
            let id = uuid::Uuid::now_v7().to_string();
            let op = json!({"seq": seq, "kind": "finding.create", "body": finding_body(&id, category, &sha, 41.70 + n as f64 * 0.001)});
            ops.push(op.clone());
            batch.push(op);
            if batch.len() == 4 {
                requests.push((String::new(), None, json!({"device_id": device_id, "ops": batch, "cursor": null})));
                batch = Vec::new();
            }
        }
        // Every request once, one in two a second time, all in a random order, from four clients at once.
        let mut storm: Vec<_> =
            requests.iter().cloned().chain(requests.iter().filter(|_| rng.random_bool(0.5)).cloned()).collect();
        for i in (1..storm.len()).rev() {
            storm.swap(i, rng.random_range(0..=i));
        }
        sent += storm.len();
        let parts: Vec<Vec<_>> = (0..4).map(|w| storm.iter().skip(w).step_by(4).cloned().collect()).collect();
        let statuses: Vec<u16> = std::thread::scope(|scope| {
            let workers: Vec<_> = parts
                .into_iter()
                .map(|part| {
                    let (api, token, photos) = (&api, &token, &photos);
                    scope.spawn(move || {
                        part.into_iter()
                            .map(|(sha, offset, body)| match offset {
                                Some(offset) => {
                                    let bytes = &photos[&sha];
                                    let end = (offset + CHUNK as usize).min(bytes.len());
                                    api.patch_blob(token, &sha, offset, bytes.len(), &bytes[offset..end]).status
                                }
                                None => api.post("/sync", Some(token), &body).status,
                            })
                            .collect::<Vec<u16>>()
                    })
                })
                .collect();
            workers.into_iter().flat_map(|w| w.join().unwrap()).collect()
        });
        for status in statuses {
            assert!(status < 500, "round {round}: a request was answered {status}");
            *answered.entry(status).or_default() += 1;
        }

        // The honest phone: each photo from where the server stands, then every op once more, in order.
        for (sha, bytes) in &photos {
            let head = api.head_blob(&token, sha);
            if head.header("Blob-Complete") == Some("true") {
                continue;
            }
            let mut offset: usize = head.header("Upload-Offset").and_then(|o| o.parse().ok()).unwrap_or(0);
            while offset < bytes.len() {
                let end = (offset + CHUNK as usize).min(bytes.len());
                let answer = api.patch_blob(&token, sha, offset, bytes.len(), &bytes[offset..end]);
                assert!(
                    answer.status < 300,
                    "round {round}: chunk at {offset} of {sha}: {} {}",
                    answer.status,
                    answer.body
                );
                offset = end;
            }
        }
        let answer = api.post("/sync", Some(&token), &json!({"device_id": device_id, "ops": ops, "cursor": null}));
        assert_eq!(answer.status, 200, "{}", answer.body);
        for result in answer.body["results"].as_array().unwrap() {
            assert!(
                result["status"] == "applied" || result["status"] == "duplicate",
                "round {round}: an op after the storm: {result}"
            );
        }
        assert_eq!(server.count("SELECT COUNT(*) FROM findings"), ops.len() as i64);
        for op in &ops {
            let id = op["body"]["id"].as_str().unwrap();
            let n: i64 = server.count(&format!("SELECT COUNT(*) FROM findings WHERE id = '{id}'"));
            assert_eq!(n, 1, "finding {id}");
        }
        assert_eq!(server.count("SELECT COUNT(*) FROM cases"), auto);
        for (sha, bytes) in &photos {
            let (status, stored) = api.get_blob(&admin, sha);
            assert!(status == 200 && &stored == bytes, "photo {sha}: {status}, {} bytes", stored.len());
        }
        assert_eq!(server.count("SELECT COUNT(*) FROM uploads"), 0, "an upload left half done");
    }
    record(json!({"fault": "duplicated_reordered", "rounds": rounds, "seed": seed(), "requests": sent,
                  "answers": answered}));
}

/// The app killed at random moments while it saves a finding (the photo processed, written, the row
/// committed) and while it syncs. The store reopens consistent every time; in the end every finding that
/// was reported is on the server once, and no photo file is left without its row.
#[test]
fn a_device_killed_mid_capture_and_mid_sync_loses_nothing_and_doubles_nothing() {
    let rounds = trials("FAULT_TRIALS_DEVICE_KILL", 12);
    let mut rng = ChaCha8Rng::seed_from_u64(seed() ^ 0xDE71);
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("server"));
    let admin = server.api().sign_in("admin");
    let home = tmp.path().join("phone");
    let device = Device::new(&home);
    device.register(&server.url, "inspector1");
    let photo = fixture("HMD_Nokia_8.3_5G.jpg");
    let (mut completed, mut killed_captures, mut killed_syncs) = (Vec::new(), 0usize, 0usize);

    for i in 0..rounds {
        let lat = format!("41.{:04}", 7000 + i * 37);
        let args =
            ["report", "--category", REVIEWED, "--lat", &lat, "--lon", "123.43", "--photo", photo.to_str().unwrap()];
        let mut child = Command::new(bin_dir().join("patrol"))
            .arg("--home")
            .arg(&home)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(rng.random_range(0..900)));
        let _ = child.kill();
        let out = child.wait_with_output().unwrap();
        if out.status.success() {
            completed.push(String::from_utf8(out.stdout).unwrap().trim().to_owned());
        } else {
            killed_captures += 1;
        }
        // Every other round, a sync is killed too.
        if i % 2 == 1 {
            let mut sync = spawn_patrol(&home, &["sync"]);
            std::thread::sleep(Duration::from_millis(rng.random_range(0..60)));
            let _ = sync.kill();
            killed_syncs += usize::from(!sync.wait().unwrap().success());
        }
        let check = device.run(&["check"]);
        assert!(check.status.success(), "round {i}: {}", String::from_utf8_lossy(&check.stdout));
    }
    let integrity: String = rusqlite::Connection::open(home.join("device.sqlite"))
        .unwrap()
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(integrity, "ok");

    sync_until_done(&device);
    let listed = held(&device);
    for id in &completed {
        assert!(listed.contains_key(id), "finding {id} was reported but is lost");
    }
    everything_once(&server, &server.api(), &admin, std::slice::from_ref(&device), 0);
    // No photo file without a row: every file in photos/ belongs to a finding.
    let db = rusqlite::Connection::open(home.join("device.sqlite")).unwrap();
    for entry in std::fs::read_dir(home.join("photos")).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        let sha = name.trim_end_matches(".jpg").trim_end_matches(".thumb");
        let known: bool =
            db.query_row("SELECT EXISTS (SELECT 1 FROM photo_files WHERE sha256 = ?1)", [sha], |r| r.get(0)).unwrap();
        assert!(known, "orphan photo file {name}");
    }
    record(json!({"fault": "device_kill", "trials": rounds, "seed": seed(), "reports_completed": completed.len(),
                  "captures_killed": killed_captures, "syncs_killed": killed_syncs,
                  "findings_on_server": listed.len()}));
}
