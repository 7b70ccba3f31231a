//! Nothing is acknowledged before it is on disk. The server runs under `strace`, and a device registers,
//! uploads photos whole and in chunks, and syncs findings, one request at a time. At every successful answer
//! the server writes to a socket, every earlier write to the write-ahead log, to a photo pack or to a
//! resumable upload's file must have been followed by a completed flush (`fdatasync`/`fsync`) of that file,
//! one that began after the write had ended. And a photo's row is written only after its bytes are flushed:
//! at every write to the log, no write to a pack may be waiting for its flush (a rule that holds because the
//! requests come one at a time and the server has no writer of its own in the background; with uploads side
//! by side, another photo's pack write may rightly wait while a row is written). The server's `checkpoint`
//! thread, which copies the log into the database beside the writer, flushes the log too, at moments of its
//! own: its calls are left out of the trace's reading, so that only the flushes the requests make can cover
//! their writes (with them, a missing flush could pass by chance). A crash test cannot see a missing flush:
//! killing the process leaves the page cache, and what it holds, in place.

use std::collections::HashMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use serde_json::json;
use tiejiaoban::{Api, bin_dir, fake_jpeg as photo, finding_body, listening_url, sha256_hex};

/// The server under strace; stopped with SIGTERM (the server's clean stop) however the test ends.
struct Traced {
    strace: Child,
    server_pid: u32,
    /// The server's `checkpoint` thread, whose calls do not count.
    checkpointer: String,
    url: String,
    stopped: bool,
}

impl Traced {
    fn start(data: &Path, trace: &Path) -> Traced {
        let mut strace = Command::new("strace")
            .args(["-f", "-qq", "-yy", "-s", "24", "-o"])
            .arg(trace)
            .args(["-e", "trace=write,writev,sendto,sendmsg,pwrite64,pwritev,pwritev2,fsync,fdatasync,sync_file_range"])
            .arg(bin_dir().join("sync-server"))
            .args(["serve", "--listen", "127.0.0.1:0", "--demo", "--data"])
            .arg(data)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .spawn()
            .expect("start strace");
        let url = listening_url(&mut strace);
        let children = std::fs::read_to_string(format!("/proc/{0}/task/{0}/children", strace.id())).unwrap();
        let server_pid = children.split_whitespace().next().and_then(|p| p.parse().ok()).expect("the server's pid");
        // Started when the store opens, before the server listens.
        let checkpointer = std::fs::read_dir(format!("/proc/{server_pid}/task"))
            .unwrap()
            .filter_map(|t| t.ok())
            .find(|t| std::fs::read_to_string(t.path().join("comm")).is_ok_and(|c| c.trim() == "checkpoint"))
            .map(|t| t.file_name().to_string_lossy().into_owned())
            .expect("the server's checkpoint thread");
        Traced { strace, server_pid, checkpointer, url, stopped: false }
    }

    fn stop(&mut self) {
        if std::mem::replace(&mut self.stopped, true) {
            return;
        }
        let _ = Command::new("kill").arg("-TERM").arg(self.server_pid.to_string()).status();
        let _ = self.strace.wait();
    }
}

impl Drop for Traced {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A file whose writes a later answer may stand on.
fn durable_file(path: &str) -> bool {
    path.ends_with("-wal") || path.ends_with(".pack") || path.contains("/blobs/partial/")
}

/// What the trace shows at one moment.
enum Event {
    /// A write to a durable file ended.
    Wrote(String),
    /// A flush of a file ended; it began at event `since`, so it covers the writes that ended before.
    Flushed { path: String, since: usize },
    /// A successful HTTP answer began to go out.
    Answer(String),
}

/// The events of a `strace -f -yy` trace, in order. A call split by another thread's (`<unfinished ...>`,
/// `<... resumed>`) begins at its first line and ends at its second.
fn events(trace: &str, ignored_thread: &str) -> Vec<Event> {
    let mut out = Vec::new();
    // For each thread, the call it has under way: name, file, and where it began among the events.
    let mut unfinished: HashMap<&str, (String, String, usize)> = HashMap::new();
    let path_of = |args: &str| -> String {
        let start = args.find('<').map_or(0, |i| i + 1);
        let end = args[start..].find('>').map_or(start, |i| start + i);
        args[start..end].to_owned()
    };
    for line in trace.lines() {
        let Some((pid, call)) = line.split_once(' ') else { continue };
        if pid == ignored_thread {
            continue;
        }
        let call = call.trim_start();
        if let Some(rest) = call.strip_prefix("<... ") {
            let Some((name, path, since)) = unfinished.remove(pid) else { continue };
            let ok = !rest.contains("= -1");
            match name.as_str() {
                "fsync" | "fdatasync" if ok => out.push(Event::Flushed { path, since }),
                "pwrite64" | "pwritev" | "pwritev2" | "write" | "writev" if ok && durable_file(&path) => {
                    out.push(Event::Wrote(path))
                }
                _ => {}
            }
            continue;
        }
        let Some((name, args)) = call.split_once('(') else { continue };
        let path = path_of(args);
        let finished = !call.ends_with("<unfinished ...>");
        let ok = finished && !call.contains("= -1");
        match name {
            "fsync" | "fdatasync" if ok => out.push(Event::Flushed { path: path.clone(), since: out.len() }),
            "write" | "writev" | "sendto" | "sendmsg" if path.starts_with("TCP:") => {
                // The answer's status line: the first bytes written, as strace quotes them.
                let status = args.find("\"HTTP/1.1 ").map(|i| &args[i + 10..]).unwrap_or("");
                if status.starts_with('2') {
                    out.push(Event::Answer(status.chars().take(3).collect()));
                }
            }
            "pwrite64" | "pwritev" | "pwritev2" | "write" | "writev" if ok && durable_file(&path) => {
                out.push(Event::Wrote(path.clone()))
            }
            _ => {}
        }
        if !finished {
            unfinished.insert(pid, (name.to_owned(), path, out.len()));
        }
    }
    out
}

/// Checks the trace; returns how many answers were checked and how many flushes of each kind were seen.
fn check(trace: &str, ignored_thread: &str) -> (usize, HashMap<&'static str, usize>) {
    // For each file: ends of writes not yet covered, as places in the event list.
    let mut dirty: HashMap<String, Vec<usize>> = HashMap::new();
    let mut answers = 0;
    let mut flushes: HashMap<&'static str, usize> = HashMap::new();
    for (i, event) in events(trace, ignored_thread).into_iter().enumerate() {
        match event {
            Event::Wrote(path) => {
                if path.ends_with("-wal") {
                    let packs: Vec<&String> =
                        dirty.iter().filter(|(p, w)| p.ends_with(".pack") && !w.is_empty()).map(|(p, _)| p).collect();
                    assert!(packs.is_empty(), "the log was written while these packs were not flushed: {packs:?}");
                }
                dirty.entry(path).or_default().push(i);
            }
            Event::Flushed { path, since } => {
                if let Some(writes) = dirty.get_mut(&path) {
                    writes.retain(|&w| w >= since);
                }
                let kind = if path.ends_with("-wal") {
                    "log"
                } else if path.ends_with(".pack") {
                    "pack"
                } else if path.contains("/blobs/partial/") {
                    "partial"
                } else {
                    "other"
                };
                *flushes.entry(kind).or_default() += 1;
            }
            Event::Answer(status) => {
                answers += 1;
                let unflushed: Vec<&String> = dirty.iter().filter(|(_, w)| !w.is_empty()).map(|(p, _)| p).collect();
                assert!(
                    unflushed.is_empty(),
                    "a {status} answer went out before these writes were flushed: {unflushed:?}"
                );
            }
        }
    }
    (answers, flushes)
}

#[test]
fn every_answer_goes_out_after_what_it_acknowledges_is_flushed() {
    if Command::new("strace").arg("-V").output().is_err() {
        assert!(std::env::var_os("CI").is_none(), "CI installs strace (scripts/install-system-deps.sh); it is missing");
        eprintln!("strace is not installed: this test needs it (apt-get install strace)");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let trace_path = tmp.path().join("trace.txt");
    let mut server = Traced::start(&tmp.path().join("server"), &trace_path);
    let api = Api::new(&server.url);
    let (device_id, token) = api.register("inspector1");

    // Photos whole, one sent again, and one in two chunks.
    let (a, b, c) = (photo(290_000, 1), photo(5_000, 2), photo(300_000, 3));
    for (bytes, status) in [(&a, 201), (&b, 201), (&a, 200)] {
        assert_eq!(api.put_blob(&token, &sha256_hex(bytes), "image/jpeg", bytes.clone()).status, status);
    }
    let c_sha = sha256_hex(&c);
    for (from, to, status) in [(0, 200_000, 204), (200_000, c.len(), 204)] {
        assert_eq!(api.patch_blob(&token, &c_sha, from, c.len(), &c[from..to]).status, status);
    }

    // Findings: one op, the same again (answered `duplicate`), then a batch of three.
    let sync = |ops: serde_json::Value| {
        api.post("/sync", Some(&token), &json!({"device_id": device_id, "ops": ops, "cursor": null}))
    };
    let first = json!({"seq": 1, "kind": "finding.create",
                       "body": finding_body(&uuid::Uuid::now_v7().to_string(), "C0105", &sha256_hex(&a), 41.8)});
    assert_eq!(sync(json!([first.clone()])).body["results"][0]["status"], "applied");
    assert_eq!(sync(json!([first])).body["results"][0]["status"], "duplicate");
    let batch: Vec<_> = [(&b, 41.81), (&c, 41.82), (&a, 41.83)]
        .iter()
        .enumerate()
        .map(|(i, (p, lat))| {
            json!({"seq": i + 2, "kind": "finding.create",
                   "body": finding_body(&uuid::Uuid::now_v7().to_string(), "C0105", &sha256_hex(p), *lat)})
        })
        .collect();
    let answer = sync(json!(batch));
    assert!(answer.body["results"].as_array().unwrap().iter().all(|r| r["status"] == "applied"), "{}", answer.body);
    server.stop();

    let trace = std::fs::read_to_string(&trace_path).unwrap();
    let (answers, flushes) = check(&trace, &server.checkpointer);
    // The register, 3 PUTs, 2 PATCHes and 3 syncs at least: the check ran on the answers that matter.
    assert!(answers >= 9, "only {answers} successful answers were found in the trace");
    for kind in ["log", "pack", "partial"] {
        assert!(flushes.get(kind).is_some_and(|&n| n > 0), "no flush of a {kind} file was traced: {flushes:?}");
    }
}
