//! `loadgen`: simulates many devices syncing to a running sync server over real HTTP and reports
//! throughput and batch latency. Two workloads (performance.md):
//! - `ingest`: findings whose photo is already uploaded, in batches of `--batch` ops per sync; by default one
//!   photo shared by every finding and time-ordered (v7) ids, the best case for every index of the store;
//!   `--ids v4 --ingest-photos distinct` is the realistic one (random ids, a photo of each finding's own);
//! - `photos`: each finding with its own photo of `--photo-bytes`, PUT then a one-op sync;
//! - `city`: the city-scale run (`city.rs`): devices spread over `--window-secs`, each uploading its findings'
//!   photos (`--photos-per-finding`) and then syncing them, to the servers of `--server` in turn.
//!
//! Every answer is checked: a run with any op not `applied` fails.
//!
//! Each device's requests are made before the clock starts, as a phone's outbox holds its ops ready: the ops
//! serialised, and in photos mode the photos (random bytes and their SHA-256). The load generator shares the
//! server's two cores, and making them during the run cost it a third of a core (ingest) or as much CPU as
//! the server spends verifying the photos.

use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Parser, ValueEnum};
use protocol::evidence::{self, SigningKey};
use protocol::{Finding, Location, LocationSource, Op, OpStatus, PhotoRef, PhotoRole};
use rand::RngCore;
use serde::Deserialize;
use uuid::Uuid;

mod city;

#[derive(Clone, Copy, ValueEnum)]
enum Mode {
    Ingest,
    Photos,
    City,
}

/// How finding ids are made.
#[derive(Clone, Copy, ValueEnum)]
enum Ids {
    /// Time-ordered, as the app makes them.
    V7,
    /// Random: the contract accepts any RFC 4122 id, and other clients send these.
    V4,
}

/// Which photo the findings of the ingest workload name.
#[derive(Clone, Copy, ValueEnum)]
enum IngestPhotos {
    /// One photo, uploaded once, named by every finding.
    Shared,
    /// A 4 KB photo of each finding's own, all uploaded before the clock starts.
    Distinct,
}

#[derive(Parser)]
#[command(name = "loadgen", about = "Simulated devices syncing to a Tiejiaoban sync server")]
struct Args {
    /// The server's origin, e.g. http://127.0.0.1:8080; in city mode several, separated by commas, taking the
    /// devices in turn.
    #[arg(long)]
    server: String,
    #[arg(long, value_enum, default_value = "ingest")]
    mode: Mode,
    /// Concurrent devices.
    #[arg(long, default_value_t = 50)]
    devices: usize,
    /// Findings in all.
    #[arg(long, default_value_t = 20_000)]
    findings: usize,
    /// Ops per sync request (ingest mode).
    #[arg(long, default_value_t = 100)]
    batch: usize,
    /// Size of each photo (photos mode).
    #[arg(long, default_value_t = 290_000)]
    photo_bytes: usize,
    #[arg(long, default_value = "inspector1")]
    username: String,
    #[arg(long, default_value = "demo1234")]
    password: String,
    /// Open loop: the total findings per second to offer (each device sends its batches on a timer), so
    /// that latency is measured at a given load rather than at saturation. 0: as fast as answers come.
    #[arg(long, default_value_t = 0.0)]
    rate: f64,
    /// A category with chief review, so that findings wait rather than file cases.
    #[arg(long, default_value = "E0102")]
    category: String,
    /// Finding ids: time-ordered (v7) or random (v4).
    #[arg(long, value_enum, default_value = "v7")]
    ids: Ids,
    /// Ingest mode: one photo shared by all findings, or a photo of each finding's own.
    #[arg(long, value_enum, default_value = "shared")]
    ingest_photos: IngestPhotos,
    /// Each device registers an Ed25519 key and signs its ops (chained), as phones do; the signing is done
    /// before the clock starts, so the run measures the server checking the signatures.
    #[arg(long)]
    sign: bool,
    /// City mode: the window the devices come in over, evenly spread.
    #[arg(long, default_value_t = 600)]
    window_secs: u64,
    /// City mode: photos of each finding.
    #[arg(long, default_value_t = 2)]
    photos_per_finding: usize,
}

/// Bytes the server accepts as a JPEG: the JPEG signature and random filler, so each hash is new.
fn fake_jpeg(len: usize) -> (Vec<u8>, String) {
    let mut bytes = vec![0u8; len.max(16)];
    rand::rng().fill_bytes(&mut bytes);
    bytes[..3].copy_from_slice(&[0xFF, 0xD8, 0xFF]);
    let sha = protocol::digest::sha256_hex(&bytes);
    (bytes, sha)
}

fn finding(photo: &PhotoRef, args: &Args, n: usize) -> Finding {
    let now = chrono::Local::now().fixed_offset();
    Finding {
        id: match args.ids {
            Ids::V7 => Uuid::now_v7(),
            Ids::V4 => Uuid::new_v4(),
        },
        patrol_id: None,
        category: args.category.clone(),
        description: format!("load test finding {n}"),
        urgent: false,
        fixed_on_spot: false,
        location: Location {
            lat: 41.70 + (n % 1000) as f64 * 0.0001,
            lon: 123.40 + (n / 1000) as f64 * 0.0001,
            accuracy_m: 5.0,
            source: LocationSource::Gps,
            fixed_at: now,
        },
        address: None,
        road: None,
        grid: None,
        facility_code: None,
        observed_at: now,
        photos: vec![photo.clone()],
        gps: None,
    }
}

/// What `loadgen` reads of a sync answer (the contract's `SyncResponse` has more).
#[derive(Deserialize)]
struct Answer {
    results: Vec<AnswerResult>,
    cursor: String,
}

#[derive(Deserialize)]
struct AnswerResult {
    seq: u64,
    status: OpStatus,
    #[serde(default)]
    error: Option<serde_json::Value>,
}

/// One sync request made ready before the clock starts: its ops as JSON, and the photo it needs uploaded.
struct Batch {
    ops_json: String,
    count: usize,
    photo: Option<(Vec<u8>, String)>,
}

/// A photo's bytes and its SHA-256.
type Photo = (Vec<u8>, String);

/// Every request of one device, in order, with seqs from 1, and the photos to upload before the clock starts.
fn plan_device(
    args: &Args,
    shared: &PhotoRef,
    d: usize,
    per_device: usize,
    signer: Option<(Uuid, &SigningKey)>,
) -> (Vec<Batch>, Vec<Photo>) {
    let mut prev: Option<String> = None;
    let mut batches = Vec::new();
    let mut preload = Vec::new();
    let (mut seq, mut done) = (0u64, 0usize);
    while done < per_device {
        let take = match args.mode {
            Mode::Ingest => args.batch.min(per_device - done),
            Mode::Photos | Mode::City => 1,
        };
        let mut ops = Vec::with_capacity(take);
        let mut photo = None;
        for i in 0..take {
            let used = match (args.mode, args.ingest_photos) {
                (Mode::Ingest, IngestPhotos::Shared) => shared.clone(),
                (Mode::Ingest, IngestPhotos::Distinct) => {
                    let (bytes, sha) = fake_jpeg(4096);
                    let used = PhotoRef { sha256: sha.clone(), bytes: bytes.len() as u64, ..shared.clone() };
                    preload.push((bytes, sha));
                    used
                }
                (Mode::Photos | Mode::City, _) => {
                    let (bytes, sha) = fake_jpeg(args.photo_bytes);
                    let used = PhotoRef { sha256: sha.clone(), bytes: bytes.len() as u64, ..shared.clone() };
                    photo = Some((bytes, sha));
                    used
                }
            };
            seq += 1;
            let mut op = Op::FindingCreate(finding(&used, args, d * per_device + done + i)).envelope(seq);
            if let Some((device_id, key)) = signer {
                let signed = evidence::signed_bytes(device_id, seq, &op.kind, &op.body, prev.as_deref());
                op.sig = Some(key.sign(&signed));
                op.prev = prev.replace(evidence::link(&signed));
            }
            ops.push(op);
        }
        batches.push(Batch { ops_json: serde_json::to_string(&ops).unwrap_or_default(), count: take, photo });
        done += take;
    }
    (batches, preload)
}

struct Client {
    http: reqwest::Client,
    base: String,
}

impl Client {
    async fn register(&self, args: &Args, key: Option<&SigningKey>) -> Result<(Uuid, String), String> {
        let id = Uuid::now_v7();
        let public_key = key.map(SigningKey::public_key);
        let body = serde_json::json!({"username": args.username, "password": args.password,
            "device": {"id": id, "name": "loadgen", "platform": "loadgen", "app_version": "0", "public_key": public_key}});
        let r = self
            .http
            .post(format!("{}/devices/register", self.base))
            .json(&body)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if r.status().as_u16() != 201 {
            return Err(format!("register: {}", r.text().await.unwrap_or_default()));
        }
        let v: serde_json::Value = r.json().await.map_err(|e| e.to_string())?;
        Ok((id, v["token"].as_str().unwrap_or_default().to_owned()))
    }

    async fn put(&self, token: &str, bytes: Vec<u8>, sha: &str) -> Result<(), String> {
        let r = self
            .http
            .put(format!("{}/blobs/{sha}", self.base))
            .bearer_auth(token)
            .header("Content-Type", "image/jpeg")
            .body(bytes)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if r.status().is_success() { Ok(()) } else { Err(format!("upload: {}", r.status())) }
    }

    /// Sends one sync request of ops already serialised; reads only the per-op results and the cursor.
    async fn sync(&self, token: &str, device_id: Uuid, ops_json: &str, cursor: Option<&str>) -> Result<Answer, String> {
        let cursor = serde_json::to_string(&cursor).map_err(|e| e.to_string())?;
        let body = format!(r#"{{"device_id":"{device_id}","cursor":{cursor},"ops":{ops_json}}}"#);
        let r = self
            .http
            .post(format!("{}/sync", self.base))
            .bearer_auth(token)
            .header("Content-Type", "application/json")
            .body(body)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if !r.status().is_success() {
            return Err(format!("sync: {} {}", r.status(), r.text().await.unwrap_or_default()));
        }
        r.json().await.map_err(|e| e.to_string())
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Arc::new(Args::parse());
    let http = reqwest::Client::builder().pool_max_idle_per_host(args.devices.max(1)).build().expect("http client");
    let clients: Vec<Arc<Client>> = args
        .server
        .split(',')
        .map(|s| {
            Arc::new(Client { http: http.clone(), base: format!("{}{}", s.trim_end_matches('/'), protocol::API_BASE) })
        })
        .collect();
    let outcome = match args.mode {
        Mode::City => city::run(args, clients).await,
        _ => run(args, clients[0].clone()).await,
    };
    match outcome {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(args: Arc<Args>, client: Arc<Client>) -> Result<(), String> {
    let mut devices = Vec::new();
    let mut keys = Vec::new();
    for _ in 0..args.devices {
        let key = if args.sign { Some(SigningKey::generate()?.0) } else { None };
        devices.push(client.register(&args, key.as_ref()).await?);
        keys.push(key);
    }
    let ids: Vec<Uuid> = devices.iter().map(|(id, _)| *id).collect();
    // The ingest workload names one photo already on the server.
    let (bytes, sha) = fake_jpeg(4096);
    client.put(&devices[0].1, bytes, &sha).await?;
    let shared =
        PhotoRef { sha256: sha, role: PhotoRole::Before, taken_at: None, width: 1600, height: 1200, bytes: 4096 };

    let per_device = args.findings.div_ceil(args.devices);
    let planner = args.clone();
    let (plans, preloads): (Vec<Vec<Batch>>, Vec<Vec<Photo>>) = tokio::task::spawn_blocking(move || {
        (0..planner.devices)
            .map(|d| plan_device(&planner, &shared, d, per_device, keys[d].as_ref().map(|k| (ids[d], k))))
            .unzip()
    })
    .await
    .map_err(|e| e.to_string())?;
    // The photos of `--ingest-photos distinct`, uploaded by their devices side by side.
    let mut uploads = Vec::new();
    for ((_, token), photos) in devices.iter().zip(preloads) {
        let (client, token) = (client.clone(), token.clone());
        uploads.push(tokio::spawn(async move {
            for (bytes, sha) in photos {
                client.put(&token, bytes, &sha).await?;
            }
            Ok::<_, String>(())
        }));
    }
    for u in uploads {
        u.await.map_err(|e| e.to_string())??;
    }
    let started = Instant::now();
    let mut handles = Vec::new();
    for (d, ((device_id, token), plan)) in devices.into_iter().zip(plans).enumerate() {
        let (args, client) = (args.clone(), client.clone());
        handles.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut cursor: Option<String> = None;
            let mut done = 0;
            let mut uploaded = 0u64;
            let mut ticker = (args.rate > 0.0).then(|| {
                let batches_per_s = args.rate / (args.batch as f64 * args.devices as f64);
                let period = Duration::from_secs_f64(1.0 / batches_per_s);
                // Devices are not in step: each starts at its own phase of the period.
                let phase = period.mul_f64(d as f64 / args.devices as f64);
                let mut t = tokio::time::interval_at(tokio::time::Instant::now() + phase, period);
                t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                t
            });
            for batch in plan {
                if let Some(t) = ticker.as_mut() {
                    t.tick().await;
                }
                let t0 = Instant::now();
                if let Some((bytes, sha)) = batch.photo {
                    uploaded += bytes.len() as u64;
                    client.put(&token, bytes, &sha).await?;
                }
                let answer = client.sync(&token, device_id, &batch.ops_json, cursor.as_deref()).await?;
                latencies.push(t0.elapsed());
                if answer.results.len() != batch.count {
                    return Err(format!("{} results for {} ops", answer.results.len(), batch.count));
                }
                if let Some(bad) = answer.results.iter().find(|r| r.status != OpStatus::Applied) {
                    return Err(format!("op {} was {:?}: {:?}", bad.seq, bad.status, bad.error));
                }
                cursor = Some(answer.cursor);
                done += batch.count;
            }
            Ok::<_, String>((latencies, done, uploaded))
        }));
    }
    let mut latencies = Vec::new();
    let mut total = 0;
    let mut bytes = 0;
    for h in handles {
        let (l, n, b) = h.await.map_err(|e| e.to_string())??;
        latencies.extend(l);
        total += n;
        bytes += b;
    }
    let elapsed = started.elapsed();
    latencies.sort();
    let rate = total as f64 / elapsed.as_secs_f64();
    println!(
        "mode={} ids={} devices={} offered={} findings={} elapsed={:.2}s rate={:.0}/s requests={} p50={:.1}ms p99={:.1}ms max={:.1}ms{}",
        match (args.mode, args.ingest_photos) {
            (Mode::Ingest, IngestPhotos::Shared) => "ingest",
            (Mode::Ingest, IngestPhotos::Distinct) => "ingest-distinct-photos",
            (Mode::Photos, _) => "photos",
            (Mode::City, _) => "city",
        },
        match args.ids {
            Ids::V7 => "v7",
            Ids::V4 => "v4",
        },
        args.devices,
        if args.rate > 0.0 { format!("{:.0}/s", args.rate) } else { "max".into() },
        total,
        elapsed.as_secs_f64(),
        rate,
        latencies.len(),
        percentile(&latencies, 0.5).as_secs_f64() * 1000.0,
        percentile(&latencies, 0.99).as_secs_f64() * 1000.0,
        latencies.last().copied().unwrap_or_default().as_secs_f64() * 1000.0,
        if bytes > 0 {
            format!(" photo_MB/s={:.1}", bytes as f64 / elapsed.as_secs_f64() / 1e6)
        } else {
            String::new()
        }
    );
    Ok(())
}
