//! The store's share of ingest, in process: `Store::apply_ops` on batches of 100 `finding.create` ops
//! (photos already uploaded) against a real SQLite file with `synchronous=FULL`, from as many threads as
//! the machine has cores (each a device sending batch after batch), as the server's blocking pool runs
//! them, each request's JSON parsed as the server parses it. No HTTP: this bounds the server's durable
//! findings per second whatever the number of devices.
//!
//! Two stores in turns, round by round: one whose dictionary has no grids, one with a city's 10,000 unit grids
//! (every finding is then placed by point-in-polygon), so that the cost of the grids is read off one run.
//! `INGEST_WEBHOOK=1` instead sends findings of an automatic category (each filed, or joined to a case, as it
//! comes) to both, the second with a webhook registered for every case event: the cost of the outbox.
//!
//! Run: `cargo bench -p sync-server --bench ingest` (figures go to BENCHMARKS.md).

use std::time::{Duration, Instant};

use chrono::Utc;
use protocol::{OpEnvelopeRaw, OpStatus};
use sync_server::blobs::BlobMeta;
use sync_server::db::{PhotoStore, SqliteStore, Store, SyncContext};
use sync_server::domain::ops;
use sync_server::domain::webhooks::Event;
use sync_server::principal::Principal;
use uuid::Uuid;

mod support;

type Device = (Principal, Vec<String>);

const BATCH: usize = 100;

#[derive(serde::Deserialize)]
struct Batch<'a> {
    #[serde(borrow)]
    ops: Vec<OpEnvelopeRaw<'a>>,
}
const BATCHES: usize = 300;
const ROUNDS: usize = 10;

fn percentile(v: &mut [Duration], p: f64) -> Duration {
    v.sort();
    v[((v.len() - 1) as f64 * p).round() as usize]
}

/// A store with an inspector, the shared photo, and one device per thread with its batches.
fn store_with_devices(
    dir: &std::path::Path,
    threads: usize,
    grids: bool,
    (category, webhook): (&str, bool),
) -> (SqliteStore, Vec<Device>) {
    let store = support::open_store(dir);
    if webhook {
        let hook = sync_server::domain::webhooks::NewWebhook {
            url: "http://127.0.0.1:9/hook".into(),
            events: vec![Event::CaseFiled, Event::CaseChanged],
            secret: "bench".into(),
            format: Default::default(),
            department: None,
            description: String::new(),
        };
        store.add_webhook(&hook, "admin", Utc::now()).unwrap();
    }
    if grids {
        let mut dictionary = store.dictionary().unwrap().unwrap();
        dictionary.grids = places::fixtures::city_grids();
        store.import_dictionary(dictionary, Utc::now()).unwrap();
    }
    let now = Utc::now();
    let user = support::inspector(&store, "inspector1", "一中队");
    let sha = "ab".repeat(32);
    store
        .record_blobs(
            &[(
                BlobMeta { sha256: sha.clone(), bytes: 300_000, content_type: "image/jpeg".into(), packed: None },
                user.id,
            )],
            now,
        )
        .unwrap();
    let observed = chrono::Local::now().fixed_offset().to_rfc3339();
    // Each batch as the request's text, parsed on each call as the server does. The positions lie among the
    // grids of the city fixture.
    let batches = |first: usize| -> Vec<String> {
        (0..BATCHES)
            .map(|b| {
                (0..BATCH)
                    .map(|i| {
                        let n = first + b * BATCH + i;
                        serde_json::json!({
                            "seq": (b * BATCH + i) as u64 + 1,
                            "kind": "finding.create",
                            "body": serde_json::json!({
                                "id": Uuid::now_v7(), "patrol_id": null, "category": category,
                                "description": format!("人行道堆放垃圾 {n}"), "urgent": false, "fixed_on_spot": false,
                                "location": {"lat": 41.75 + (n % 1000) as f64 * 0.0001, "lon": 123.36 + (n / 1000) as f64 * 0.0001,
                                             "accuracy_m": 5.0, "source": "gps", "fixed_at": observed},
                                "address": null, "road": null, "grid": null, "facility_code": null, "observed_at": observed,
                                "photos": [{"sha256": sha, "role": "before", "taken_at": observed, "width": 1600, "height": 1200, "bytes": 300000}]
                            }),
                        })
                    })
                    .collect::<Vec<_>>()
            })
            .map(|ops| serde_json::json!({ "ops": ops }).to_string())
            .collect()
    };
    let devices = (0..threads)
        .map(|t| (support::device(&store, &user, &format!("bench-{t}")), batches(t * BATCHES * BATCH)))
        .collect();
    (store, devices)
}

/// Each device sends its batches `range` from its own thread; returns the wall time and each batch's time.
fn run(store: &SqliteStore, devices: &[Device], range: std::ops::Range<usize>) -> (Duration, Vec<Duration>) {
    let start = Instant::now();
    let times: Vec<Duration> = std::thread::scope(|scope| {
        let handles: Vec<_> = devices
            .iter()
            .map(|(principal, batches)| {
                let range = range.clone();
                scope.spawn(move || {
                    let device_id = principal.device_id.unwrap();
                    batches[range]
                        .iter()
                        .map(|text| {
                            let ctx = SyncContext {
                                principal,
                                device_id,
                                now: Utc::now(),
                                backlog: None,
                                dictionary_version: None,
                            };
                            let t = Instant::now();
                            let request: Batch<'_> = serde_json::from_str(text).unwrap();
                            let prepared = ops::prepare(ctx.now, &request.ops, None, store.category_check());
                            let results = store.apply_ops(&ctx, prepared).unwrap();
                            let took = t.elapsed();
                            assert!(results.iter().all(|r| r.status == OpStatus::Applied), "{results:?}");
                            took
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    (start.elapsed(), times)
}

fn main() {
    let threads = std::thread::available_parallelism().map(usize::from).unwrap_or(2);
    let (plain_dir, gridded_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let webhook = std::env::var("INGEST_WEBHOOK").is_ok_and(|v| v == "1");
    let category = if webhook { "C0101" } else { "E0102" };
    let (plain, plain_devices) = store_with_devices(plain_dir.path(), threads, false, (category, false));
    // `INGEST_CONTROL=1`: the second store without grids too, to see what the turns alone make of two equal stores.
    let control = std::env::var("INGEST_CONTROL").is_ok_and(|v| v == "1");
    let (gridded, gridded_devices) =
        store_with_devices(gridded_dir.path(), threads, !control && !webhook, (category, webhook));
    let per_round = BATCHES / ROUNDS;
    let findings = threads * per_round * BATCH;
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let (mut rates, mut all_times) = ([Vec::new(), Vec::new()], [Vec::new(), Vec::new()]);
    for round in 0..ROUNDS {
        let range = round * per_round..(round + 1) * per_round;
        // Who goes first alternates, so that neither always meets the fuller disk cache.
        let order = if round % 2 == 0 { [0, 1] } else { [1, 0] };
        for which in order {
            let (store, devices) = if which == 0 { (&plain, &plain_devices) } else { (&gridded, &gridded_devices) };
            let (total, times) = run(store, devices, range.clone());
            rates[which].push(findings as f64 / total.as_secs_f64());
            all_times[which].extend(times);
        }
    }
    let (first, second) = match (control, webhook) {
        (_, true) => ("filed at once, no webhook", "filed at once, a webhook on every case event"),
        (true, _) => ("no grids", "no grids (control)"),
        _ => ("no grids", "10,000 grids"),
    };
    for (which, name) in [(0, first), (1, second)] {
        let mut r = rates[which].clone();
        r.sort_by(f64::total_cmp);
        println!(
            "apply_ops from {threads} threads, batches of {BATCH}, {name}: {:.0} findings/s (median of {ROUNDS} rounds of {findings}; {:.0}–{:.0}); batch p50 {:.2} ms, p99 {:.2} ms",
            r[ROUNDS / 2],
            r[0],
            r[ROUNDS - 1],
            ms(percentile(&mut all_times[which], 0.5)),
            ms(percentile(&mut all_times[which], 0.99)),
        );
    }
    let ratios: Vec<f64> = rates[1].iter().zip(&rates[0]).map(|(g, p)| g / p).collect();
    let mut sorted = ratios.clone();
    sorted.sort_by(f64::total_cmp);
    println!(
        "second ÷ first ({second} ÷ {first}), round by round: {:?}; median {:.3}",
        ratios.iter().map(|r| format!("{r:.3}")).collect::<Vec<_>>(),
        sorted[ROUNDS / 2]
    );
}
