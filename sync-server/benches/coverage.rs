//! Patrol coverage of a month, in process: 200 inspectors, 22 patrol days each, a track of 1,440 points a day
//! (one every 20 s over 8 h), sent as `patrol.start`, `patrol.track` and `patrol.end` ops into a real SQLite
//! store whose dictionary holds a city's 200 roads and 10,000 grids. Then `Store::coverage` for the month:
//! the first ask and the next ones (sums of what is kept), by road and by grid.
//!
//! Run: `cargo bench -p sync-server --bench coverage` (figures go to BENCHMARKS.md). `COVERAGE_INSPECTORS`
//! and `COVERAGE_DAYS` change the size; `COVERAGE_ENDED=0` leaves the patrols open (the cold first ask).

use std::time::{Duration, Instant};

use chrono::{Duration as Days, Utc};
use protocol::{OpEnvelopeRaw, OpStatus};
use sync_server::db::{Store, SyncContext};
use sync_server::domain::coverage::CoverageBy;
use sync_server::domain::ops;
use sync_server::policy::Scope;
use uuid::Uuid;

mod support;

const POINTS: usize = 1_440;

#[derive(serde::Deserialize)]
struct Batch<'a> {
    #[serde(borrow)]
    ops: Vec<OpEnvelopeRaw<'a>>,
}

fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

fn main() {
    let inspectors = env("COVERAGE_INSPECTORS", 200);
    let days = env("COVERAGE_DAYS", 22);
    // Ended patrols have their coverage walked as they end; `COVERAGE_ENDED=0` leaves them open, so that the
    // month's first ask walks every track (the cold case).
    let ended = env("COVERAGE_ENDED", 1) == 1;
    let tmp = tempfile::tempdir().unwrap();
    let store = support::open_store(tmp.path());
    let mut dictionary = store.dictionary().unwrap().unwrap();
    dictionary.roads = places::fixtures::city_roads();
    dictionary.grids = places::fixtures::city_grids();
    store.import_dictionary(dictionary, Utc::now()).unwrap();

    let setup = Instant::now();
    let now = Utc::now();
    let month_start = now - Days::days(days as i64 + 1);
    let mut seq = 0u64;
    for i in 0..inspectors {
        let user = support::inspector(&store, &format!("inspector{i}"), &format!("{}中队", i % 10));
        let principal = support::device(&store, &user, &format!("phone-{i}"));
        let device_id = principal.device_id.unwrap();
        for day in 0..days {
            let patrol = Uuid::now_v7();
            let start = month_start + Days::days(day as i64) + Days::hours(1);
            // Along a street row of the inspector's area, east then back west on the next row.
            let row = (i * 3 + day) % 98;
            let points: Vec<serde_json::Value> = (0..POINTS)
                .map(|k| {
                    let (lap, step) = (k / 720, k % 720);
                    let lon = if lap == 0 { 123.35 + step as f64 * 0.00013 } else { 123.4436 - step as f64 * 0.00013 };
                    let lat = 41.7505 + (row + lap) as f64 * 0.001;
                    serde_json::json!({"t": (start + Days::seconds(20 * k as i64)).to_rfc3339(), "lat": lat, "lon": lon, "accuracy_m": 6.0})
                })
                .collect();
            let mut envelopes = vec![serde_json::json!({"seq": seq + 1, "kind": "patrol.start",
                "body": {"id": patrol, "started_at": start.to_rfc3339()}})];
            seq += 1;
            for chunk in points.chunks(480) {
                seq += 1;
                envelopes.push(serde_json::json!({"seq": seq, "kind": "patrol.track", "body": {"patrol_id": patrol, "points": chunk}}));
            }
            if ended {
                seq += 1;
                let end = start + Days::seconds(20 * POINTS as i64);
                envelopes.push(serde_json::json!({"seq": seq, "kind": "patrol.end",
                    "body": {"id": patrol, "ended_at": end.to_rfc3339(), "distance_m": 16_000.0}}));
            }
            let text = serde_json::json!({ "ops": envelopes }).to_string();
            let request: Batch<'_> = serde_json::from_str(&text).unwrap();
            let ctx = SyncContext { principal: &principal, device_id, now, backlog: None, dictionary_version: None };
            let prepared = ops::prepare(now, &request.ops, None, store.category_check());
            let results = store.apply_ops(&ctx, prepared).unwrap();
            assert!(results.iter().all(|r| r.status == OpStatus::Applied), "{results:?}");
        }
    }
    let patrols = inspectors * days;
    println!(
        "{patrols} patrols of {POINTS} points ({:.1} M points), {}, stored in {:.0} s",
        (patrols * POINTS) as f64 / 1e6,
        if ended { "ended (coverage walked as each ends)" } else { "left open" },
        secs(setup.elapsed())
    );

    let (from, to) = (month_start, now + Days::days(1));
    let t = Instant::now();
    let cold = store.coverage(&Scope::All, CoverageBy::Road, from, to).unwrap();
    let cold_time = t.elapsed();
    let warm = |by: CoverageBy| {
        let mut v: Vec<Duration> = (0..5)
            .map(|_| {
                let t = Instant::now();
                std::hint::black_box(store.coverage(&Scope::All, by, from, to).unwrap());
                t.elapsed()
            })
            .collect();
        v.sort();
        v[2]
    };
    let warm_roads = warm(CoverageBy::Road);
    let warm_grids = warm(CoverageBy::Grid);
    println!(
        "coverage of the month: first ask {:.2} s, then by road {:.1} ms, by grid {:.1} ms (median of 5); {} roads walked",
        secs(cold_time),
        secs(warm_roads) * 1e3,
        secs(warm_grids) * 1e3,
        cold.walked.len()
    );
}
