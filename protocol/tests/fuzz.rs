//! Property-based fuzzing of what the server decodes from the wire: sync requests, their ops, findings and
//! dictionaries. Whatever comes in, decoding answers `Ok` or an error and never panics; what is accepted
//! keeps the contract's promises; an accepted finding encodes and decodes to itself.
//!
//! CI runs 2,048 cases per property; `scripts/fuzz.sh` runs many more. Inputs that once
//! failed are kept in `tests/fuzz-corpus/` (replayed by every run) and in proptest's own regression file.

use chrono::{DateTime, Utc};
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use protocol::json::{DecodeError, decode_slice};
use protocol::{Dictionary, Finding, Op, SyncRequestRaw};
use serde_json::{Value, json};

/// 2,048 cases per property unless `PROPTEST_CASES` says otherwise: decoding is cheap, and a rule broken for
/// one field of twenty needs that many to be met.
fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(2048);
    ProptestConfig {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fuzz.proptest-regressions"
        )))),
        ..ProptestConfig::default()
    }
}

const SHA: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

fn finding() -> Value {
    json!({"id": "0190f5a4-7c1e-7000-8000-000000000001", "category": "C0101", "description": "井盖缺失",
           "urgent": false, "fixed_on_spot": false,
           "location": {"lat": 41.7968, "lon": 123.4328, "accuracy_m": 6.5, "source": "gps",
                        "fixed_at": "2026-12-04T09:29:58+08:00"},
           "address": "中街路 12 号", "road": "中街路", "grid": null, "facility_code": null,
           "observed_at": "2026-12-04T09:30:00+08:00",
           "photos": [{"sha256": SHA, "role": "before", "taken_at": "2026-12-04T09:29:50+08:00",
                       "width": 1600, "height": 1200, "bytes": 245000}]})
}

fn request() -> Vec<u8> {
    let track = json!({"patrol_id": "0190f5a4-7c1e-7000-8000-000000000002",
                       "points": [{"t": "2026-12-04T09:31:00+08:00", "lat": 41.79, "lon": 123.43, "accuracy_m": 5.0}]});
    serde_json::to_vec(&json!({"device_id": "0190f5a4-7c1e-7000-8000-0000000000aa", "cursor": "abc",
        "ops": [{"seq": 41, "kind": "finding.create", "body": finding()},
                {"seq": 42, "kind": "patrol.track", "body": track}]}))
    .unwrap()
}

fn now() -> DateTime<Utc> {
    "2026-12-04T02:00:00Z".parse().unwrap()
}

/// Everything the server does with a request body before it touches the store: the request, then each op
/// as its kind says, then a finding's rules. Panics are the failures; errors are answers.
fn decode_all(bytes: &[u8]) {
    let Ok(request) = decode_slice::<SyncRequestRaw>(bytes) else { return };
    for op in &request.ops {
        if let Ok(Op::FindingCreate(finding)) = Op::parse_str(&op.kind, op.body.get())
            && finding.validate(now(), |code| code == "C0101").is_ok()
        {
            accepted_finding_keeps_its_promises(&finding);
        }
    }
}

fn accepted_finding_keeps_its_promises(f: &Finding) {
    let l = &f.location;
    assert!(l.lat.is_finite() && (-90.0..=90.0).contains(&l.lat), "lat {}", l.lat);
    assert!(l.lon.is_finite() && (-180.0..=180.0).contains(&l.lon), "lon {}", l.lon);
    assert!(l.accuracy_m.is_finite() && l.accuracy_m >= 0.0);
    assert!((1..=protocol::MAX_PHOTOS).contains(&f.photos.len()));
    assert!(f.description.chars().count() <= protocol::MAX_DESCRIPTION_CHARS);
    assert!(f.photos.iter().all(|p| p.sha256.len() == 64));
    // What is kept is what comes back: encode and decode give the same finding.
    let again: Finding = serde_json::from_str(&serde_json::to_string(f).unwrap()).unwrap();
    assert_eq!(&again, f);
}

/// JSON values a hostile client might put in any field: huge and tiny numbers, odd text, nesting.
fn hostile_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        prop::num::f64::NORMAL.prop_map(|n| json!(n)),
        prop::sample::select(vec![1e308, -1e308, 5e-324, 0.0, -0.0, 90.000001, -180.5, 1e19, 4.2e9])
            .prop_map(|n| json!(n)),
        ".{0,40}".prop_map(Value::String),
        prop::sample::select(vec![
            "'; DROP TABLE findings; --".to_owned(),
            "../../etc/passwd".to_owned(),
            "\u{0}\u{1b}[31m".to_owned(),
            "中".repeat(2001),
            "9999-12-31T23:59:59+14:00".to_owned(),
            "0000-01-01T00:00:00Z".to_owned(),
            "2026-02-30T00:00:00Z".to_owned(),
            SHA.to_uppercase(),
        ])
        .prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,12}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A path into the finding: its fields, the location's, the first photo's.
fn finding_path() -> impl Strategy<Value = Vec<&'static str>> {
    prop::sample::select(vec![
        vec!["id"],
        vec!["patrol_id"],
        vec!["category"],
        vec!["description"],
        vec!["urgent"],
        vec!["fixed_on_spot"],
        vec!["location"],
        vec!["location", "lat"],
        vec!["location", "lon"],
        vec!["location", "accuracy_m"],
        vec!["location", "source"],
        vec!["location", "fixed_at"],
        vec!["address"],
        vec!["observed_at"],
        vec!["photos"],
        vec!["photos", "0"],
        vec!["photos", "0", "sha256"],
        vec!["photos", "0", "role"],
        vec!["photos", "0", "width"],
        vec!["photos", "0", "bytes"],
        vec!["gps"],
    ])
}

fn set(value: &mut Value, path: &[&str], new: Value) {
    let mut at = value;
    for key in &path[..path.len() - 1] {
        at = match key.parse::<usize>() {
            Ok(i) => &mut at[i],
            Err(_) => &mut at[*key],
        };
    }
    let last = path[path.len() - 1];
    match last.parse::<usize>() {
        Ok(i) => at[i] = new,
        Err(_) => at[last] = new,
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_bytes_are_answered_not_panicked_on(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        decode_all(&bytes);
    }

    /// A valid request with bytes replaced, inserted or removed: broken syntax, broken UTF-8, cut short.
    #[test]
    fn a_mutated_request_is_answered(edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0..3u8), 1..8)) {
        let mut bytes = request();
        for (at, byte, how) in edits {
            let i = at.index(bytes.len());
            match how {
                0 => bytes[i] = byte,
                1 => bytes.insert(i, byte),
                _ => { bytes.remove(i); }
            }
        }
        decode_all(&bytes);
    }

    /// Any value in any field of a finding: decoded and checked without a panic, and kept only if it is sane.
    #[test]
    fn any_value_in_any_field_of_a_finding(path in finding_path(), value in hostile_value()) {
        let mut body = finding();
        set(&mut body, &path, value);
        let request = json!({"device_id": "0190f5a4-7c1e-7000-8000-0000000000aa",
                             "ops": [{"seq": 1, "kind": "finding.create", "body": body}]});
        decode_all(&serde_json::to_vec(&request).unwrap());
    }

    /// Any kind with any body.
    #[test]
    fn any_kind_with_any_body(kind in prop::sample::select(vec!["finding.create", "patrol.start", "patrol.track",
            "patrol.end", "task.complete", "case.verify", "", "FINDING.CREATE"]), body in hostile_value()) {
        let _ = Op::parse_str(kind, &body.to_string());
    }

    /// The dictionary an admin imports: any value in any field, decoded and checked without a panic; one
    /// that passes names only departments it has, with positive, finite time limits.
    #[test]
    fn any_value_in_a_dictionary(category in 0..3usize, field in prop::sample::select(vec!["code", "name",
            "department", "time_limit_hours", "review", "branch"]), value in hostile_value()) {
        let mut dictionary: Value = serde_json::from_str(DICTIONARY).unwrap();
        dictionary["categories"][category][field] = value;
        let bytes = serde_json::to_vec(&dictionary).unwrap();
        if let Ok(d) = decode_slice::<Dictionary>(&bytes)
            && d.validate().is_ok()
        {
            for c in &d.categories {
                prop_assert!(d.departments.iter().any(|x| x.code == c.department));
                prop_assert!(c.time_limit_hours.is_finite() && c.time_limit_hours > 0.0);
            }
        }
    }
}

const DICTIONARY: &str = include_str!("../../sync-server/src/default_dictionary.json");

/// Inputs that once failed (or that are worth keeping): every file of `tests/fuzz-corpus/` is decoded as a
/// sync request and as a dictionary.
#[test]
fn the_kept_corpus_is_answered() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz-corpus");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        decode_all(&bytes);
        let _ = decode_slice::<Dictionary>(&bytes).map(|d| d.validate());
        n += 1;
    }
    assert!(n > 0, "the corpus is empty");
}

/// The decoder tells broken syntax from a wrong shape, whatever the mutation: a body that serde_json reads
/// as JSON is never answered as a syntax error.
#[test]
fn syntax_and_shape_errors_are_told_apart() {
    let bytes = br#"{"device_id": "0190f5a4-7c1e-7000-8000-0000000000aa", "ops": [{"seq": -1}]}"#;
    assert!(matches!(decode_slice::<SyncRequestRaw>(bytes), Err(DecodeError::Field(_))));
    assert!(matches!(decode_slice::<SyncRequestRaw>(b"{\"device_id\": "), Err(DecodeError::Syntax(_))));
}

/// The request the mutations start from is a good one: its finding decodes and passes the rules.
#[test]
fn the_unbroken_request_is_accepted() {
    let bytes = request();
    let request = decode_slice::<SyncRequestRaw>(&bytes).unwrap();
    let op = Op::parse_str(&request.ops[0].kind, request.ops[0].body.get());
    let Ok(Op::FindingCreate(finding)) = op else { panic!("the first op is a finding: {op:?}") };
    finding.validate(now(), |code| code == "C0101").unwrap();
}
