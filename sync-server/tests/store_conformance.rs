//! The storage trait's promises, written once and run against every backend: what a handler may rely on
//! whichever database sits behind `Store`. Each case takes a function that opens an empty store; the
//! `conformance!` list at the end instantiates every case for every backend (the embedded SQLite one today;
//! a second backend adds one line there and must pass the same cases).
//!
//! The cases speak to the trait only (`&dyn Store`), never to SQL, and check outcomes a client would see:
//! an op applied once and answered `duplicate` after, a case filed once, a refused transition named as such.

use std::sync::Arc;

mod support;

use chrono::{DateTime, Duration, Utc};
use protocol::{CaseState, ChangeBody, DeviceInfo, ErrorCode, FindingState, OpResult, OpStatus, Role, SyncRequestRaw};
use sync_server::blobs::BlobMeta;
use sync_server::db::{
    AccountStore, ActionInput, AttemptOutcome, CaseFilter, Claim, Decision, NewSession, NewUser, PgStore,
    RegisterOutcome, SecondFactor, SqliteStore, Store, StoreError, SyncContext,
};
use sync_server::domain::EngineSettings;
use sync_server::domain::calendar::WorkCalendar;
use sync_server::domain::exports::{ExportFilter, ExportFormat, ExportJob, ExportKind, ExportRequest};
use sync_server::domain::lifecycle::CaseAction;
use sync_server::domain::ops;
use sync_server::domain::webhooks::{Event, Format, NewWebhook};
use sync_server::policy::Scope;
use sync_server::principal::{Principal, User};
use uuid::Uuid;

/// An empty store of one backend, and whatever keeps it alive (a temporary directory, a database).
struct Opened {
    store: Arc<dyn Store>,
    _keep: Box<dyn std::any::Any>,
}

type Open = dyn Fn() -> Opened;

fn settings() -> EngineSettings {
    EngineSettings {
        zone: sync_server::Zone::parse("+08:00").expect("zone"),
        calendar: WorkCalendar::default(),
        verify_hours: 24.0,
        duplicate_radius_m: 30.0,
        duplicate_window_hours: 72.0,
    }
}

fn sqlite() -> Opened {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(dir.path(), settings()).expect("open the store");
    sync_server::seed::ensure_dictionary(&store).expect("first dictionary");
    Opened { store: Arc::new(store), _keep: Box::new(dir) }
}

/// A new database on the test PostgreSQL server, with the bundled dictionary; `None` (skip) without a server.
fn postgres_store() -> Option<Opened> {
    let db = support::postgres_database()?;
    let store = PgStore::connect(&db.url, settings(), std::time::Duration::from_secs(10)).expect("connect and migrate");
    sync_server::seed::ensure_dictionary(&store).expect("first dictionary");
    Some(Opened { store: Arc::new(store), _keep: Box::new(db) })
}

fn postgres() -> Opened {
    postgres_store().expect("a PostgreSQL database")
}

/// Whether the cases may run on PostgreSQL here (else they skip, unless the test script requires them).
fn postgres_here() -> bool {
    support::postgres_database().is_some()
}

// ---- helpers over the trait ----

/// A category whose findings a chief reviews, and one whose findings are filed and dispatched at once.
const REVIEWED: &str = "C0118";
const AUTOMATIC: &str = "C0101";

fn now() -> DateTime<Utc> {
    Utc::now()
}

fn user(store: &dyn AccountStore, name: &str, role: Role, team: Option<&str>, department: Option<&str>) -> User {
    store
        .add_user(
            NewUser {
                username: name.into(),
                password_hash: format!("hash-of-{name}"),
                display_name: name.into(),
                role,
                team: team.map(Into::into),
                department: department.map(Into::into),
            },
            now(),
        )
        .expect("add user")
}

fn device(store: &dyn Store, owner: &User) -> Principal {
    let info = DeviceInfo {
        id: Uuid::new_v4(),
        name: "测试手机".into(),
        platform: "android".into(),
        app_version: "1".into(),
        public_key: None,
    };
    let outcome = store.register_device(owner, &info, &format!("token-{}", info.id), now()).expect("register");
    assert!(matches!(outcome, RegisterOutcome::Registered));
    Principal { user: owner.clone(), device_id: Some(info.id), address: None, enrol_only: false }
}

fn finding_body(id: Uuid, category: &str, photo: &str, lat: f64) -> String {
    let at = now().to_rfc3339();
    serde_json::json!({
        "id": id, "patrol_id": null, "category": category, "description": "conformance",
        "urgent": false, "fixed_on_spot": false,
        "location": {"lat": lat, "lon": 123.4328, "accuracy_m": 4.0, "source": "gps", "fixed_at": at},
        "address": null, "road": null, "grid": null, "facility_code": null, "observed_at": at,
        "photos": [{"sha256": photo, "role": "before", "taken_at": at, "width": 1600, "height": 1200, "bytes": 1000}]
    })
    .to_string()
}

/// Sends ops (`(seq, kind, body)`) as one sync batch of the device.
fn sync(store: &dyn Store, device: &Principal, ops: &[(u64, &str, String)]) -> Vec<OpResult> {
    let envelopes: Vec<String> =
        ops.iter().map(|(seq, kind, body)| format!(r#"{{"seq":{seq},"kind":"{kind}","body":{body}}}"#)).collect();
    let text = format!(r#"{{"device_id":"{}","ops":[{}]}}"#, device.device_id.expect("a device"), envelopes.join(","));
    let req: SyncRequestRaw<'_> = serde_json::from_str(&text).expect("a sync request");
    let ctx = SyncContext {
        principal: device,
        device_id: req.device_id,
        now: now(),
        backlog: None,
        dictionary_version: None,
    };
    let prepared = ops::prepare(ctx.now, &req.ops, None, store.category_check());
    store.apply_ops(&ctx, prepared).expect("apply ops")
}

fn photo(store: &dyn Store, uploader: &User, n: u8) -> String {
    let sha = format!("{n:02x}").repeat(32);
    let meta = BlobMeta { sha256: sha.clone(), bytes: 1000, content_type: "image/jpeg".into(), packed: None };
    store.record_blobs(&[(meta, uploader.id)], now()).expect("record blob");
    sha
}

/// An inspector of team 一中队 with a device, a photo held, and the team's chief.
struct Team {
    inspector: User,
    phone: Principal,
    chief: User,
    photo: String,
}

fn team(store: &dyn Store) -> Team {
    let inspector = user(store, "wang", Role::Inspector, Some("一中队"), None);
    let chief = user(store, "li", Role::Chief, Some("一中队"), None);
    let phone = device(store, &inspector);
    let photo = photo(store, &inspector, 1);
    Team { inspector, phone, chief, photo }
}

fn everything() -> CaseFilter {
    CaseFilter::all(Scope::All)
}

// ---- the cases ----

fn users_and_sessions(open: &Open) {
    let o = open();
    let s = o.store.as_ref();
    let wang = user(s, "wang", Role::Inspector, Some("一中队"), None);
    let (read, hash) = s.user_credentials("wang").unwrap().expect("the user is there");
    assert_eq!((read.id, hash.as_str(), read.team.as_deref()), (wang.id, "hash-of-wang", Some("一中队")));
    assert!(s.user_credentials("nobody").unwrap().is_none());
    assert!(s.teams().unwrap().iter().any(|t| t.name == "一中队"), "a user's new team is created with them");

    let again = s.add_user(
        NewUser {
            username: "wang".into(),
            password_hash: "x".into(),
            display_name: "另一个".into(),
            role: Role::Inspector,
            team: None,
            department: None,
        },
        now(),
    );
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    let unknown_department = s.add_user(
        NewUser {
            username: "dept".into(),
            password_hash: "x".into(),
            display_name: "部门".into(),
            role: Role::Department,
            team: None,
            department: Some("XX".into()),
        },
        now(),
    );
    assert!(
        matches!(unknown_department, Err(StoreError::Invalid { ref field, .. }) if field == "department"),
        "{unknown_department:?}"
    );

    let session = |hash: &str, expires_at: DateTime<Utc>, enrol_only: bool| NewSession {
        user_id: wang.id,
        token_hash: hash.into(),
        expires_at,
        enrol_only,
    };
    s.create_session(&session("session-a", now() + Duration::hours(1), false)).unwrap();
    s.create_session(&session("session-old", now() - Duration::seconds(1), false)).unwrap();
    let p = s.principal_by_token("session-a", now()).unwrap().expect("a live session");
    assert_eq!((p.user.id, p.device_id, p.enrol_only), (wang.id, None, false));
    assert!(s.principal_by_token("session-old", now()).unwrap().is_none(), "an expired session is no principal");
    s.end_session("session-a").unwrap();
    assert!(s.principal_by_token("session-a", now()).unwrap().is_none(), "an ended session is no principal");

    // A second factor: pending, then in force (which frees enrol-only sessions); each step's code taken once,
    // and no step older than one taken; a new secret counts afresh.
    s.create_session(&session("session-enrol", now() + Duration::hours(1), true)).unwrap();
    assert!(s.principal_by_token("session-enrol", now()).unwrap().unwrap().enrol_only);
    assert_eq!(s.second_factor(wang.id).unwrap(), SecondFactor { secret: None, enabled: false });
    let pending = SecondFactor { secret: Some("JBSWY3DPEHPK3PXP".into()), enabled: false };
    s.set_second_factor(wang.id, &pending).unwrap();
    assert_eq!(s.second_factor(wang.id).unwrap(), pending);
    assert!(s.principal_by_token("session-enrol", now()).unwrap().unwrap().enrol_only, "not in force yet");
    let on = SecondFactor { enabled: true, ..pending };
    s.set_second_factor(wang.id, &on).unwrap();
    s.create_session(&session("session-enrol-other", now() + Duration::hours(1), true)).unwrap();
    s.second_factor_confirmed(wang.id, "session-enrol").unwrap();
    assert!(!s.principal_by_token("session-enrol", now()).unwrap().unwrap().enrol_only, "the confirming one is freed");
    assert!(s.principal_by_token("session-enrol-other", now()).unwrap().is_none(), "another enrol-only one ends");
    assert!(s.take_second_factor_step(wang.id, 100).unwrap());
    assert!(!s.take_second_factor_step(wang.id, 100).unwrap(), "a code twice");
    assert!(!s.take_second_factor_step(wang.id, 99).unwrap(), "an older code");
    assert!(s.take_second_factor_step(wang.id, 101).unwrap());
    s.set_second_factor(wang.id, &on).unwrap();
    assert!(!s.take_second_factor_step(wang.id, 101).unwrap(), "the same secret keeps its count");
    assert!(!s.begin_second_factor(wang.id, "MFRGGZDFMZTWQ2LK").unwrap(), "one in force is not replaced");
    assert_eq!(s.second_factor(wang.id).unwrap(), on);
    s.set_second_factor(wang.id, &SecondFactor { secret: Some("KRUGS4ZANFZSAYJA".into()), enabled: true }).unwrap();
    assert!(s.take_second_factor_step(wang.id, 50).unwrap(), "a new secret counts afresh");
}

fn devices_register_and_revoke(open: &Open) {
    let o = open();
    let s = o.store.as_ref();
    let wang = user(s, "wang", Role::Inspector, Some("一中队"), None);
    let zhao = user(s, "zhao", Role::Inspector, Some("一中队"), None);
    let phone = device(s, &wang);
    let id = phone.device_id.unwrap();
    let token = format!("token-{id}");
    let by_token = s.principal_by_token(&token, now()).unwrap().expect("the device token works");
    assert_eq!((by_token.user.id, by_token.device_id), (wang.id, Some(id)));

    let info = DeviceInfo {
        id,
        name: "测试手机".into(),
        platform: "android".into(),
        app_version: "2".into(),
        public_key: None,
    };
    assert!(matches!(s.register_device(&zhao, &info, "token-zhao", now()).unwrap(), RegisterOutcome::OtherUser));
    // Registering again gives a new token; the old one stops working.
    assert!(matches!(s.register_device(&wang, &info, "token-new", now()).unwrap(), RegisterOutcome::Registered));
    assert!(s.principal_by_token(&token, now()).unwrap().is_none());
    assert!(s.principal_by_token("token-new", now()).unwrap().is_some());

    let revoked = s.revoke_device(id, now()).unwrap().expect("the device is there");
    assert!(revoked.revoked_at.is_some());
    assert!(s.principal_by_token("token-new", now()).unwrap().is_none(), "a revoked device's token is dead");
    assert!(matches!(s.register_device(&wang, &info, "token-3", now()).unwrap(), RegisterOutcome::Revoked));
    assert!(s.revoke_device(Uuid::new_v4(), now()).unwrap().is_none());
    assert_eq!(s.devices().unwrap().len(), 1);
}

fn dictionary_versions(open: &Open) {
    let o = open();
    let s = o.store.as_ref();
    let first = s.dictionary().unwrap().expect("a store starts with a dictionary");
    let mut next = first.clone();
    next.categories.retain(|c| c.code != REVIEWED);
    let version = s.import_dictionary(next, now()).unwrap();
    assert!(version > first.version, "a new dictionary gets a higher version ({version} after {})", first.version);
    let newest = s.dictionary().unwrap().unwrap();
    assert_eq!(newest.version, version);
    assert!(newest.categories.iter().all(|c| c.code != REVIEWED));
    // A code of an older version is still known: findings of it made offline are not refused.
    assert!(s.category_check()(REVIEWED));
    assert!(!s.category_check()("Z9999"));

    let wang = user(s, "wang", Role::Inspector, Some("一中队"), None);
    let page = s.changes(&wang, None, 50).unwrap();
    match &page.changes.first().map(|c| &c.body) {
        Some(ChangeBody::Dictionary(d)) => assert_eq!(d.version, version, "the feed starts with the newest"),
        other => panic!("the feed should start with the dictionary, not {other:?}"),
    }
}

fn settings_keep_the_first_value(open: &Open) {
    let o = open();
    let s = o.store.as_ref();
    assert_eq!(s.setting_or_insert("cursor_secret", "first").unwrap(), "first");
    assert_eq!(s.setting_or_insert("cursor_secret", "second").unwrap(), "first");
    assert_eq!(s.setting_or_insert("other", "second").unwrap(), "second");
}

fn photos_are_held_once(open: &Open) {
    let o = open();
    let (a, s) = (o.store.as_ref(), o.store.as_ref());
    let wang = user(a, "wang", Role::Inspector, Some("一中队"), None);
    let sha = "ab".repeat(32);
    assert!(s.blob(&sha).unwrap().is_none());
    s.begin_upload(&sha, 1000, wang.id, now()).unwrap();
    let up = s.upload(&sha).unwrap().expect("an upload under way");
    assert_eq!((up.length, up.started_by), (1000, wang.id));
    s.begin_upload(&sha, 2000, wang.id, now()).unwrap();
    assert_eq!(s.upload(&sha).unwrap().unwrap().length, 2000, "begun again: the new one");

    let packed = Some(sync_server::blobs::PackPlace { pack: 3, offset: 8192 });
    let meta = BlobMeta { sha256: sha.clone(), bytes: 1000, content_type: "image/jpeg".into(), packed };
    let other = BlobMeta { sha256: "cd".repeat(32), bytes: 10, content_type: "image/png".into(), packed: None };
    assert_eq!(s.record_blobs(&[(meta.clone(), wang.id), (other.clone(), wang.id)], now()).unwrap(), vec![true, true]);
    assert!(s.upload(&sha).unwrap().is_none(), "recording a photo ends its upload");
    assert_eq!(s.record_blobs(&[(meta.clone(), wang.id)], now()).unwrap(), vec![false], "a photo is held once");
    assert_eq!(s.blob(&sha).unwrap(), Some(meta), "its place kept");
    assert_eq!(s.blob(&other.sha256).unwrap(), Some(other));
    s.begin_upload(&"ef".repeat(32), 5, wang.id, now()).unwrap();
    s.end_upload(&"ef".repeat(32)).unwrap();
    assert!(s.upload(&"ef".repeat(32)).unwrap().is_none());
}

fn photos_and_uploads(open: &Open) {
    let o = open();
    let s = o.store.as_ref();
    let wang = user(s, "wang", Role::Inspector, Some("一中队"), None);
    let sha = "ab".repeat(32);
    let meta = BlobMeta { sha256: sha.clone(), bytes: 1000, content_type: "image/jpeg".into(), packed: None };
    assert_eq!(s.record_blobs(&[(meta, wang.id)], now()).unwrap(), vec![true]);
    let used = s.photo_use(&sha, &wang).unwrap().expect("a held photo has a use");
    assert!(used.uploaded_by_caller);
    assert!(s.photo_use(&"cd".repeat(32), &wang).unwrap().is_none());
}

fn ops_apply_exactly_once(open: &Open) {
    let o = open();
    let s = o.store.as_ref();
    let t = team(s);
    let id = Uuid::new_v4();
    let missing = "ef".repeat(32);

    // A photo not yet held: nothing is done, the device is told to send it again later.
    let waiting = sync(s, &t.phone, &[(1, "finding.create", finding_body(id, REVIEWED, &missing, 41.79))]);
    assert_eq!(waiting[0].status, OpStatus::Retry);
    assert_eq!(waiting[0].error.as_ref().map(|e| e.code), Some(ErrorCode::MissingBlobs));
    assert!(s.finding_meta(id).unwrap().is_none());

    let body = finding_body(id, REVIEWED, &t.photo, 41.79);
    let first = sync(s, &t.phone, &[(1, "finding.create", body.clone())]);
    assert_eq!(first[0].status, OpStatus::Applied, "{first:?}");
    assert_eq!(first[0].finding.as_ref().map(|f| f.state), Some(FindingState::PendingReview));
    // The same op again (its answer was lost): the first answer, nothing done twice.
    let again = sync(s, &t.phone, &[(1, "finding.create", body)]);
    assert_eq!(again[0].status, OpStatus::Duplicate);
    assert_eq!(again[0].finding, first[0].finding);
    assert_eq!(s.review(&Scope::All, now() - Duration::days(1), now() + Duration::days(1), None, 0).unwrap().len(), 1);

    // Another op under a used seq is refused, and so is the same finding id from another body.
    let other = sync(s, &t.phone, &[(1, "finding.create", finding_body(Uuid::new_v4(), REVIEWED, &t.photo, 41.7))]);
    assert_eq!(other[0].status, OpStatus::Rejected);
    let reused = sync(s, &t.phone, &[(2, "finding.create", finding_body(id, AUTOMATIC, &t.photo, 41.7))]);
    assert_eq!(reused[0].status, OpStatus::Rejected);
    assert_eq!(s.finding_meta(id).unwrap().map(|m| m.state), Some(FindingState::PendingReview));
}

fn automatic_category_files_and_dispatches(open: &Open) {
    let o = open();
    let s = o.store.as_ref();
    let t = team(s);
    let id = Uuid::new_v4();
    let r = sync(s, &t.phone, &[(1, "finding.create", finding_body(id, AUTOMATIC, &t.photo, 41.79))]);
    let ack = r[0].finding.clone().expect("a finding ack");
    let case_no = ack.case_no.expect("an automatic category files a case at once");
    let case = s.case_detail(&case_no, now()).unwrap().expect("the case is there");
    assert_eq!(case.state, CaseState::Dispatched);
    assert_eq!(case.department.as_deref(), Some("SW"), "routed to the category's department");
    assert!(case.due_at.is_some());
    assert_eq!(s.cases(&everything(), now()).unwrap().len(), 1);
    let meta = s.case_meta(&case_no).unwrap().expect("meta");
    assert_eq!((meta.state, meta.team.as_deref()), (CaseState::Dispatched, Some("一中队")));
    assert!(s.case_detail("nope", now()).unwrap().is_none());
}

fn review_files_a_case_once(open: &Open) {
    let o = open();
    let s = o.store.as_ref();
    let t = team(s);
    let id = Uuid::new_v4();
    sync(s, &t.phone, &[(1, "finding.create", finding_body(id, REVIEWED, &t.photo, 41.79))]);
    let approve = Decision::Approve { category: None, note: Some("属实".into()) };
    let (item, case) = s.review_finding(&t.chief, id, &approve, now()).unwrap();
    let case = case.expect("approval files a case");
    assert_eq!((item.state, item.case_no.as_deref()), (FindingState::Filed, Some(case.case_no.as_str())));
    assert_eq!(s.cases(&everything(), now()).unwrap().len(), 1);

    let twice = s.review_finding(&t.chief, id, &approve, now());
    assert!(matches!(twice, Err(StoreError::InvalidTransition(_))), "{twice:?}");
    assert_eq!(s.cases(&everything(), now()).unwrap().len(), 1, "no second case");
    let unknown = s.review_finding(&t.chief, Uuid::new_v4(), &approve, now());
    assert!(matches!(unknown, Err(StoreError::NotFound(_))), "{unknown:?}");

    // The reporter's device hears of it.
    let feed = s.changes(&t.inspector, None, 50).unwrap();
    assert!(feed.changes.iter().any(|c| matches!(&c.body, ChangeBody::FindingUpdated(u) if u.finding_id == id)));
}

fn case_actions_follow_the_lifecycle(open: &Open) {
    let o = open();
    let s = o.store.as_ref();
    let t = team(s);
    let dept = user(s, "sw", Role::Department, None, Some("SW"));
    let r = sync(s, &t.phone, &[(1, "finding.create", finding_body(Uuid::new_v4(), AUTOMATIC, &t.photo, 41.79))]);
    let case_no = r[0].finding.clone().and_then(|f| f.case_no).expect("a case");
    let act = |action| ActionInput { action, department: None, note: None, photos: vec![], hours: None };

    let refused = s.case_action(&dept, &case_no, &act(CaseAction::Resume), now());
    assert!(matches!(refused, Err(StoreError::InvalidTransition(_))), "{refused:?}");
    let accepted = s.case_action(&dept, &case_no, &act(CaseAction::Accept), now()).unwrap();
    assert_eq!(accepted.state, CaseState::Accepted);
    let detail = s.case_detail(&case_no, now()).unwrap().unwrap();
    assert_eq!(detail.state, CaseState::Accepted, "the action is stored, not only answered");
    assert!(detail.history.as_ref().is_some_and(|h| h.len() >= 2), "filing and acceptance are both in the history");
    let missing = s.case_action(&dept, "2099-000001", &act(CaseAction::Accept), now());
    assert!(matches!(missing, Err(StoreError::NotFound(_))), "{missing:?}");
}

fn requests_wait_for_one_decision(open: &Open) {
    let o = open();
    let s = o.store.as_ref();
    let t = team(s);
    let dept = user(s, "sw", Role::Department, None, Some("SW"));
    let dispatcher = user(s, "desk", Role::Dispatcher, None, None);
    let r = sync(s, &t.phone, &[(1, "finding.create", finding_body(Uuid::new_v4(), AUTOMATIC, &t.photo, 41.79))]);
    let case_no = r[0].finding.clone().and_then(|f| f.case_no).expect("a case");
    let act =
        |action, hours| ActionInput { action, department: None, note: Some("理由".into()), photos: vec![], hours };
    let before = s.case_detail(&case_no, now()).unwrap().unwrap();

    let supervised = s.case_action(&dispatcher, &case_no, &act(CaseAction::Supervise, None), now()).unwrap();
    assert_eq!((supervised.supervisions, supervised.due_at), (1, before.due_at));
    let asked = s.case_action(&dept, &case_no, &act(CaseAction::RequestExtension, Some(8.0)), now()).unwrap();
    assert_eq!((asked.requests.len(), asked.requests[0].state.as_str(), asked.due_at), (1, "pending", before.due_at));
    let second = s.case_action(&dept, &case_no, &act(CaseAction::RequestReturn, None), now());
    assert!(matches!(second, Err(StoreError::Conflict(_))), "{second:?}");
    let approved = s.case_action(&dispatcher, &case_no, &act(CaseAction::ApproveRequest, None), now()).unwrap();
    assert!(approved.due_at > before.due_at, "the deadline moved");
    assert_eq!(approved.requests[0].decided_by.as_deref(), Some("desk"));
    let again = s.case_action(&dispatcher, &case_no, &act(CaseAction::DenyRequest, None), now());
    assert!(matches!(again, Err(StoreError::Conflict(_))), "no request waits: {again:?}");

    // A request still waiting when the case goes to another department is withdrawn with it.
    s.case_action(&dept, &case_no, &act(CaseAction::RequestReturn, None), now()).unwrap();
    let redispatch = ActionInput { department: Some("SZ".into()), ..act(CaseAction::Dispatch, None) };
    let moved = s.case_action(&dispatcher, &case_no, &redispatch, now()).unwrap();
    assert_eq!(moved.requests.last().map(|r| r.state.as_str()), Some("withdrawn"));
    let late = s.case_action(&dispatcher, &case_no, &act(CaseAction::ApproveRequest, None), now());
    assert!(matches!(late, Err(StoreError::Conflict(_))), "{late:?}");
}

fn a_suspension_does_not_turn_the_light_yellow(open: &Open) {
    let o = open();
    let s = o.store.as_ref();
    let t = team(s);
    let dispatcher = user(s, "desk", Role::Dispatcher, None, None);
    let r = sync(s, &t.phone, &[(1, "finding.create", finding_body(Uuid::new_v4(), AUTOMATIC, &t.photo, 41.79))]);
    let case_no = r[0].finding.clone().and_then(|f| f.case_no).expect("a case");
    let act =
        |action| ActionInput { action, department: None, note: Some("挂账".into()), photos: vec![], hours: None };
    let t0 = now();
    s.case_action(&dispatcher, &case_no, &act(CaseAction::Suspend), t0 + Duration::minutes(1)).unwrap();
    // Parked for a month: the deadline and the light's clock move on alike.
    let back = t0 + Duration::days(30);
    let resumed = s.case_action(&dispatcher, &case_no, &act(CaseAction::Resume), back).unwrap();
    assert_eq!(resumed.light, sync_server::domain::lifecycle::Light::Green, "{:?}", resumed.due_at);
}

fn changes_page_on_from_a_cursor(open: &Open) {
    let o = open();
    let s = o.store.as_ref();
    let t = team(s);
    let ops: Vec<(u64, &str, String)> = (1..=5)
        .map(|i| (i, "finding.create", finding_body(Uuid::new_v4(), AUTOMATIC, &t.photo, 41.0 + i as f64 * 0.01)))
        .collect();
    assert!(sync(s, &t.phone, &ops).iter().all(|r| r.status == OpStatus::Applied));

    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = s.changes(&t.inspector, cursor, 2).unwrap();
        assert!(page.changes.len() <= 2);
        seen.extend(page.changes.iter().map(|c| serde_json::to_string(c).unwrap()));
        cursor = Some(page.cursor);
        if !page.more {
            break;
        }
    }
    let distinct: std::collections::HashSet<_> = seen.iter().collect();
    assert_eq!(distinct.len(), seen.len(), "no change is sent twice across pages");
    assert!(seen.len() >= 6, "the dictionary and the five findings' updates or cases, got {}", seen.len());
    let after = s.changes(&t.inspector, cursor, 10).unwrap();
    assert!(after.changes.is_empty() && !after.more, "nothing new after the last cursor");
}

fn teams_are_unique(open: &Open) {
    let o = open();
    let s = o.store.as_ref();
    let made = s.add_team("二中队", now()).unwrap();
    assert_eq!(made.name, "二中队");
    assert!(matches!(s.add_team("二中队", now()), Err(StoreError::Conflict(_))));
    assert!(s.teams().unwrap().iter().any(|t| t.name == "二中队" && t.members == 0));
}

fn departments_come_from_the_dictionary(open: &Open) {
    let o = open();
    assert!(o.store.departments().unwrap().iter().any(|d| d.code == "SW"));
}

fn basemaps_are_replaced_and_forgotten(open: &Open) {
    let o = open();
    let s = o.store.as_ref();
    let at = "2026-12-04T08:00:00+08:00".parse().unwrap();
    let mut b = protocol::Basemap {
        name: "shenhe".into(),
        format: protocol::BasemapFormat::Mbtiles,
        datum: protocol::Datum::Gcj02,
        bounds: [123.4, 41.77, 123.46, 41.81],
        minzoom: 12,
        maxzoom: 17,
        bytes: 1 << 20,
        sha256: "ab".repeat(32),
        updated_at: at,
        tile_format: Some("png".into()),
    };
    assert!(s.basemaps().unwrap().is_empty());
    assert!(s.save_basemap(&b).unwrap(), "a new name");
    assert_eq!(s.basemap("shenhe").unwrap().as_ref(), Some(&b), "read back as written");
    b.bytes = 2 << 20;
    b.datum = protocol::Datum::Wgs84;
    assert!(!s.save_basemap(&b).unwrap(), "the same name replaces");
    assert_eq!(s.basemaps().unwrap(), vec![b]);
    assert!(s.delete_basemap("shenhe").unwrap());
    assert!(!s.delete_basemap("shenhe").unwrap());
    assert!(s.basemap("shenhe").unwrap().is_none());
}

/// A square grid (单元网格) around `lat`, `[lat, lon]` rings as the dictionary holds them.
fn square_grid(code: &str, lat: f64) -> protocol::Grid {
    let (s, n, w, e) = (lat - 0.005, lat + 0.005, 123.43, 123.44);
    protocol::Grid {
        code: code.into(),
        name: code.into(),
        team: None,
        inspectors: Vec::new(),
        polygon: vec![vec![[s, w], [s, e], [n, e], [n, w], [s, w]]],
        parts: Vec::new(),
    }
}

fn grids_place_findings_and_cases(open: &Open) {
    let o = open();
    let s = o.store.as_ref();
    let t = team(s);
    let (early, filed) = (Uuid::new_v4(), Uuid::new_v4());
    let mut body: serde_json::Value = serde_json::from_str(&finding_body(early, REVIEWED, &t.photo, 41.79)).unwrap();
    body["grid"] = "sent".into();
    sync(s, &t.phone, &[(1, "finding.create", body.to_string())]);
    let grid_of = |id: Uuid| {
        let day = (now() - Duration::days(1), now() + Duration::days(1));
        s.review(&Scope::All, day.0, day.1, None, 0).unwrap().into_iter().find(|f| f.id == id).expect("reviewed").grid
    };
    assert_eq!(grid_of(early).as_deref(), Some("sent"), "without grids, what the device sent");

    let mut next = s.dictionary().unwrap().unwrap();
    next.grids = vec![square_grid("G-1", 41.79), square_grid("G-2", 41.80)];
    s.import_dictionary(next.clone(), now()).unwrap();
    assert_eq!(grid_of(early).as_deref(), Some("G-1"), "placed again by the new grids");

    let r = sync(s, &t.phone, &[(2, "finding.create", finding_body(filed, AUTOMATIC, &t.photo, 41.80))]);
    assert_eq!(grid_of(filed).as_deref(), Some("G-2"));
    let case_no = r[0].finding.clone().unwrap().case_no.expect("filed at once");
    assert_eq!(s.case_detail(&case_no, now()).unwrap().unwrap().grid.as_deref(), Some("G-2"));

    // A broken grid is refused, naming it; nothing changes.
    let version = s.dictionary().unwrap().unwrap().version;
    let mut broken = next.clone();
    broken.grids[1].polygon[0].pop();
    match s.import_dictionary(broken, now()) {
        Err(StoreError::Invalid { field, message }) => {
            assert_eq!(field, "grids[1]");
            assert!(message.contains("G-2"), "{message}");
        }
        other => panic!("a broken grid should be refused, not {other:?}"),
    }
    let mut repeated = next;
    repeated.grids[1].code = "G-1".into();
    assert!(matches!(s.import_dictionary(repeated, now()), Err(StoreError::Invalid { .. })));
    assert_eq!(s.dictionary().unwrap().unwrap().version, version);
}

fn every() -> Claim {
    Claim { limit: 100, per_endpoint: 100, busy: Vec::new() }
}

fn webhook(events: Vec<Event>, format: Format, department: Option<&str>) -> NewWebhook {
    NewWebhook {
        url: "http://127.0.0.1:9/hook".into(),
        events,
        secret: "s".into(),
        format,
        department: department.map(Into::into),
        description: String::new(),
    }
}

/// The outbox: an event is kept with the change that makes it, for each endpoint that wants it; a taken
/// delivery is leased; a failed try comes due again, a delivered one never; a stopped endpoint's deliveries
/// are cancelled; an overdue case is told of once.
fn the_outbox_keeps_events_with_their_changes(open: &Open) {
    let o = open();
    let s = o.store.as_ref();
    let t = team(s);
    // Before any endpoint, events are not kept at all.
    sync(s, &t.phone, &[(1, "finding.create", finding_body(Uuid::new_v4(), AUTOMATIC, &t.photo, 41.79))]);
    assert!(s.claim_deliveries(now(), Duration::seconds(30), &every()).unwrap().is_empty());

    let system = s
        .add_webhook(&webhook(vec![Event::CaseFiled, Event::FindingRejected], Format::Json, None), "root", now())
        .unwrap();
    let robot = s.add_webhook(&webhook(vec![], Format::Wecom, Some("SW")), "root", now()).unwrap();
    let other = s.add_webhook(&webhook(vec![], Format::Dingtalk, Some("HW")), "root", now()).unwrap();
    assert_eq!(s.webhooks().unwrap().len(), 3);
    let r = sync(s, &t.phone, &[(2, "finding.create", finding_body(Uuid::new_v4(), AUTOMATIC, &t.photo, 41.80))]);
    let case_no = r[0].finding.clone().and_then(|f| f.case_no).expect("a case");
    let rejected = Uuid::new_v4();
    sync(s, &t.phone, &[(3, "finding.create", finding_body(rejected, REVIEWED, &t.photo, 41.81))]);
    s.review_finding(&t.chief, rejected, &Decision::Reject { reason: "重复".into() }, now()).unwrap();

    let due = s.claim_deliveries(now(), Duration::seconds(30), &every()).unwrap();
    let of = |hook: Uuid| due.iter().filter(|d| d.endpoint.id == hook).map(|d| d.event.event).collect::<Vec<_>>();
    assert_eq!(of(system.id), vec![Event::CaseFiled, Event::FindingRejected]);
    assert_eq!(of(robot.id), vec![Event::CaseChanged], "the dispatch to SW, told to SW's group only");
    assert!(of(other.id).is_empty());
    let filed = due.iter().find(|d| d.event.event == Event::CaseFiled).unwrap();
    assert_eq!(filed.event.subject, case_no);
    assert_eq!(filed.event.change["action"], "file");
    // Leased: not taken twice.
    assert!(s.claim_deliveries(now(), Duration::seconds(30), &every()).unwrap().is_empty());

    // The data as first sent is kept; a second sender keeps the first one's.
    let first = s.freeze_event_data(filed.event.id, &serde_json::json!({"n": 1})).unwrap();
    let second = s.freeze_event_data(filed.event.id, &serde_json::json!({"n": 2})).unwrap();
    assert_eq!((first["n"].as_i64(), second["n"].as_i64()), (Some(1), Some(1)));

    // A failure comes due again at the time given; a success is done.
    let failed = AttemptOutcome { status: Some(500), error: Some("answered 500".into()), ..Default::default() };
    s.record_attempt((filed.id, filed.claim), &failed, Some(now() + Duration::seconds(5)), now()).unwrap();
    let rejected_delivery = due.iter().find(|d| d.event.event == Event::FindingRejected).unwrap();
    s.record_attempt(
        (rejected_delivery.id, rejected_delivery.claim),
        &AttemptOutcome { status: Some(204), delivered: true, ..Default::default() },
        None,
        now(),
    )
    .unwrap();
    let again = s.claim_deliveries(now() + Duration::seconds(6), Duration::seconds(30), &every()).unwrap();
    assert_eq!(again.iter().map(|d| d.id).collect::<Vec<_>>(), vec![filed.id]);
    assert_eq!((again[0].attempts, again[0].event.data.clone()), (1, Some(serde_json::json!({"n": 1}))));
    let listed = s.deliveries(system.id, None, 10).unwrap();
    let by_id = |id| listed.iter().find(|d| d.id == id).unwrap();
    assert_eq!((by_id(filed.id).state.as_str(), by_id(filed.id).tries.len()), ("pending", 1));
    assert_eq!(by_id(rejected_delivery.id).state, "delivered");
    assert_eq!(by_id(filed.id).tries[0].status, Some(500));
    // A late try under the first claim changes nothing now that the delivery was taken again (its try is
    // listed all the same).
    s.record_attempt((filed.id, filed.claim), &AttemptOutcome { delivered: true, ..Default::default() }, None, now())
        .unwrap();
    let late = s.deliveries(system.id, None, 10).unwrap().into_iter().find(|d| d.id == filed.id).unwrap();
    assert_eq!((late.state.as_str(), late.tries.len()), ("pending", 2));
    // Given up, then sent again on request.
    s.record_attempt((filed.id, again[0].claim), &failed, None, now()).unwrap();
    assert_eq!(s.deliveries(system.id, Some("failed"), 10).unwrap().len(), 1);
    assert!(s.redeliver(filed.id, now()).unwrap());
    assert_eq!(s.delivery_webhook(filed.id).unwrap(), Some(system.id));
    assert_eq!(s.claim_deliveries(now(), Duration::seconds(30), &every()).unwrap().len(), 1);

    // An overdue case is told of once, to its department's robot.
    let robot_due = |at| s.claim_deliveries(at, Duration::seconds(30), &every()).unwrap();
    let _ = robot_due(now() + Duration::minutes(5));
    let late = now() + Duration::days(30);
    assert!(s.notice_overdue(late).unwrap() >= 1);
    assert_eq!(s.notice_overdue(late).unwrap(), 0, "told once");
    let told = robot_due(late + Duration::minutes(5));
    assert!(
        told.iter()
            .any(|d| d.endpoint.id == robot.id && d.event.event == Event::CaseOverdue && d.event.subject == case_no)
    );
    // A deadline moved later is told of again once it passes too.
    let centre = user(s, "zhou", Role::Dispatcher, None, None);
    let extend =
        ActionInput { action: CaseAction::Extend, department: None, note: None, photos: vec![], hours: Some(1.0) };
    s.case_action(&centre, &case_no, &extend, now()).unwrap();
    assert_eq!(s.notice_overdue(late).unwrap(), 1, "the extended case, once more");
    assert_eq!(s.notice_overdue(late).unwrap(), 0);

    // A few of one endpoint at a time, and none of a busy one.
    let pinged = s.add_webhook(&webhook(vec![Event::CaseFiled], Format::Json, None), "root", now()).unwrap();
    for _ in 0..3 {
        s.ping_webhook(pinged.id, "root", now()).unwrap();
    }
    let later = now() + Duration::days(40);
    let busy = Claim { limit: 100, per_endpoint: 2, busy: vec![pinged.id] };
    assert!(
        s.claim_deliveries(later, Duration::seconds(30), &busy).unwrap().iter().all(|d| d.endpoint.id != pinged.id)
    );
    let two = Claim { limit: 100, per_endpoint: 2, busy: Vec::new() };
    let taken = s.claim_deliveries(later, Duration::seconds(30), &two).unwrap();
    assert_eq!(taken.iter().filter(|d| d.endpoint.id == pinged.id).count(), 2);

    // Stopped: what waited is cancelled, and nothing new is kept for it.
    let ping = s.ping_webhook(system.id, "root", now()).unwrap().expect("a test delivery");
    assert!(s.remove_webhook(system.id).unwrap());
    assert!(!s.remove_webhook(system.id).unwrap());
    let cancelled: Vec<i64> = s.deliveries(system.id, Some("cancelled"), 10).unwrap().iter().map(|d| d.id).collect();
    assert_eq!(cancelled, vec![ping, filed.id], "the test delivery and the one sent again, both waiting");
    assert!(!s.redeliver(ping, now()).unwrap());
    assert!(s.ping_webhook(system.id, "root", now()).unwrap().is_none());
}

/// An integration token acts as its user until revoked; only its hash is kept.
fn integration_tokens_act_as_their_user_until_revoked(open: &Open) {
    let o = open();
    let s = o.store.as_ref();
    let hotline = user(s, "hotline", Role::Dispatcher, None, None);
    assert!(s.add_integration_token("12345", "nobody", "h0", "root", now()).unwrap().is_none());
    let token = s.add_integration_token("12345 热线", "hotline", "h1", "root", now()).unwrap().expect("a token");
    assert_eq!((token.username.as_str(), token.name.as_str()), ("hotline", "12345 热线"));
    let p = s.principal_by_token("h1", now()).unwrap().expect("the token acts as its user");
    assert_eq!((p.user.id, p.device_id, p.enrol_only), (hotline.id, None, false));
    assert!(s.revoke_integration_token(token.id, now()).unwrap());
    assert!(!s.revoke_integration_token(token.id, now()).unwrap());
    assert!(s.principal_by_token("h1", now()).unwrap().is_none());
    assert!(s.integration_tokens().unwrap()[0].revoked_at.is_some());
}

/// Exports page through findings and cases from the last row written, and their jobs outlive a stop as failed.
fn exports_page_and_their_jobs_end(open: &Open) {
    let o = open();
    let s = o.store.as_ref();
    let t = team(s);
    for (i, lat) in [41.70, 41.75, 41.80].into_iter().enumerate() {
        let body = finding_body(Uuid::new_v4(), AUTOMATIC, &t.photo, lat);
        sync(s, &t.phone, &[(i as u64 + 1, "finding.create", body)]);
    }
    let filter = ExportFilter {
        from: Some(now() - Duration::hours(1)),
        to: Some(now() + Duration::hours(1)),
        ..Default::default()
    };
    assert_eq!(s.export_count(ExportKind::Findings, &Scope::All, &filter).unwrap(), 3);
    assert_eq!(s.export_count(ExportKind::Cases, &Scope::All, &filter).unwrap(), 3);
    assert_eq!(s.export_count(ExportKind::Findings, &Scope::Team(Some("二中队".into())), &filter).unwrap(), 0);
    let first = s.export_findings(&Scope::All, &filter, None, 2).unwrap();
    let last = first.last().unwrap();
    let rest =
        s.export_findings(&Scope::All, &filter, Some((last.observed_at.timestamp(), last.id.to_string())), 2).unwrap();
    let mut ids: Vec<Uuid> = first.iter().chain(&rest).map(|f| f.id).collect();
    ids.dedup();
    assert_eq!(ids.len(), 3, "every finding once, in pages");
    let cases = s.export_cases(&Scope::All, &filter, None, 2, now()).unwrap();
    let after = cases
        .last()
        .map(|c| (c.filed_at.to_utc().to_rfc3339_opts(chrono::SecondsFormat::Millis, true), c.case_no.clone()));
    assert_eq!(cases.len() + s.export_cases(&Scope::All, &filter, after, 2, now()).unwrap().len(), 3);

    let request = ExportRequest {
        kind: ExportKind::Cases,
        format: ExportFormat::Csv,
        from: now().date_naive(),
        to: now().date_naive(),
        state: None,
        category: None,
        department: None,
        grid: None,
        photos: false,
    };
    let job = ExportJob {
        id: Uuid::new_v4(),
        file_name: request.file_name(),
        request,
        username: "li".into(),
        state: "running".into(),
        rows: 0,
        total: 3,
        photos: 0,
        bytes: 0,
        error: None,
        created_at: now().fixed_offset(),
        finished_at: None,
    };
    s.save_export(t.chief.id, &job).unwrap();
    assert_eq!(s.export_jobs(Some(t.chief.id), 10).unwrap().len(), 1);
    assert!(s.export_jobs(Some(t.inspector.id), 10).unwrap().is_empty());
    // Another server works on it still: a starting one leaves it; once nobody has for a while, it ends.
    assert!(s.interrupt_exports(now() - Duration::minutes(10), now()).unwrap().is_empty());
    assert_eq!(s.interrupt_exports(now() + Duration::seconds(1), now()).unwrap(), vec![job.id]);
    let (owner, ended) = s.export_job(job.id).unwrap().unwrap();
    assert_eq!((owner, ended.state.as_str()), (t.chief.id, "failed"));
    assert!(ended.error.is_some() && ended.finished_at.is_some());
    assert_eq!(s.expire_exports(now() + Duration::days(8)).unwrap(), vec![job.id]);
    assert!(s.export_job(job.id).unwrap().is_none());
}

/// Instantiates every case for every backend, as a module per backend with a test per case; the PostgreSQL
/// ones skip where no server can be reached.
macro_rules! conformance {
    (cases: [$($case:ident),* $(,)?]) => {
        mod sqlite {
            $(
                #[test]
                fn $case() {
                    super::$case(&super::sqlite)
                }
            )*
        }
        mod postgres {
            $(
                #[test]
                fn $case() {
                    if super::postgres_here() {
                        super::$case(&super::postgres)
                    }
                }
            )*
        }
    };
}

/// Two servers on one PostgreSQL database, at once: a code of a second factor is taken by one of them only, a
/// setting made at start is the same for both, a device registered by both at once is registered once.
#[test]
fn two_postgres_servers_agree_on_the_accounts() {
    let Some(first) = postgres_store() else { return };
    let url = first._keep.downcast_ref::<support::PgDatabase>().map(|d| d.url.clone()).expect("the case's database");
    let second: Arc<dyn Store> =
        Arc::new(PgStore::connect(&url, settings(), std::time::Duration::from_secs(10)).unwrap());
    let servers = [first.store.clone(), second];
    let wang = user(servers[0].as_ref(), "wang", Role::Inspector, Some("一中队"), None);
    servers[1]
        .set_second_factor(wang.id, &SecondFactor { secret: Some("JBSWY3DPEHPK3PXP".into()), enabled: true })
        .unwrap();
    for step in 1..=20 {
        let taken: Vec<bool> = std::thread::scope(|scope| {
            let handles: Vec<_> = servers
                .iter()
                .flat_map(|s| [s.clone(), s.clone()])
                .map(|s| scope.spawn(move || s.take_second_factor_step(wang.id, step).unwrap()))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert_eq!(taken.iter().filter(|t| **t).count(), 1, "step {step}: {taken:?}");
    }
    let secrets: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = servers
            .iter()
            .enumerate()
            .map(|(i, s)| scope.spawn(move || s.setting_or_insert("cursor_secret", &format!("made by {i}")).unwrap()))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(secrets[0], secrets[1]);
    let info = DeviceInfo {
        id: Uuid::new_v4(),
        name: "p".into(),
        platform: "android".into(),
        app_version: "1".into(),
        public_key: Some("key".into()),
    };
    let outcomes: Vec<RegisterOutcome> = std::thread::scope(|scope| {
        let handles: Vec<_> = servers
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let (info, wang) = (info.clone(), wang.clone());
                scope.spawn(move || s.register_device(&wang, &info, &format!("token-{i}"), now()).unwrap())
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(outcomes.iter().all(|o| matches!(o, RegisterOutcome::Registered)), "{outcomes:?}");
    assert_eq!(servers[0].device_keys(&info.id.to_string()).unwrap(), vec!["key".to_owned()]);
    let held: Vec<bool> =
        (0..2).map(|i| servers[1].principal_by_token(&format!("token-{i}"), now()).unwrap().is_some()).collect();
    assert_eq!(held.iter().filter(|h| **h).count(), 1, "the later registration's token only: {held:?}");
}

conformance! {
    cases: [
        users_and_sessions,
        settings_keep_the_first_value,
        teams_are_unique,
        integration_tokens_act_as_their_user_until_revoked,
        photos_are_held_once,
        devices_register_and_revoke,
        dictionary_versions,
        photos_and_uploads,
        ops_apply_exactly_once,
        automatic_category_files_and_dispatches,
        review_files_a_case_once,
        case_actions_follow_the_lifecycle,
        changes_page_on_from_a_cursor,
        the_outbox_keeps_events_with_their_changes,
        departments_come_from_the_dictionary,
        exports_page_and_their_jobs_end,
        basemaps_are_replaced_and_forgotten,
        grids_place_findings_and_cases,
        requests_wait_for_one_decision,
        a_suspension_does_not_turn_the_light_yellow,
    ]
}
