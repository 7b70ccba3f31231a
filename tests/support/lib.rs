//! Helpers for the end-to-end tests: the real `sync-server` and `patrol` binaries, run as processes on
//! 127.0.0.1 with real data directories, and a small HTTP client for raw protocol calls.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use serde_json::{Value, json};

mod pg;
pub use pg::{PgDatabase, postgres_database};

/// The database of a data directory's servers on PostgreSQL: one while any server of it runs (so that a server
/// started again on the same directory finds what the one before kept), a new one after.
fn database_of(data: &Path) -> std::sync::Arc<PgDatabase> {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex, Weak};
    static DATABASES: OnceLock<Mutex<HashMap<PathBuf, Weak<PgDatabase>>>> = OnceLock::new();
    let mut open = DATABASES.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
    if let Some(db) = open.get(data).and_then(Weak::upgrade) {
        return db;
    }
    let db = Arc::new(postgres_database().expect("TJB_TEST_BACKEND=postgres needs TJB_TEST_DATABASE_URL"));
    open.insert(data.to_owned(), Arc::downgrade(&db));
    db
}

/// Whether the servers of the black-box tests run on PostgreSQL (`TJB_TEST_BACKEND=postgres`).
pub fn on_postgres() -> bool {
    std::env::var("TJB_TEST_BACKEND").is_ok_and(|b| b == "postgres")
}

/// The directory holding the binaries of the profile the tests were built with.
pub fn bin_dir() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let exe = std::env::current_exe().expect("test executable path");
        // target/<profile>/deps/<test> → target/<profile>
        let dir = exe.parent().and_then(Path::parent).expect("target profile dir").to_path_buf();
        let release = dir.file_name().is_some_and(|n| n == "release");
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut cmd = Command::new(cargo);
        // Variables cargo sets for the test process would make the nested build look different and
        // rebuild dependencies whose build scripts watch them.
        for (key, _) in std::env::vars_os() {
            let key = key.to_string_lossy().into_owned();
            if (key.starts_with("CARGO_") && key != "CARGO_HOME" && key != "CARGO_TARGET_DIR") || key == "OUT_DIR" {
                cmd.env_remove(key);
            }
        }
        // The same package set as `cargo test --workspace`, so features unify and nothing is rebuilt.
        cmd.args(["build", "--quiet", "--workspace", "--bins"]);
        if release {
            cmd.arg("--release");
        }
        let status = cmd.current_dir(repo_root()).status().expect("cargo build of the binaries");
        assert!(status.success(), "building the workspace binaries failed");
        dir
    })
    .clone()
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A photo of `../shared/fixtures/photos`.
pub fn fixture(name: &str) -> PathBuf {
    let p = repo_root().join("../shared/fixtures/photos").join(name);
    assert!(p.is_file(), "fixture photo {} is missing", p.display());
    p
}

/// A password the policy takes (10 characters or more, hard to guess), for users the tests add.
pub const STRONG_PASSWORD: &str = "铁脚板-巡查-2026-秋";

/// A running `sync-server serve --demo`: on the embedded store, or on a database of its own when
/// `TJB_TEST_BACKEND=postgres` (the test script runs the black-box stories both ways).
pub struct Server {
    child: Child,
    /// Its database, when it runs on PostgreSQL.
    pub pg: Option<std::sync::Arc<PgDatabase>>,
    pub url: String,
    pub data: PathBuf,
    pub port: u16,
}

impl Server {
    /// Starts a server with demo data on a free port.
    pub fn start(data: &Path) -> Server {
        Self::start_with(data, 0, &[], &[])
    }

    /// Starts a server on `port` (0: a free one) with extra arguments and environment.
    pub fn start_with(data: &Path, port: u16, args: &[&str], env: &[(&str, &str)]) -> Server {
        let mut cmd = Command::new(bin_dir().join("sync-server"));
        cmd.arg("serve").arg("--data").arg(data).arg("--listen").arg(format!("127.0.0.1:{port}")).arg("--demo");
        let pg = if on_postgres() && !args.contains(&"--database") {
            let db = database_of(data);
            cmd.arg("--database").arg(&db.url);
            Some(db)
        } else {
            None
        };
        cmd.args(args).envs(env.iter().copied()).env("RUST_LOG", "warn");
        cmd.stdout(Stdio::piped()).stderr(Stdio::inherit());
        let mut child = cmd.spawn().expect("start sync-server");
        let url = listening_url(&mut child);
        let port = url.rsplit(':').next().and_then(|p| p.parse().ok()).expect("port in listening line");
        Server { child, pg, url, data: data.to_owned(), port }
    }

    /// Starts a server again on the same store (and port).
    pub fn restart(&mut self, args: &[&str], env: &[(&str, &str)]) {
        self.kill();
        let mut next = Server::start_with(&self.data, self.port, args, env);
        std::mem::swap(self, &mut next);
    }

    /// Kills the process at once, as a power cut would.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Waits for the process to end by itself (e.g. the crash hook).
    pub fn wait(&mut self) -> ExitStatus {
        self.child.wait().expect("wait for sync-server")
    }

    /// Sends SIGTERM and waits for the clean stop.
    pub fn terminate(&mut self) -> ExitStatus {
        let _ = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status();
        self.wait()
    }

    /// Opens the server's SQLite file read-only, to look into what it holds (a test that does so runs on the
    /// embedded store only).
    pub fn db(&self) -> rusqlite::Connection {
        assert!(self.pg.is_none(), "this test reads the SQLite file: it runs on the embedded store only");
        let conn = rusqlite::Connection::open_with_flags(
            self.data.join("server.sqlite"),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .expect("open server store");
        conn.busy_timeout(Duration::from_secs(10)).expect("busy timeout");
        conn
    }

    /// The number a query (the same SQL on both stores) gives.
    pub fn count(&self, sql: &str) -> i64 {
        self.text(sql).map_or(0, |t| t.parse().expect(sql))
    }

    /// Runs a statement on the server's store beside it (the same SQL on both stores).
    pub fn execute(&self, sql: &str) {
        match &self.pg {
            Some(db) => {
                db.query_text(sql);
            }
            None => {
                let conn = rusqlite::Connection::open(self.data.join("server.sqlite")).expect("open server store");
                conn.busy_timeout(Duration::from_secs(10)).expect("busy timeout");
                conn.execute(sql, []).expect(sql);
            }
        }
    }

    /// The text a query (the same SQL on both stores) gives, if any.
    pub fn text(&self, sql: &str) -> Option<String> {
        use rusqlite::types::Value as V;
        match &self.pg {
            Some(db) => db.query_text(sql),
            None => match self.db().query_row(sql, [], |r| r.get::<_, V>(0)).expect(sql) {
                V::Null => None,
                V::Integer(i) => Some(i.to_string()),
                V::Real(f) => Some(f.to_string()),
                V::Text(t) => Some(t),
                V::Blob(b) => Some(String::from_utf8_lossy(&b).into_owned()),
            },
        }
    }

    pub fn api(&self) -> Api {
        Api::new(&self.url)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A real S3-compatible server (`s3s-fs`: the S3 protocol over files, installed by `scripts/test.sh` with
/// `cargo install s3s-fs --version 0.14.1 --locked --features binary`) on a free port, its objects under
/// `root/<bucket>/`.
pub struct S3 {
    child: Child,
    pub root: PathBuf,
    pub endpoint: String,
    port: u16,
}

impl S3 {
    const KEY: &'static str = "tiejiaoban-test";
    const SECRET: &'static str = "tiejiaoban-test-secret";

    pub fn start(root: &Path) -> S3 {
        std::fs::create_dir_all(root).expect("the object store's directory");
        let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
        let child = Self::spawn(root, port);
        S3 { child, root: root.to_owned(), endpoint: format!("http://127.0.0.1:{port}"), port }
    }

    fn spawn(root: &Path, port: u16) -> Child {
        let bin = std::env::var_os("CARGO_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
            .map(|home| home.join("bin/s3s-fs"))
            .filter(|p| p.is_file())
            .unwrap_or_else(|| PathBuf::from("s3s-fs"));
        let child = Command::new(&bin)
            .args(["--host", "127.0.0.1", "--port", &port.to_string(), "--access-key", Self::KEY])
            .args(["--secret-key", Self::SECRET])
            .arg(root)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start {} ({e}): install it with `cargo install s3s-fs --version 0.14.1 --locked --features binary` (scripts/test.sh does)",
                    bin.display()
                )
            });
        // Ready when it takes connections.
        let started = std::time::Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(started.elapsed() < Duration::from_secs(30), "s3s-fs did not listen on port {port}");
            std::thread::sleep(Duration::from_millis(20));
        }
        child
    }

    /// Stops the server: the bucket takes no writes (nor reads) until `resume`.
    pub fn halt(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Starts the server again on the same port and files.
    pub fn resume(&mut self) {
        self.child = Self::spawn(&self.root, self.port);
    }

    /// Makes a bucket (a directory of the server's root); returns its `s3://` URL with `prefix`.
    pub fn bucket(&self, name: &str, prefix: &str) -> String {
        std::fs::create_dir_all(self.root.join(name)).expect("the bucket's directory");
        format!("s3://{name}/{prefix}")
    }

    /// The variables that point a server at this one.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint.clone()),
            ("AWS_ACCESS_KEY_ID", Self::KEY.into()),
            ("AWS_SECRET_ACCESS_KEY", Self::SECRET.into()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_ALLOW_HTTP", "true".into()),
        ]
    }
}

impl Drop for S3 {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits for a server started with its standard output piped to say where it listens; returns that URL. The
/// output is read on afterwards, so that the server never blocks on a full pipe.
pub fn listening_url(child: &mut Child) -> String {
    let stdout = child.stdout.take().expect("the server's standard output is piped");
    let mut lines = BufReader::new(stdout).lines();
    let url = loop {
        match lines.next() {
            Some(Ok(line)) => {
                if let Some(url) = line.strip_prefix("listening on ") {
                    break url.trim().to_owned();
                }
            }
            _ => panic!("sync-server exited before listening: {:?}", child.wait()),
        }
    };
    std::thread::spawn(move || for _ in lines.by_ref() {});
    url
}

/// The `patrol` command line on a home directory of its own.
pub struct Device {
    pub home: PathBuf,
}

impl Device {
    pub fn new(home: &Path) -> Device {
        Device { home: home.to_owned() }
    }

    pub fn run(&self, args: &[&str]) -> Output {
        Command::new(bin_dir().join("patrol")).arg("--home").arg(&self.home).args(args).output().expect("run patrol")
    }

    /// Runs and requires success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "patrol {args:?} failed: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8 output")
    }

    pub fn register(&self, server_url: &str, username: &str) {
        self.ok(&["register", "--server", server_url, "--username", username, "--password", "demo1234"]);
    }

    /// Reports a finding with one fixture photo; returns its id.
    pub fn report(&self, category: &str, lat: f64, photo: &str) -> String {
        let out = self.ok(&[
            "report",
            "--category",
            category,
            "--lat",
            &lat.to_string(),
            "--lon",
            "123.4328",
            "--accuracy",
            "5",
            "--description",
            "测试上报",
            "--photo",
            fixture(photo).to_str().unwrap(),
        ]);
        out.lines().last().expect("finding id").trim().to_owned()
    }

    pub fn list(&self) -> Vec<Value> {
        serde_json::from_str(&self.ok(&["list", "--json"])).expect("list --json")
    }

    /// The phone's tasks (`tasks --json`).
    pub fn tasks(&self) -> Vec<Value> {
        serde_json::from_str(&self.ok(&["tasks", "--json"])).expect("tasks --json")
    }

    /// Completes the phone's first task of `task_type` with `result` and one fixture photo, and syncs it.
    pub fn complete_task(&self, task_type: &str, result: &str, photo: &str) {
        let tasks = self.tasks();
        let task = tasks.iter().find(|t| t["task_type"] == task_type).unwrap_or_else(|| panic!("a {task_type} task"));
        let photo = fixture(photo);
        self.ok(&[
            "task-complete",
            task["id"].as_str().unwrap(),
            "--result",
            result,
            "--photo",
            photo.to_str().unwrap(),
        ]);
        self.ok(&["sync"]);
    }
}

/// Raw protocol calls.
pub struct Api {
    pub base: String,
    pub http: reqwest::blocking::Client,
}

pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Answer {
    /// `error.code` of an error body.
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }

    /// A header's value, if the answer has it.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// What a photo's HEAD or upload answer says the server holds: `upload-offset` and `blob-complete`.
    pub fn held(&self) -> (Option<&str>, Option<&str>) {
        (self.header("upload-offset"), self.header("blob-complete"))
    }
}

impl Api {
    pub fn new(url: &str) -> Api {
        Api { base: format!("{url}/api/v1"), http: reqwest::blocking::Client::new() }
    }

    pub fn send(&self, req: reqwest::blocking::RequestBuilder) -> Answer {
        let resp = req.send().expect("request");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Answer { status, headers, body }
    }

    pub fn post(&self, path: &str, token: Option<&str>, body: &Value) -> Answer {
        let mut req = self.http.post(format!("{}{path}", self.base)).json(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        self.send(req)
    }

    pub fn get(&self, path: &str, token: Option<&str>) -> Answer {
        let mut req = self.http.get(format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        self.send(req)
    }

    /// Registers a fresh device for a demo user; returns (device id, token).
    pub fn register(&self, username: &str) -> (String, String) {
        let id = uuid::Uuid::now_v7().to_string();
        let a = self.post(
            "/devices/register",
            None,
            &json!({"username": username, "password": "demo1234",
                    "device": {"id": id, "name": "test", "platform": "linux", "app_version": "test"}}),
        );
        assert_eq!(a.status, 201, "register {username}: {}", a.body);
        (id, a.body["token"].as_str().unwrap().to_owned())
    }

    /// Signs a demo user in to the console; returns the token.
    pub fn sign_in(&self, username: &str) -> String {
        self.sign_in_with(username, "demo1234")
    }

    /// Adds the water department's user (SW has no demo user; C0101 cases go there) and signs it in.
    pub fn water_department(&self, admin: &str) -> String {
        let added = self.post(
            "/users",
            Some(admin),
            &json!({"username": "dept-sw", "password": STRONG_PASSWORD, "role": "department", "department": "SW",
                    "display_name": "水务"}),
        );
        assert_eq!(added.status, 201, "{}", added.body);
        self.sign_in_with("dept-sw", STRONG_PASSWORD)
    }

    /// Signs a user in with a password; returns the token.
    pub fn sign_in_with(&self, username: &str, password: &str) -> String {
        let a = self.post("/sessions", None, &json!({"username": username, "password": password}));
        assert_eq!(a.status, 201, "sign in {username}: {}", a.body);
        a.body["token"].as_str().unwrap().to_owned()
    }

    /// Uploads bytes whole; returns the status.
    pub fn put_blob(&self, token: &str, sha: &str, content_type: &str, bytes: Vec<u8>) -> Answer {
        self.send(
            self.http
                .put(format!("{}/blobs/{sha}", self.base))
                .bearer_auth(token)
                .header("Content-Type", content_type)
                .body(bytes),
        )
    }

    /// Sends one chunk of a resumable upload: `bytes` at `offset` of a photo of `length` bytes.
    pub fn patch_blob(&self, token: &str, sha: &str, offset: usize, length: usize, bytes: &[u8]) -> Answer {
        self.send(
            self.http
                .patch(format!("{}/blobs/{sha}", self.base))
                .bearer_auth(token)
                .header("Content-Type", "application/offset+octet-stream")
                .header("Upload-Offset", offset)
                .header("Upload-Length", length)
                .body(bytes.to_vec()),
        )
    }

    /// Asks how much of a photo the server holds (its headers say it).
    pub fn head_blob(&self, token: &str, sha: &str) -> Answer {
        self.send(self.http.head(format!("{}/blobs/{sha}", self.base)).bearer_auth(token))
    }

    /// Downloads a photo: the status and the bytes.
    pub fn get_blob(&self, token: &str, sha: &str) -> (u16, Vec<u8>) {
        let r = self.http.get(format!("{}/blobs/{sha}", self.base)).bearer_auth(token).send().expect("GET blob");
        (r.status().as_u16(), r.bytes().expect("the photo's bytes").to_vec())
    }
}

/// Bytes that pass for a JPEG photo (its first bytes), `len` long and different for every `seed`.
pub fn fake_jpeg(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xE0];
    bytes.extend((4..len).map(|_| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x as u8
    }));
    bytes
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// A valid finding body for raw sync calls, naming one photo.
pub fn finding_body(id: &str, category: &str, photo_sha: &str, lat: f64) -> Value {
    let now = chrono::Local::now().fixed_offset().to_rfc3339();
    json!({
        "id": id, "patrol_id": null, "category": category, "description": "raw protocol test",
        "urgent": false, "fixed_on_spot": false,
        "location": {"lat": lat, "lon": 123.4328, "accuracy_m": 4.0, "source": "gps", "fixed_at": now},
        "address": null, "road": null, "grid": null, "facility_code": null, "observed_at": now,
        "photos": [{"sha256": photo_sha, "role": "before", "taken_at": now, "width": 1600, "height": 1200, "bytes": 1000}]
    })
}

/// A TCP proxy on 127.0.0.1 that counts the bytes a client sends and can cut the connection once, after
/// a given number of them — a phone losing its signal in the middle of an upload.
pub struct CutProxy {
    pub port: u16,
    sent: std::sync::Arc<std::sync::atomic::AtomicU64>,
    cut_at: std::sync::Arc<std::sync::atomic::AtomicU64>,
    cuts: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// Bytes of answers passed back, and the one that is cut (a download losing its signal).
    received: std::sync::Arc<std::sync::atomic::AtomicU64>,
    cut_received_at: std::sync::Arc<std::sync::atomic::AtomicU64>,
    delay_ms: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

/// One direction of a proxied connection: copies bytes on, counting them in `count`; the byte numbered
/// `cut_at`, once reached, is the last one passed on, then both sockets are shut (`kill`) and `cuts` counts it.
/// The end of the input shuts the output as `at_end` says (requests: the writing half; answers: all of it).
struct Pump {
    count: std::sync::Arc<std::sync::atomic::AtomicU64>,
    cut_at: std::sync::Arc<std::sync::atomic::AtomicU64>,
    cuts: std::sync::Arc<std::sync::atomic::AtomicU64>,
    kill: [std::net::TcpStream; 2],
    at_end: std::net::Shutdown,
    /// Up to this many milliseconds of delay before each piece is passed on (0: none).
    delay_ms: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl Pump {
    fn run(self, mut from: std::net::TcpStream, mut to: std::net::TcpStream) {
        use std::io::{Read, Write};
        use std::sync::atomic::Ordering;
        let mut buf = [0u8; 16 * 1024];
        while let Ok(k) = from.read(&mut buf) {
            if k == 0 {
                let _ = to.shutdown(self.at_end);
                return;
            }
            let before = self.count.fetch_add(k as u64, Ordering::SeqCst);
            let delay = self.delay_ms.load(Ordering::SeqCst);
            if delay > 0 {
                // A slow, uneven network: a delay that follows from the byte count, so a run repeats.
                let ms = before.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40;
                std::thread::sleep(std::time::Duration::from_millis(ms % (delay + 1)));
            }
            let limit = self.cut_at.load(Ordering::SeqCst);
            if before + k as u64 > limit {
                // Forward up to the cut, then drop both sides.
                let keep = limit.saturating_sub(before) as usize;
                let _ = to.write_all(&buf[..keep]);
                self.count.fetch_sub((k - keep) as u64, Ordering::SeqCst);
                self.cut_at.store(u64::MAX, Ordering::SeqCst);
                self.cuts.fetch_add(1, Ordering::SeqCst);
                for socket in &self.kill {
                    let _ = socket.shutdown(std::net::Shutdown::Both);
                }
                return;
            }
            if to.write_all(&buf[..k]).is_err() {
                return;
            }
        }
    }
}

impl CutProxy {
    pub fn start(target_port: u16) -> CutProxy {
        use std::net::{Shutdown, TcpListener, TcpStream};
        use std::sync::Arc;
        use std::sync::atomic::AtomicU64;

        let listener = TcpListener::bind("127.0.0.1:0").expect("proxy listens");
        let port = listener.local_addr().unwrap().port();
        let sent = Arc::new(AtomicU64::new(0));
        let cut_at = Arc::new(AtomicU64::new(u64::MAX));
        let cuts = Arc::new(AtomicU64::new(0));
        let received = Arc::new(AtomicU64::new(0));
        let cut_received_at = Arc::new(AtomicU64::new(u64::MAX));
        let delay_ms = Arc::new(AtomicU64::new(0));
        let (s, c, n, d) = (sent.clone(), cut_at.clone(), cuts.clone(), delay_ms.clone());
        let (r, rc) = (received.clone(), cut_received_at.clone());
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                let Ok(server) = TcpStream::connect(("127.0.0.1", target_port)) else { continue };
                let kill = || [client.try_clone().unwrap(), server.try_clone().unwrap()];
                let requests = Pump {
                    count: s.clone(),
                    cut_at: c.clone(),
                    cuts: n.clone(),
                    kill: kill(),
                    at_end: Shutdown::Write,
                    delay_ms: d.clone(),
                };
                let answers = Pump {
                    count: r.clone(),
                    cut_at: rc.clone(),
                    cuts: n.clone(),
                    kill: kill(),
                    at_end: Shutdown::Both,
                    delay_ms: d.clone(),
                };
                let (client_r, server_w) = (client.try_clone().unwrap(), server.try_clone().unwrap());
                std::thread::spawn(move || requests.run(client_r, server_w));
                std::thread::spawn(move || answers.run(server, client));
            }
        });
        CutProxy { port, sent, cut_at, cuts, received, cut_received_at, delay_ms }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Bytes clients have sent through the proxy so far.
    pub fn sent(&self) -> u64 {
        self.sent.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Cuts the connection that carries the client's byte number `sent() + n`.
    pub fn cut_after(&self, n: u64) {
        self.cut_at.store(self.sent() + n, std::sync::atomic::Ordering::SeqCst);
    }

    /// Bytes of answers passed back to clients so far.
    pub fn received(&self) -> u64 {
        self.received.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Cuts the connection that carries the answers' byte number `received() + n`.
    pub fn cut_answer_after(&self, n: u64) {
        self.cut_received_at.store(self.received() + n, std::sync::atomic::Ordering::SeqCst);
    }

    /// Takes back a cut that was not reached.
    pub fn disarm(&self) {
        self.cut_at.store(u64::MAX, std::sync::atomic::Ordering::SeqCst);
        self.cut_received_at.store(u64::MAX, std::sync::atomic::Ordering::SeqCst);
    }

    /// Delays every piece passed on, either way, by up to `max_ms` milliseconds.
    pub fn slow(&self, max_ms: u64) {
        self.delay_ms.store(max_ms, std::sync::atomic::Ordering::SeqCst);
    }

    pub fn cuts(&self) -> u64 {
        self.cuts.load(std::sync::atomic::Ordering::SeqCst)
    }
}
