//! The device store's findings: drafts that stay editable until queued, the road filled in from the
//! dictionary, and the lists the app shows. Real SQLite files in a temporary folder.

use chrono::{FixedOffset, TimeZone};
use device::photo::ProcessedPhoto;
use device::store::{NewFinding, local_state};
use device::{DeviceStore, StagedPhoto};
use protocol::{Location, LocationSource, PhotoRole, SyncResponse};
use uuid::Uuid;

fn at(minute: u32) -> protocol::Timestamp {
    FixedOffset::east_opt(8 * 3600).unwrap().with_ymd_and_hms(2026, 11, 20, 9, minute, 0).unwrap()
}

/// A stored photo: the bytes need not be an image for the store, only a file named by its hash.
fn staged(store: &DeviceStore, n: u8) -> StagedPhoto {
    let jpeg = vec![n; 1000 + n as usize];
    let sha256 = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&jpeg));
    let photo = ProcessedPhoto {
        jpeg,
        sha256,
        width: 160,
        height: 120,
        taken_at: None,
        exif_position: None,
        thumbnail: Vec::new(),
        stamped: false,
    };
    store.stage_photo(&photo).unwrap()
}

fn new_finding(category: &str, photos: Vec<StagedPhoto>, lat: f64, lon: f64) -> NewFinding {
    NewFinding {
        category: category.into(),
        description: "井盖缺失".into(),
        urgent: false,
        fixed_on_spot: false,
        location: Location { lat, lon, accuracy_m: 5.0, source: LocationSource::Gps, fixed_at: at(0) },
        address: None,
        road: None,
        grid: None,
        facility_code: None,
        observed_at: at(1),
        photos: photos.into_iter().map(|p| (p, PhotoRole::Before)).collect(),
        gps: None,
    }
}

#[test]
fn a_draft_stays_editable_and_unsent_until_it_is_queued() {
    let tmp = tempfile::tempdir().unwrap();
    let mut store = DeviceStore::open(tmp.path()).unwrap();

    // A draft may start with neither category nor photos; nothing is queued for the server.
    let draft = store.save_draft(None, new_finding("", vec![], 41.8, 123.4)).unwrap();
    assert_eq!(store.pending_count().unwrap(), 0);
    let drafts = store.findings(Some(local_state::DRAFT), None, 50, 0).unwrap();
    assert_eq!(drafts.iter().map(|r| r.id).collect::<Vec<_>>(), [draft.id]);
    let status = store.status().unwrap();
    assert_eq!((status.findings, status.drafts), (1, 1));

    // Edited: category and two photos; the time it was seen stays that of the first save.
    let (a, b) = (staged(&store, 1), staged(&store, 2));
    let mut edit = new_finding("A0101", vec![a.clone(), b], 41.8, 123.4);
    edit.observed_at = at(30);
    edit.description = "两处井盖缺失".into();
    let edited = store.save_draft(Some(draft.id), edit).unwrap();
    assert_eq!(edited.id, draft.id);
    assert_eq!(edited.observed_at, at(1));
    let (row, body) = store.finding(draft.id).unwrap().unwrap();
    assert_eq!((row.local_state.as_str(), row.photos, body.category.as_str()), ("draft", 2, "A0101"));
    assert_eq!(body.description, "两处井盖缺失");
    assert_eq!(store.pending_count().unwrap(), 0);

    // Queuing checks it as a report: no photos is refused and the draft is left as it was.
    let err = store.submit_draft(draft.id, new_finding("A0101", vec![], 41.8, 123.4)).unwrap_err();
    assert!(err.to_string().contains("1 to 9 photos"), "{err}");
    assert_eq!(store.finding(draft.id).unwrap().unwrap().0.photos, 2);

    // Queued with one photo left: exactly one op, naming the draft's id, with that one photo.
    let queued = store.submit_draft(draft.id, new_finding("A0101", vec![a], 41.8, 123.4)).unwrap();
    assert_eq!(queued.id, draft.id);
    let ops = store.pending_ops(0, 100, 1 << 20).unwrap();
    assert_eq!(ops.len(), 1);
    let op = serde_json::to_value(&ops[0].envelope).unwrap();
    assert_eq!(op["kind"], "finding.create");
    assert_eq!(op["body"]["id"], draft.id.to_string());
    assert_eq!(op["body"]["photos"].as_array().unwrap().len(), 1);
    let (row, _) = store.finding(draft.id).unwrap().unwrap();
    assert_eq!((row.local_state.as_str(), row.photos), ("queued", 1));
    assert!(store.findings(Some(local_state::DRAFT), None, 50, 0).unwrap().is_empty());
    let status = store.status().unwrap();
    assert_eq!((status.findings, status.drafts), (1, 0));

    // Once queued it can no longer be changed, queued again or thrown away.
    let again = store.save_draft(Some(draft.id), new_finding("A0101", vec![], 41.8, 123.4)).unwrap_err();
    assert!(again.to_string().contains("queued already"), "{again}");
    assert!(store.submit_draft(draft.id, new_finding("A0101", vec![staged(&store, 3)], 41.8, 123.4)).is_err());
    assert!(store.delete_draft(draft.id).is_err());
    assert_eq!(store.pending_count().unwrap(), 1);

    // Another draft is thrown away: gone, with its photo rows.
    let other = store.save_draft(None, new_finding("", vec![staged(&store, 4)], 41.8, 123.4)).unwrap();
    store.delete_draft(other.id).unwrap();
    assert!(store.finding(other.id).unwrap().is_none());
    assert!(store.delete_draft(Uuid::now_v7()).is_err());

    // All of it survives reopening the store.
    drop(store);
    let store = DeviceStore::open(tmp.path()).unwrap();
    assert_eq!(store.pending_count().unwrap(), 1);
    assert_eq!(store.findings(None, None, 50, 0).unwrap().len(), 1);
}

#[test]
fn the_road_comes_from_the_dictionary_when_none_is_given() {
    let tmp = tempfile::tempdir().unwrap();
    let mut store = DeviceStore::open(tmp.path()).unwrap();
    let answer: SyncResponse = serde_json::from_value(serde_json::json!({
        "results": [], "cursor": "c1", "more": false, "server_time": "2026-11-20T09:00:00+08:00",
        "changes": [{
            "kind": "dictionary", "at": "2026-11-20T09:00:00+08:00", "version": 3,
            "categories": [{"code": "A0101", "name": "井盖", "branch": "component", "department": "SZ",
                            "time_limit_hours": 24, "review": "chief"}],
            "departments": [{"code": "SZ", "name": "市政"}],
            "roads": [{"name": "中山路", "points": [[41.800, 123.400], [41.800, 123.410]]}]
        }]
    }))
    .unwrap();
    store.apply_answer(&answer).unwrap();

    let on_road = store.queue_finding(new_finding("A0101", vec![staged(&store, 1)], 41.8001, 123.405)).unwrap();
    assert_eq!(on_road.road.as_deref(), Some("中山路"));
    let off_road = store.queue_finding(new_finding("A0101", vec![staged(&store, 2)], 41.81, 123.405)).unwrap();
    assert_eq!(off_road.road, None);
    let mut typed = new_finding("A0101", vec![staged(&store, 3)], 41.8001, 123.405);
    typed.road = Some("青年大街".into());
    assert_eq!(store.queue_finding(typed).unwrap().road.as_deref(), Some("青年大街"));
    // A category the dictionary does not know is refused, in a draft too.
    assert!(store.save_draft(None, new_finding("Z9999", vec![], 41.8, 123.4)).is_err());
}

#[test]
fn lists_filter_by_state_and_day_newest_first() {
    let tmp = tempfile::tempdir().unwrap();
    let mut store = DeviceStore::open(tmp.path()).unwrap();
    let mut ids = Vec::new();
    for i in 0..5u8 {
        ids.push(store.queue_finding(new_finding("A0101", vec![staged(&store, i)], 41.8, 123.4)).unwrap().id);
    }
    let draft = store.save_draft(None, new_finding("", vec![], 41.8, 123.4)).unwrap();
    let queued = store.findings(Some(local_state::QUEUED), None, 3, 0).unwrap();
    assert_eq!(queued.iter().map(|r| r.id).collect::<Vec<_>>(), [ids[4], ids[3], ids[2]]);
    let next = store.findings(Some(local_state::QUEUED), None, 3, 3).unwrap();
    assert_eq!(next.iter().map(|r| r.id).collect::<Vec<_>>(), [ids[1], ids[0]]);
    let day = at(1).with_timezone(&chrono::Local).format("%Y-%m-%d").to_string();
    assert_eq!(store.findings(None, Some(&day), 50, 0).unwrap().len(), 6);
    assert_eq!(store.findings(Some(local_state::DRAFT), Some(&day), 50, 0).unwrap()[0].id, draft.id);
    assert!(store.findings(None, Some("2020-01-01"), 50, 0).unwrap().is_empty());
}

#[test]
fn a_cancelled_sync_stops_before_sending_and_keeps_the_queue() {
    let tmp = tempfile::tempdir().unwrap();
    let mut store = DeviceStore::open(tmp.path()).unwrap();
    let account = device::Account {
        // Nothing listens here: a sync that did not stop would fail as unreachable instead.
        server_url: "http://127.0.0.1:9".into(),
        device_id: Uuid::now_v7(),
        token: "t".into(),
        user: serde_json::from_value(serde_json::json!({"id": Uuid::now_v7(), "username": "inspector1",
            "display_name": "巡查员", "role": "inspector", "team": "一中队"}))
        .unwrap(),
    };
    store.set_account(&account).unwrap();
    store.queue_finding(new_finding("A0101", vec![staged(&store, 1)], 41.8, 123.4)).unwrap();
    let store = std::sync::Mutex::new(store);
    let client = device::SyncClient::new(&account.server_url).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let run = |cancel: bool| {
        let flag = std::sync::atomic::AtomicBool::new(cancel);
        runtime.block_on(client.sync_with(&store, true, &mut |_| {}, Some(&flag)))
    };
    assert!(matches!(run(true), Err(device::DeviceError::Cancelled)), "a cancelled sync ends as cancelled");
    assert!(matches!(run(false), Err(device::DeviceError::Unreachable(_))), "without the flag it tries the server");
    let store = store.into_inner().unwrap();
    assert_eq!(store.pending_count().unwrap(), 1, "the report still waits");
    assert_eq!(store.pending_blobs().unwrap().len(), 1, "its photo still waits");
}

#[test]
fn the_map_reads_findings_cases_tasks_and_the_running_track_from_the_store() {
    let tmp = tempfile::tempdir().unwrap();
    let mut store = DeviceStore::open(tmp.path()).unwrap();
    let first = store.save_draft(None, new_finding("", vec![], 41.80, 123.40)).unwrap();
    let second = store.save_draft(None, new_finding("", vec![], 41.81, 123.41)).unwrap();
    // A draft moved by hand moves its marker.
    store.save_draft(Some(first.id), new_finding("", vec![], 41.805, 123.405)).unwrap();

    let patrol = store.start_patrol(at(2)).unwrap();
    for (i, lat) in [41.800, 41.801, 41.802].iter().enumerate() {
        let point = protocol::TrackPoint { t: at(3 + i as u32), lat: *lat, lon: 123.4, accuracy_m: 5.0 };
        assert!(store.track_point(point).unwrap());
    }
    let layers = store.map_layers(2000).unwrap();
    let positions: Vec<(Uuid, f64, f64)> = layers.findings.iter().map(|f| (f.id, f.lat, f.lon)).collect();
    assert_eq!(positions, [(second.id, 41.81, 123.41), (first.id, 41.805, 123.405)], "newest first");
    assert!(layers.findings.iter().all(|f| f.local_state == local_state::DRAFT));
    assert_eq!(layers.track, [[41.800, 123.4], [41.801, 123.4], [41.802, 123.4]]);
    assert_eq!(store.map_layers(1).unwrap().findings.len(), 1, "at most the limit");

    store.end_patrol(at(9)).unwrap();
    assert!(store.map_layers(2000).unwrap().track.is_empty(), "no patrol, no track");
    let _ = patrol;
}

#[test]
fn the_phone_fix_is_kept_beside_a_manual_pin_only() {
    let tmp = tempfile::tempdir().unwrap();
    let mut store = DeviceStore::open(tmp.path()).unwrap();
    let fix = protocol::GpsFix { lat: 41.7971, lon: 123.4330, accuracy_m: 8.0, fixed_at: at(0) };
    let mut pinned = new_finding("", vec![], 41.7968, 123.4328);
    pinned.location.source = LocationSource::Manual;
    pinned.gps = Some(fix.clone());
    assert_eq!(store.save_draft(None, pinned).unwrap().gps, Some(fix.clone()));
    let mut at_gps = new_finding("", vec![], 41.7968, 123.4328);
    at_gps.gps = Some(fix);
    assert_eq!(store.save_draft(None, at_gps).unwrap().gps, None, "a GPS position is its own fix");
}
