//! Pins the JSON form of every wire type to the text of protocol.md.

use protocol::json::{DecodeError, decode_slice};
use protocol::*;
use serde_json::{Value, json};

fn finding_json() -> Value {
    json!({
        "id": "0192f3a0-0000-7000-8000-000000000001", "patrol_id": null, "category": "E0102",
        "description": "路边暴露垃圾", "urgent": false, "fixed_on_spot": false,
        "location": {"lat": 41.7968, "lon": 123.4328, "accuracy_m": 6.5, "source": "gps", "fixed_at": "2026-11-21T09:00:00+08:00"},
        "address": null, "road": "中街路", "grid": null, "facility_code": null,
        "observed_at": "2026-11-21T09:00:05+08:00",
        "photos": [{"sha256": "a".repeat(64), "role": "before", "taken_at": "2026-11-21T09:00:01+08:00", "width": 1600, "height": 1200, "bytes": 312345}]
    })
}

fn now() -> chrono::DateTime<chrono::Utc> {
    "2026-11-21T01:05:00Z".parse().unwrap()
}

#[test]
fn finding_round_trips_exactly() {
    let v = finding_json();
    let f: Finding = serde_json::from_value(v.clone()).unwrap();
    assert_eq!(serde_json::to_value(&f).unwrap(), v);
    assert_eq!(f.location.source, LocationSource::Gps);
    assert_eq!(f.photos[0].role, PhotoRole::Before);
    assert!(f.gps.is_none());

    // A pin placed by hand with the phone's fix beside it (second wave); absent, the key is not written,
    // so a finding of the first wave keeps its body and hash.
    let mut pinned = finding_json();
    pinned["location"]["source"] = json!("manual");
    pinned["gps"] =
        json!({"lat": 41.79712, "lon": 123.43301, "accuracy_m": 7.5, "fixed_at": "2026-11-21T08:59:58+08:00"});
    let f: Finding = serde_json::from_value(pinned.clone()).unwrap();
    assert_eq!(serde_json::to_value(&f).unwrap(), pinned);
    assert_eq!(f.gps.as_ref().map(|g| g.accuracy_m), Some(7.5));
    let mut null_gps = finding_json();
    null_gps["gps"] = Value::Null;
    let f: Finding = serde_json::from_value(null_gps).unwrap();
    assert_eq!(serde_json::to_value(&f).unwrap(), finding_json(), "null is the same as absent");
}

#[test]
fn finding_validation_rules() {
    let ok = |v: Value| serde_json::from_value::<Finding>(v).unwrap().validate(now(), |c| c == "E0102");
    assert!(ok(finding_json()).is_ok());

    let field = |mutate: &dyn Fn(&mut Value)| {
        let mut v = finding_json();
        mutate(&mut v);
        ok(v).unwrap_err().field
    };
    assert_eq!(field(&|v| v["category"] = json!("X9999")), "category");
    assert_eq!(field(&|v| v["location"]["lat"] = json!(91.0)), "location.lat");
    assert_eq!(field(&|v| v["location"]["lon"] = json!(-180.5)), "location.lon");
    assert_eq!(field(&|v| v["location"]["accuracy_m"] = json!(-1)), "location.accuracy_m");
    let gps = |lat: f64, accuracy: f64| json!({"lat": lat, "lon": 123.4, "accuracy_m": accuracy, "fixed_at": "2026-11-21T09:00:00+08:00"});
    assert_eq!(field(&|v| v["gps"] = gps(-90.5, 5.0)), "gps.lat");
    assert_eq!(field(&|v| v["gps"] = gps(41.8, -2.0)), "gps.accuracy_m");
    assert_eq!(field(&|v| v["photos"] = json!([])), "photos");
    assert_eq!(field(&|v| v["description"] = json!("长".repeat(2001))), "description");
    assert_eq!(field(&|v| v["observed_at"] = json!("2026-11-21T01:15:01Z")), "observed_at");
    assert_eq!(field(&|v| v["photos"][0]["role"] = json!("after")), "photos[0].role");
    assert_eq!(field(&|v| v["photos"][0]["sha256"] = json!("ABC")), "photos[0].sha256");
    let ten: Vec<Value> = (0..10).map(|_| finding_json()["photos"][0].clone()).collect();
    assert_eq!(field(&|v| v["photos"] = json!(ten)), "photos");

    // 10 minutes ahead is still fine; 2000 characters are fine; after photos with fixed_on_spot are fine.
    let mut v = finding_json();
    v["observed_at"] = json!("2026-11-21T01:15:00Z");
    v["description"] = json!("长".repeat(2000));
    v["fixed_on_spot"] = json!(true);
    v["photos"][0]["role"] = json!("after");
    assert!(ok(v).is_ok());
}

#[test]
fn sync_request_and_response_forms() {
    let req = json!({"device_id": "0192f3a0-0000-7000-8000-0000000000aa",
        "ops": [{"seq": 41, "kind": "finding.create", "body": finding_json()}], "cursor": null});
    let parsed: SyncRequest = serde_json::from_value(req.clone()).unwrap();
    assert_eq!(serde_json::to_value(&parsed).unwrap(), req);
    let op = Op::parse(&parsed.ops[0].kind, &parsed.ops[0].body).unwrap();
    assert_eq!(op.kind(), "finding.create");
    assert_eq!(op.envelope(41), parsed.ops[0]);

    let resp = json!({
        "results": [
            {"seq": 41, "status": "applied", "finding": {"id": "0192f3a0-0000-7000-8000-000000000001", "state": "pending_review", "case_no": null}},
            {"seq": 43, "status": "rejected", "error": {"code": "invalid", "message": "bad", "details": {"field": "category"}}},
            {"seq": 44, "status": "retry", "error": {"code": "missing_blobs", "message": "…", "details": {"missing": ["a"]}}}
        ],
        "changes": [
            {"kind": "finding.updated", "at": "2026-11-21T09:00:00+08:00", "finding_id": "0192f3a0-0000-7000-8000-000000000001",
             "state": "filed", "reason": null, "case": {"case_no": "20261121-0001", "state": "dispatched", "department": "HW", "due_at": "2026-11-21T13:00:00+08:00"},
             "grid": "210103101"},
            {"kind": "task.cancelled", "at": "2026-11-21T09:00:00+08:00", "task_id": "0192f3a0-0000-7000-8000-000000000002"}
        ],
        "cursor": "c", "more": false, "server_time": "2026-11-21T09:00:00+08:00"
    });
    let parsed: SyncResponse = serde_json::from_value(resp.clone()).unwrap();
    assert_eq!(serde_json::to_value(&parsed).unwrap(), resp);
    assert_eq!(parsed.results[1].error.as_ref().unwrap().field(), Some("category"));
    assert!(matches!(parsed.changes[0].body, ChangeBody::FindingUpdated(_)));
}

#[test]
fn unknown_change_kinds_do_not_break_a_sync() {
    let c: Change =
        serde_json::from_value(json!({"kind": "future.thing", "at": "2026-11-21T09:00:00Z", "x": 1})).unwrap();
    assert_eq!(c.body, ChangeBody::Unknown);
}

#[test]
fn dictionary_change_form() {
    let v = json!({"kind": "dictionary", "at": "2026-11-21T09:00:00Z", "version": 3,
        "categories": [{"code": "C0101", "name": "上水井盖", "name_en": "water-supply manhole cover", "branch": "component",
                        "parent": "C01", "department": "SW", "time_limit_hours": 6.0, "review": "auto", "urgent": true}],
        "departments": [{"code": "SW", "name": "水务"}], "roads": [{"name": "中街路", "grid": null, "points": [[41.8, 123.4]]}],
        "grids": []});
    let c: Change = serde_json::from_value(v.clone()).unwrap();
    assert_eq!(serde_json::to_value(&c).unwrap(), v);
    let ChangeBody::Dictionary(d) = c.body else { panic!("not a dictionary") };
    assert!(d.validate().is_ok());

    // A road's chief and the grids, as the second wave sends them; a first-wave form (no grids) still reads.
    let v = json!({"kind": "dictionary", "at": "2026-11-21T09:00:00Z", "version": 4, "categories": [], "departments": [],
        "roads": [{"name": "中街路", "grid": "210103101", "points": [[41.8, 123.4]], "chief": "chief1"}],
        "grids": [{"code": "210103101", "name": "中街北", "team": "一中队", "inspectors": ["inspector1"],
                   "polygon": [[[41.79, 123.42], [41.79, 123.43], [41.80, 123.43], [41.79, 123.42]]]}]});
    let c: Change = serde_json::from_value(v.clone()).unwrap();
    assert_eq!(serde_json::to_value(&c).unwrap(), v);
    let old: Change = serde_json::from_value(json!({"kind": "dictionary", "at": "2026-11-21T09:00:00Z", "version": 2,
        "categories": [], "departments": []}))
    .unwrap();
    let ChangeBody::Dictionary(d) = old.body else { panic!("not a dictionary") };
    assert!(d.grids.is_empty());
}

#[test]
fn other_op_kinds_and_task_assigned() {
    for (kind, body) in [
        (
            "patrol.start",
            json!({"id": "0192f3a0-0000-7000-8000-000000000003", "started_at": "2026-11-21T08:00:00+08:00"}),
        ),
        (
            "patrol.track",
            json!({"patrol_id": "0192f3a0-0000-7000-8000-000000000003",
            "points": [{"t": "2026-11-21T08:00:10+08:00", "lat": 41.8, "lon": 123.4, "accuracy_m": 5.0}]}),
        ),
        (
            "patrol.end",
            json!({"id": "0192f3a0-0000-7000-8000-000000000003", "ended_at": "2026-11-21T10:00:00+08:00", "distance_m": 2310.5}),
        ),
        (
            "task.complete",
            json!({"task_id": "0192f3a0-0000-7000-8000-000000000004", "result": "pass", "note": "已修复",
            "photos": [], "completed_at": "2026-11-21T10:00:00+08:00"}),
        ),
    ] {
        let op = Op::parse(kind, &body).unwrap();
        assert_eq!(op.body(), body, "{kind}");
    }
    let t = json!({"kind": "task.assigned", "at": "2026-11-21T09:00:00Z", "task": {"id": "0192f3a0-0000-7000-8000-000000000004",
        "type": "verify", "case_no": "20261121-0001", "category": "E0102",
        "location": {"lat": 41.8, "lon": 123.4, "accuracy_m": 5.0, "source": "gps", "fixed_at": "2026-11-21T09:00:00Z"},
        "address": null, "description": "", "due_at": null, "photos": ["b"]}});
    let c: Change = serde_json::from_value(t.clone()).unwrap();
    assert_eq!(serde_json::to_value(&c).unwrap(), t);
}

#[test]
fn bad_op_bodies_name_the_field() {
    let mut body = finding_json();
    body.as_object_mut().unwrap().remove("category");
    assert_eq!(Op::parse("finding.create", &body).unwrap_err().field, "category");
    body = finding_json();
    body["location"]["lat"] = json!("north");
    assert_eq!(Op::parse("finding.create", &body).unwrap_err().field, "location.lat");
    assert_eq!(Op::parse("finding.delete", &body).unwrap_err().field, "kind");
}

#[test]
fn request_bodies_tell_syntax_from_shape() {
    assert!(matches!(decode_slice::<SessionRequest>(b"not json"), Err(DecodeError::Syntax(_))));
    assert!(matches!(decode_slice::<SyncRequest>(b"[1,2"), Err(DecodeError::Syntax(_))));
    match decode_slice::<RegisterRequest>(br#"{"username": "a", "password": "b", "device": {"id": "x"}}"#) {
        Err(DecodeError::Field(f)) => assert_eq!(f.field, "device.id"),
        other => panic!("{other:?}"),
    }
    match decode_slice::<SessionRequest>(br#"{"username": "a"}"#) {
        Err(DecodeError::Field(f)) => assert_eq!(f.field, "password"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn error_body_form() {
    let e = ErrorBody { error: ApiError::invalid("category", "unknown") };
    assert_eq!(
        serde_json::to_value(&e).unwrap(),
        json!({"error": {"code": "invalid", "message": "unknown", "details": {"field": "category"}}})
    );
    assert_eq!(ErrorCode::InvalidTransition.http_status(), 409);
    assert_eq!(serde_json::to_value(ErrorCode::HashMismatch).unwrap(), json!("hash_mismatch"));
}

/// Each enum's name on the wire (serde's) is the one `as_str` gives and `parse` takes, for every variant.
#[test]
fn enum_names_are_the_wire_names() {
    use strum::IntoEnumIterator;
    fn check<T>(as_str: fn(T) -> &'static str, parse: fn(&str) -> Option<T>)
    where
        T: IntoEnumIterator + serde::Serialize + PartialEq + std::fmt::Debug + Copy,
    {
        let mut n = 0;
        for v in T::iter() {
            assert_eq!(serde_json::to_value(v).unwrap(), as_str(v), "{v:?}");
            assert_eq!(parse(as_str(v)), Some(v));
            n += 1;
        }
        assert!(n >= 4, "{n} variants");
        assert_eq!(parse("no-such-name"), None);
    }
    check(Role::as_str, Role::parse);
    check(CaseState::as_str, CaseState::parse);
    check(FindingState::as_str, FindingState::parse);
    check(TaskState::as_str, TaskState::parse);
    check(ErrorCode::as_str, |s| s.parse().ok());
}

#[test]
fn campaign_change_form() {
    let v = json!({"kind": "campaign", "at": "2026-12-01T08:00:00+08:00", "id": "manholes-dec", "name": "井盖专项整治月",
        "categories": ["C0101"], "from": "2026-12-01", "to": "2026-12-31", "grids": ["210103001"]});
    let c: Change = serde_json::from_value(v.clone()).unwrap();
    assert_eq!(serde_json::to_value(&c).unwrap(), v);
    let ChangeBody::Campaign(campaign) = c.body else { panic!("not a campaign") };
    assert!(campaign.validate().is_ok());
    assert!(campaign.runs_on(chrono::NaiveDate::from_ymd_opt(2026, 12, 31).unwrap()));
    assert!(!campaign.runs_on(chrono::NaiveDate::from_ymd_opt(2027, 1, 1).unwrap()));
}
