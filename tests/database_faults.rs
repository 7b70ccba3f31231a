//! The server on PostgreSQL when its database is not there: at start it waits, retrying with backoff, and says
//! so; lost mid-run, every request that needs it is answered 503 with Retry-After and nothing is half
//! written; back, the server goes on by itself and the phone's queued report arrives once.
//!
//! The database is a cluster of this test's own (`scripts/postgres.sh`), stopped as a crash would stop it and
//! started again on the same port.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use tiejiaoban::{Api, Device, bin_dir, repo_root};

struct Cluster {
    dir: String,
    url: String,
}

impl Cluster {
    fn script(args: &[&str]) -> String {
        let out = Command::new("bash").arg(repo_root().join("scripts/postgres.sh")).args(args).output().unwrap();
        assert!(out.status.success(), "postgres.sh {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    }

    fn start() -> Cluster {
        let said = Self::script(&["start"]);
        let value = |name: &str| {
            said.lines()
                .find_map(|l| l.strip_prefix(&format!("export {name}=")))
                .unwrap_or_else(|| panic!("{name} in {said}"))
                .to_owned()
        };
        Cluster { dir: value("TJB_PG_DIR"), url: value("TJB_TEST_DATABASE_URL") }
    }

    fn halt(&self) {
        Self::script(&["halt", &self.dir]);
    }

    fn resume(&self) {
        Self::script(&["resume", &self.dir]);
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        Self::script(&["stop", &self.dir]);
    }
}

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_database_away_at_start_and_mid_run_costs_nothing() {
    // Only where the tests have PostgreSQL (the test script requires it).
    if tiejiaoban::postgres_database().is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let cluster = Cluster::start();
    cluster.halt();

    // Started while the database is down, the server says it waits, and serves once the database is back.
    let mut child = Command::new(bin_dir().join("sync-server"))
        .args(["serve", "--listen", "127.0.0.1:0", "--demo", "--database", &cluster.url, "--data"])
        .arg(tmp.path().join("server"))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut errors = BufReader::new(child.stderr.take().unwrap()).lines();
    let waiting = errors.by_ref().map(Result::unwrap).find(|l| l.contains("PostgreSQL does not answer yet"));
    assert!(waiting.is_some(), "the server says it waits for its database");
    // The rest of its standard error is read on, so that it never blocks on a full pipe.
    std::thread::spawn(move || errors.for_each(drop));
    cluster.resume();
    let url = tiejiaoban::listening_url(&mut child);
    let _server = Running(child);
    let api = Api::new(&url);

    let phone = Device::new(&tmp.path().join("phone"));
    phone.register(&url, "inspector1");
    let first = phone.report("C0101", 41.7968, "orientation-portrait-6.jpg");
    phone.ok(&["sync"]);
    let dispatcher = api.sign_in("dispatcher1");

    // Lost mid-run: 503 with Retry-After, for the console and the phone alike; the phone keeps its report.
    cluster.halt();
    let second = phone.report("C0101", 41.8068, "orientation-portrait-8.jpg");
    let answer = api.get("/cases", Some(&dispatcher));
    assert_eq!((answer.status, answer.code()), (503, "unavailable"), "{}", answer.body);
    assert_eq!(answer.header("retry-after"), Some("60"));
    let sync = phone.run(&["sync"]);
    assert!(!sync.status.success(), "the sync cannot have gone through");
    let queued = phone.list();
    let row = queued.iter().find(|f| f["id"] == second.as_str()).expect("kept on the phone");
    assert_eq!(row["local_state"], "queued", "{row}");

    // Back: the server goes on by itself; the report arrives once; the first is still there once.
    cluster.resume();
    phone.ok(&["sync"]);
    let cases = api.get("/cases", Some(&dispatcher));
    assert_eq!(cases.status, 200, "{}", cases.body);
    let cases = cases.body["cases"].as_array().unwrap().clone();
    assert_eq!(cases.len(), 2, "one case for each report: {cases:?}");
    for id in [&first, &second] {
        let f = phone.list().into_iter().find(|f| f["id"] == id.as_str()).unwrap();
        assert!(f["case_no"].is_string(), "{f}");
    }
}
