//! A phone whose clock is hours off, made real with libfaketime (`faketime -f +3h patrol …`). The contract
//! takes no `observed_at` more than 10 minutes ahead of the server's clock; the phone learns the offset at
//! every sync (the answer's `server_time`) and, once it is 5 minutes or more, stamps its reports on the
//! server's clock. So a phone hours ahead has its reports accepted and one hours behind does not file them in
//! the past; a phone that never synced is refused by the contract's rule, and says so.

use std::process::{Command, Output};

use chrono::{DateTime, Duration, FixedOffset, Utc};
use tiejiaoban::{Device, Server, bin_dir, fixture};

/// Runs the device command line with its clock moved by `shift` ("+3h", "-5h").
fn at(device: &Device, shift: &str, args: &[&str]) -> Output {
    Command::new("faketime")
        .arg("-f")
        .arg(shift)
        .arg(bin_dir().join("patrol"))
        .arg("--home")
        .arg(&device.home)
        .args(args)
        .env("FAKETIME_DONT_FAKE_MONOTONIC", "1")
        .output()
        .expect("faketime (Debian package `faketime`, installed by scripts/install-system-deps.sh)")
}

fn ok(out: Output) -> String {
    assert!(out.status.success(), "{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn report(device: &Device, shift: &str, lat: &str) -> String {
    let photo = fixture("orientation-portrait-1.jpg");
    let args = ["report", "--category", "E0102", "--lat", lat, "--lon", "123.43", "--photo", photo.to_str().unwrap()];
    ok(at(device, shift, &args)).trim().to_owned()
}

fn observed_at(server: &Server, id: &str) -> DateTime<Utc> {
    let t: String = server
        .db()
        .query_row("SELECT json_extract(body, '$.observed_at') FROM findings WHERE id = ?1", [id], |r| r.get(0))
        .unwrap();
    t.parse::<DateTime<FixedOffset>>().unwrap().with_timezone(&Utc)
}

#[test]
fn a_phone_hours_off_files_its_reports_on_the_servers_clock() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("server"));
    for (n, shift) in ["+3h", "-5h"].into_iter().enumerate() {
        let device = Device::new(&tmp.path().join(format!("phone-{n}")));
        // Registering syncs, which measures the offset.
        let register = ["register", "--server", &server.url, "--username", "inspector1", "--password", "demo1234"];
        ok(at(&device, shift, &register));
        let status: serde_json::Value = serde_json::from_str(&ok(at(&device, shift, &["status", "--json"]))).unwrap();
        let offset_h = status["clock_offset_ms"].as_i64().unwrap() as f64 / 3_600_000.0;
        let expected = -shift.trim_end_matches('h').parse::<f64>().unwrap();
        assert!((offset_h - expected).abs() < 0.05, "{shift}: offset {offset_h} h");

        let before = Utc::now();
        let id = report(&device, shift, &format!("41.7{n}"));
        ok(at(&device, shift, &["sync"]));
        let after = Utc::now();
        let listed = device.list();
        let mine = listed.iter().find(|f| f["id"] == id.as_str()).unwrap();
        assert_eq!(mine["local_state"], "received", "{shift}: {mine}");
        let observed = observed_at(&server, &id);
        assert!(
            observed > before - Duration::minutes(1) && observed < after + Duration::minutes(1),
            "{shift}: observed at {observed}, reported between {before} and {after}"
        );
    }
}

#[test]
fn a_phone_hours_ahead_that_never_synced_is_refused_by_the_contracts_rule_and_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("server"));
    let device = Device::new(&tmp.path().join("phone"));
    // Registered on the right time, then the phone's clock jumps ahead (a battery change, a wrong zone).
    device.register(&server.url, "inspector1");
    let id = report(&device, "+3h", "41.70");
    let _ = at(&device, "+3h", &["sync"]);
    let listed = device.list();
    let mine = listed.iter().find(|f| f["id"] == id.as_str()).unwrap();
    assert_eq!(mine["local_state"], "rejected", "{mine}");
    assert!(mine["reason"].as_str().unwrap_or_default().contains("ahead of the server's clock"), "{mine}");
    assert_eq!(server.count("SELECT COUNT(*) FROM findings"), 0);
    // The sync measured the offset: the next report is stamped on the server's clock and accepted.
    let next = report(&device, "+3h", "41.71");
    ok(at(&device, "+3h", &["sync"]));
    assert_eq!(device.list().iter().find(|f| f["id"] == next.as_str()).unwrap()["local_state"], "received");
}
