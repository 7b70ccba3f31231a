//! The server's SQLite schema as an append-only list of migrations. Never edit a released step; add one.

use rusqlite_migration::{M, Migrations};

pub fn migrations() -> Migrations<'static> {
    Migrations::new(vec![
        M::up(V1),
        M::up(V2),
        M::up(V3),
        M::up(V4),
        M::up(V5),
        M::up(V6).foreign_key_check(),
        M::up(V7),
        M::up(V8),
        M::up(V9),
        M::up(V10),
        M::up(V11),
        M::up(V12),
        M::up(V13),
        M::up(V14),
        M::up(V15),
        M::up(V16),
        M::up(V17),
        M::up(V18),
        M::up(V19),
        M::up(V20),
        M::up(V21),
        M::up(V22),
        M::up(V23),
    ])
}

const V1: &str = r#"
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

CREATE TABLE teams (name TEXT PRIMARY KEY, created_at TEXT NOT NULL);

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL,
    team TEXT REFERENCES teams(name),
    department TEXT,
    active INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL
);

CREATE TABLE devices (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    name TEXT NOT NULL,
    platform TEXT NOT NULL,
    app_version TEXT NOT NULL,
    token_hash TEXT UNIQUE,
    registered_at TEXT NOT NULL,
    revoked_at TEXT,
    last_sync_at TEXT
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    expires_ts INTEGER NOT NULL
);

CREATE TABLE dictionary_versions (
    version INTEGER PRIMARY KEY,
    body TEXT NOT NULL,
    imported_at TEXT NOT NULL
);

CREATE TABLE blobs (
    sha256 TEXT PRIMARY KEY,
    bytes INTEGER NOT NULL,
    content_type TEXT NOT NULL,
    uploaded_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE uploads (
    sha256 TEXT PRIMARY KEY,
    length INTEGER NOT NULL,
    started_by TEXT NOT NULL,
    started_at TEXT NOT NULL
);

-- Every applied op, keyed as the contract identifies it, with the answer first given.
CREATE TABLE ops (
    device_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    kind TEXT NOT NULL,
    body_hash TEXT NOT NULL,
    result TEXT NOT NULL,
    applied_at TEXT NOT NULL,
    PRIMARY KEY (device_id, seq)
) WITHOUT ROWID;

-- Ops refused for good, for the admin's sync health page.
CREATE TABLE rejected_ops (
    id INTEGER PRIMARY KEY,
    device_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    kind TEXT NOT NULL,
    code TEXT NOT NULL,
    message TEXT NOT NULL,
    field TEXT,
    at TEXT NOT NULL
);

CREATE TABLE findings (
    id TEXT PRIMARY KEY,
    body_hash TEXT NOT NULL,
    body TEXT NOT NULL,
    device_id TEXT NOT NULL,
    reporter_id TEXT NOT NULL REFERENCES users(id),
    team TEXT,
    category TEXT NOT NULL,
    dict_version INTEGER NOT NULL,
    observed_ts INTEGER NOT NULL,
    lat REAL NOT NULL,
    lon REAL NOT NULL,
    state TEXT NOT NULL,
    case_no TEXT,
    reason TEXT,
    possible_duplicate_of TEXT,
    first_ack TEXT NOT NULL,
    received_at TEXT NOT NULL
);
CREATE INDEX findings_observed ON findings(observed_ts);
CREATE INDEX findings_case ON findings(case_no);

CREATE TABLE finding_photos (
    finding_id TEXT NOT NULL REFERENCES findings(id),
    idx INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    role TEXT NOT NULL,
    PRIMARY KEY (finding_id, idx)
) WITHOUT ROWID;
CREATE INDEX finding_photos_sha ON finding_photos(sha256);

CREATE TABLE case_numbers (day TEXT PRIMARY KEY, last INTEGER NOT NULL);

CREATE TABLE cases (
    case_no TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    category TEXT NOT NULL,
    department TEXT,
    team TEXT,
    reporter_id TEXT NOT NULL,
    lat REAL NOT NULL,
    lon REAL NOT NULL,
    first_observed_ts INTEGER NOT NULL,
    filed_at TEXT NOT NULL,
    due_at TEXT,
    self_handled INTEGER NOT NULL DEFAULT 0,
    urgent INTEGER NOT NULL DEFAULT 0,
    rework_count INTEGER NOT NULL DEFAULT 0,
    closed_at TEXT
);
CREATE INDEX cases_open ON cases(category, state, first_observed_ts);

CREATE TABLE case_history (
    id INTEGER PRIMARY KEY,
    case_no TEXT NOT NULL REFERENCES cases(case_no),
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    role TEXT NOT NULL,
    action TEXT NOT NULL,
    from_state TEXT,
    to_state TEXT,
    note TEXT,
    photos TEXT NOT NULL DEFAULT '[]',
    due_at TEXT
);
CREATE INDEX case_history_case ON case_history(case_no);

CREATE TABLE patrols (
    id TEXT PRIMARY KEY,
    device_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    started_at TEXT NOT NULL,
    ended_at TEXT,
    distance_m REAL
);

CREATE TABLE track_points (
    patrol_id TEXT NOT NULL REFERENCES patrols(id),
    t TEXT NOT NULL,
    lat REAL NOT NULL,
    lon REAL NOT NULL,
    accuracy_m REAL NOT NULL,
    PRIMARY KEY (patrol_id, t)
) WITHOUT ROWID;

-- What each user (or every user, when user_id is NULL, or a whole team) should hear about, in order.
CREATE TABLE changes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id TEXT,
    team TEXT,
    kind TEXT NOT NULL,
    body TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX changes_user ON changes(user_id, id);
"#;

/// The case engine: verification tasks, finding history, suspension bookkeeping, device health.
const V2: &str = r#"
ALTER TABLE cases ADD COLUMN suspended_from TEXT;
ALTER TABLE cases ADD COLUMN suspended_at TEXT;
ALTER TABLE findings ADD COLUMN fixed_on_spot INTEGER NOT NULL DEFAULT 0;
UPDATE findings SET fixed_on_spot = COALESCE(json_extract(body, '$.fixed_on_spot'), 0);
ALTER TABLE devices ADD COLUMN backlog INTEGER;
CREATE TABLE tasks (
    id TEXT PRIMARY KEY,
    case_no TEXT NOT NULL REFERENCES cases(case_no),
    assignee_id TEXT NOT NULL REFERENCES users(id),
    state TEXT NOT NULL,
    created_at TEXT NOT NULL,
    due_at TEXT NOT NULL,
    completed_at TEXT,
    result TEXT,
    note TEXT,
    photos TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX tasks_case ON tasks(case_no);
CREATE TABLE finding_history (
    id INTEGER PRIMARY KEY,
    finding_id TEXT NOT NULL REFERENCES findings(id),
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    role TEXT NOT NULL,
    action TEXT NOT NULL,
    from_state TEXT,
    to_state TEXT,
    note TEXT
);
CREATE INDEX finding_history_finding ON finding_history(finding_id);
CREATE INDEX cases_state ON cases(state);
CREATE INDEX case_history_at ON case_history(at);
"#;

/// What a device reports of itself at each sync.
const V3: &str = r#"
ALTER TABLE devices ADD COLUMN dictionary_version INTEGER;
"#;

/// Findings waiting for review have no case: the case index holds only those that do, which spares ingest
/// one index insert per finding. (`case_no = ?` implies `case_no IS NOT NULL`, so lookups still use it.)
const V4: &str = r#"
DROP INDEX findings_case;
CREATE INDEX findings_case ON findings(case_no) WHERE case_no IS NOT NULL;
"#;

/// Photos in pack files: a blob's place there. Photos stored before, in files of their own, keep NULLs.
const V5: &str = r#"
ALTER TABLE blobs ADD COLUMN pack INTEGER;
ALTER TABLE blobs ADD COLUMN pack_offset INTEGER;
"#;

/// A finding's photos keyed by the finding's place in the order received (`findings.seq`, an explicit integer
/// key, so that VACUUM keeps it) instead of its id. Ids may be random (any RFC 4122 id is allowed), and a
/// batch of random ids touched a leaf page of the photo table per finding; keyed by `seq`, a batch's photos
/// are appended side by side. Tables are rebuilt the way SQLite documents for such changes: new table, copy,
/// drop, rename, with foreign keys off for the migration (the store turns them off around all migrations)
/// and checked before it commits.
const V6: &str = r#"
CREATE TABLE findings_v6 (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    body_hash TEXT NOT NULL,
    body TEXT NOT NULL,
    device_id TEXT NOT NULL,
    reporter_id TEXT NOT NULL REFERENCES users(id),
    team TEXT,
    category TEXT NOT NULL,
    dict_version INTEGER NOT NULL,
    observed_ts INTEGER NOT NULL,
    lat REAL NOT NULL,
    lon REAL NOT NULL,
    state TEXT NOT NULL,
    case_no TEXT,
    reason TEXT,
    possible_duplicate_of TEXT,
    first_ack TEXT NOT NULL,
    received_at TEXT NOT NULL,
    fixed_on_spot INTEGER NOT NULL DEFAULT 0
);
INSERT INTO findings_v6 (seq, id, body_hash, body, device_id, reporter_id, team, category, dict_version, observed_ts,
                         lat, lon, state, case_no, reason, possible_duplicate_of, first_ack, received_at, fixed_on_spot)
    SELECT rowid, id, body_hash, body, device_id, reporter_id, team, category, dict_version, observed_ts,
           lat, lon, state, case_no, reason, possible_duplicate_of, first_ack, received_at, fixed_on_spot
    FROM findings ORDER BY rowid;
CREATE TABLE finding_photos_v6 (
    finding INTEGER NOT NULL REFERENCES findings_v6(seq),
    idx INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    role TEXT NOT NULL,
    PRIMARY KEY (finding, idx)
) WITHOUT ROWID;
INSERT INTO finding_photos_v6 (finding, idx, sha256, role)
    SELECT f.rowid, p.idx, p.sha256, p.role FROM finding_photos p JOIN findings f ON f.id = p.finding_id;
DROP TABLE finding_photos;
DROP TABLE findings;
ALTER TABLE findings_v6 RENAME TO findings;
ALTER TABLE finding_photos_v6 RENAME TO finding_photos;
CREATE INDEX findings_observed ON findings(observed_ts);
CREATE INDEX findings_case ON findings(case_no) WHERE case_no IS NOT NULL;
CREATE INDEX finding_photos_sha ON finding_photos(sha256);
"#;

/// What the server searched in JSON or loaded whole, as columns and a table:
/// - `case_photos`: the photos of each history entry (handling, verification), which a photo's readers were
///   looked up by with `photos LIKE '%sha%'` over the whole history;
/// - `findings.patrol_id`, which the patrol list counted findings by with `json_extract` over every finding;
/// - `patrols.started_ts`: the start as epoch seconds (the text keeps the sender's offset), so that the patrol
///   list reads one day's patrols instead of every patrol ever.
const V7: &str = r#"
CREATE TABLE case_photos (
    history_id INTEGER NOT NULL REFERENCES case_history(id),
    sha256 TEXT NOT NULL,
    case_no TEXT NOT NULL REFERENCES cases(case_no),
    PRIMARY KEY (history_id, sha256)
) WITHOUT ROWID;
INSERT OR IGNORE INTO case_photos (history_id, sha256, case_no)
    SELECT h.id, j.value, h.case_no FROM case_history h, json_each(h.photos) j;
CREATE INDEX case_photos_sha ON case_photos(sha256);
ALTER TABLE findings ADD COLUMN patrol_id TEXT;
UPDATE findings SET patrol_id = json_extract(body, '$.patrol_id') WHERE json_extract(body, '$.patrol_id') IS NOT NULL;
CREATE INDEX findings_patrol ON findings(patrol_id) WHERE patrol_id IS NOT NULL;
ALTER TABLE patrols ADD COLUMN started_ts INTEGER NOT NULL DEFAULT 0;
UPDATE patrols SET started_ts = COALESCE(unixepoch(started_at), 0);
CREATE INDEX patrols_started ON patrols(started_ts);
"#;

/// The offline base maps offered to phones (the MBTiles files are under `basemaps/` of the data directory).
const V8: &str = r#"
CREATE TABLE basemaps (
    name TEXT PRIMARY KEY,
    datum TEXT NOT NULL,
    tile_format TEXT,
    west REAL NOT NULL,
    south REAL NOT NULL,
    east REAL NOT NULL,
    north REAL NOT NULL,
    minzoom INTEGER NOT NULL,
    maxzoom INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
"#;

/// The grid (单元网格) each finding and case lies in, as the record: the server's point-in-polygon answer
/// when the dictionary has grids, else what the device sent (`body.grid`, which is where it was until now).
const V9: &str = r#"
ALTER TABLE findings ADD COLUMN grid TEXT;
ALTER TABLE cases ADD COLUMN grid TEXT;
UPDATE findings SET grid = json_extract(body, '$.grid');
UPDATE cases SET grid = (SELECT f.grid FROM findings f WHERE f.case_no = cases.case_no ORDER BY f.observed_ts LIMIT 1);
CREATE INDEX findings_grid ON findings(grid);
CREATE INDEX cases_grid ON cases(grid);
"#;

/// Coverage (巡查覆盖): what each patrol's track walked, by road and by grid, computed when first asked and
/// kept; `track_rev` counts the track ops received, so a patrol whose track grew (or whose coverage was
/// computed by another dictionary version) is computed again. And each case's road, for the indicators.
const V10: &str = r#"
ALTER TABLE patrols ADD COLUMN track_rev INTEGER NOT NULL DEFAULT 0;
ALTER TABLE patrols ADD COLUMN coverage_rev INTEGER;
ALTER TABLE patrols ADD COLUMN coverage_dict INTEGER;
-- The road a case lies on, as its first finding named it (for the indicators by road).
ALTER TABLE cases ADD COLUMN road TEXT;
UPDATE cases SET road = (SELECT json_extract(f.body, '$.road') FROM findings f WHERE f.case_no = cases.case_no
                         ORDER BY f.observed_ts LIMIT 1);
CREATE TABLE patrol_coverage (
    patrol_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    walked_m REAL NOT NULL,
    last_ts INTEGER NOT NULL,
    PRIMARY KEY (patrol_id, kind, key)
) WITHOUT ROWID;
"#;

/// No index on the grid columns: no query looks findings or cases up by grid alone (coverage, the heat map and
/// the indicators read a period and group), and with grids every finding's index entry lands at a random place
/// of the index, which cost about a tenth of the ingest throughput (BENCHMARKS.md, "Place").
const V11: &str = r#"
DROP INDEX findings_grid;
DROP INDEX cases_grid;
"#;

/// A department's requests (more time, return a misrouted case) and the dispatcher's decisions on them.
const V12: &str = r#"
CREATE TABLE case_requests (
    id INTEGER PRIMARY KEY,
    case_no TEXT NOT NULL REFERENCES cases(case_no),
    kind TEXT NOT NULL,
    state TEXT NOT NULL,
    hours REAL,
    note TEXT NOT NULL,
    by_user TEXT NOT NULL,
    at TEXT NOT NULL,
    decided_by TEXT,
    decided_at TEXT,
    decision_note TEXT
);
CREATE INDEX case_requests_case ON case_requests(case_no);
"#;

/// Campaigns (每月一主题), as defined; each definition also goes to the phones as a `campaign` change.
const V13: &str = r#"
CREATE TABLE campaigns (
    id TEXT PRIMARY KEY,
    body TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
"#;

/// Each history entry keeps the department the case was with when it was written (a dispatch's receiver, a
/// return's sender: 准确派遣率 charges the department the dispatch reached, not the case's later one); each case
/// the start of its deadline clock, moved on by the time it was suspended, for its light.
const V14: &str = r#"
ALTER TABLE case_history ADD COLUMN department TEXT;
UPDATE case_history SET department = (SELECT c.department FROM cases c WHERE c.case_no = case_history.case_no);
ALTER TABLE cases ADD COLUMN clock_from TEXT;
UPDATE cases SET clock_from = filed_at;
"#;

/// Reports from other channels (12345, 领导交办, …), and tasks that are not a case's: 核实 (`confirm`, of a
/// report) and free tasks (`inspect`). The tasks table is rebuilt: its case becomes optional.
const V15: &str = r#"
CREATE TABLE reports (
    id TEXT PRIMARY KEY,
    body_hash TEXT NOT NULL,
    body TEXT NOT NULL,
    channel TEXT NOT NULL,
    state TEXT NOT NULL,
    category TEXT,
    lat REAL,
    lon REAL,
    grid TEXT,
    road TEXT,
    case_no TEXT REFERENCES cases(case_no),
    received_by TEXT NOT NULL REFERENCES users(id),
    received_at TEXT NOT NULL,
    note TEXT,
    decided_at TEXT
);
CREATE INDEX reports_received ON reports(received_at);
CREATE TABLE tasks_v15 (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL DEFAULT 'verify',
    case_no TEXT REFERENCES cases(case_no),
    report_id TEXT REFERENCES reports(id),
    assignee_id TEXT NOT NULL REFERENCES users(id),
    state TEXT NOT NULL,
    created_at TEXT NOT NULL,
    due_at TEXT NOT NULL,
    completed_at TEXT,
    result TEXT,
    note TEXT,
    photos TEXT NOT NULL DEFAULT '[]',
    body TEXT,
    body_hash TEXT,
    created_by TEXT
);
INSERT INTO tasks_v15 (id, case_no, assignee_id, state, created_at, due_at, completed_at, result, note, photos)
    SELECT id, case_no, assignee_id, state, created_at, due_at, completed_at, result, note, photos FROM tasks;
DROP TABLE tasks;
ALTER TABLE tasks_v15 RENAME TO tasks;
CREATE INDEX tasks_case ON tasks(case_no) WHERE case_no IS NOT NULL;
CREATE INDEX tasks_report ON tasks(report_id) WHERE report_id IS NOT NULL;
CREATE INDEX tasks_kind_due ON tasks(kind, due_at);
-- Photos of a report, or of a task's result that is not a case's, so that who may read them can be told.
CREATE TABLE attachments (
    owner_id TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    PRIMARY KEY (owner_id, sha256)
);
CREATE INDEX attachments_sha ON attachments(sha256);
"#;

/// The audit log of security-relevant actions: append-only, the database itself refusing changes.
const V16: &str = r#"
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT,
    role TEXT,
    action TEXT NOT NULL,
    target TEXT,
    detail TEXT,
    address TEXT,
    outcome TEXT NOT NULL
);
CREATE INDEX audit_log_at ON audit_log(at);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
"#;

/// Two-factor sign-in (TOTP): a user's shared secret (base32; set when enrolment begins, in force once a code
/// confirmed it), the last time step whose code was taken (no code is taken twice), and sessions that may
/// only enrol, for admins who must have a second factor and have none yet.
const V17: &str = r#"
ALTER TABLE users ADD COLUMN totp_secret TEXT;
ALTER TABLE users ADD COLUMN totp_enabled INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN totp_last_step INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN enrol_only INTEGER NOT NULL DEFAULT 0;
"#;

/// Retention: when a photo's bytes were removed (its row, hash and every record that names it stay). A
/// photo purged is held no more: the same bytes uploaded again are stored anew.
const V18: &str = r#"
ALTER TABLE blobs ADD COLUMN purged_at TEXT;
"#;

/// Evidence: the public key a device registered (it then signs every op), every key it ever registered (old
/// ops verify against the key of their time), and every signed op as received, with its signature and its link
/// to the device's previous signed op, for the evidence package.
const V19: &str = r#"
ALTER TABLE devices ADD COLUMN public_key TEXT;
CREATE TABLE device_keys (
    device_id TEXT NOT NULL REFERENCES devices(id),
    public_key TEXT NOT NULL,
    registered_at TEXT NOT NULL,
    PRIMARY KEY (device_id, public_key)
) WITHOUT ROWID;
CREATE TABLE signed_ops (
    device_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    kind TEXT NOT NULL,
    entity_id TEXT,
    body TEXT NOT NULL,
    prev TEXT,
    sig TEXT NOT NULL,
    received_at TEXT NOT NULL,
    PRIMARY KEY (device_id, seq)
) WITHOUT ROWID;
CREATE INDEX signed_ops_entity ON signed_ops(entity_id);
"#;

/// Schema 20: webhooks and the departments' group robots (each an endpoint, the events it wants, its format),
/// the outbox of events waiting for them, every delivery attempt and its answer; a case's first overdue
/// notice; integration tokens (api keys of other systems, each acting as one user).
const V20: &str = r#"
CREATE TABLE webhooks (
    id TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    events TEXT NOT NULL,
    secret TEXT NOT NULL,
    format TEXT NOT NULL,
    department TEXT,
    description TEXT NOT NULL,
    active INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE outbox_events (
    id TEXT PRIMARY KEY,
    event TEXT NOT NULL,
    subject TEXT NOT NULL,
    at TEXT NOT NULL,
    change TEXT NOT NULL,
    data TEXT
) WITHOUT ROWID;
CREATE TABLE webhook_deliveries (
    id INTEGER PRIMARY KEY,
    webhook_id TEXT NOT NULL REFERENCES webhooks(id),
    event_id TEXT NOT NULL REFERENCES outbox_events(id),
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_ts INTEGER NOT NULL,
    window_from_ts INTEGER NOT NULL,
    last_status INTEGER,
    last_error TEXT,
    delivered_at TEXT,
    UNIQUE (webhook_id, event_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(next_ts) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_of ON webhook_deliveries(webhook_id, id);
CREATE TABLE webhook_attempts (
    id INTEGER PRIMARY KEY,
    delivery_id INTEGER NOT NULL REFERENCES webhook_deliveries(id),
    at TEXT NOT NULL,
    status INTEGER,
    error TEXT,
    answer TEXT,
    millis INTEGER NOT NULL
);
CREATE INDEX webhook_attempts_of ON webhook_attempts(delivery_id);
ALTER TABLE cases ADD COLUMN overdue_noticed INTEGER NOT NULL DEFAULT 0;
CREATE INDEX cases_due_unnoticed ON cases(due_at) WHERE overdue_noticed = 0 AND closed_at IS NULL;
CREATE INDEX cases_filed ON cases(filed_at, case_no);
CREATE TABLE integration_tokens (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    user_id TEXT NOT NULL REFERENCES users(id),
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
"#;

/// Schema 21: export jobs (the request, who asked, progress and outcome), followed by the console.
const V21: &str = r#"
CREATE TABLE exports (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    state TEXT NOT NULL,
    job TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX exports_of ON exports(user_id, created_at);
-- Exports read findings page after page in this order, from the last one written.
DROP INDEX findings_observed;
CREATE INDEX findings_observed ON findings(observed_ts, id);
"#;

/// Schema 22: each time a webhook delivery is taken (or sent again on request) it is claimed anew; a try records
/// its outcome only on the claim it was made under, so a late try never overwrites a newer one's.
const V22: &str = r#"
ALTER TABLE webhook_deliveries ADD COLUMN claim INTEGER NOT NULL DEFAULT 0;
"#;

/// When an export's server last worked on it: with several servers, a starting one ends only the jobs nobody
/// works on any more.
const V23: &str = r#"
ALTER TABLE exports ADD COLUMN heartbeat_at TEXT;
"#;

#[cfg(test)]
mod tests {
    use rusqlite::Connection;

    fn plan(conn: &Connection, sql: &str) -> String {
        let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        let rows = stmt.query_map([], |r| r.get::<_, String>(3)).unwrap();
        rows.map(Result::unwrap).collect::<Vec<_>>().join("; ")
    }

    #[test]
    fn the_case_index_still_serves_lookups_and_joins_by_case() {
        let mut conn = Connection::open_in_memory().unwrap();
        super::migrations().to_latest(&mut conn).unwrap();
        let by_case = plan(&conn, "SELECT id, state FROM findings WHERE case_no = 'C1'");
        assert!(by_case.contains("USING INDEX findings_case"), "{by_case}");
        let join =
            plan(&conn, "SELECT f.id FROM cases c JOIN findings f ON f.case_no = c.case_no WHERE c.state = 'closed'");
        assert!(join.contains("findings_case"), "{join}");
    }

    /// Exports page through findings and cases in index order, from the last row written: no sort of the
    /// whole period for each page.
    #[test]
    fn export_pages_follow_an_index_without_sorting() {
        let mut conn = Connection::open_in_memory().unwrap();
        super::migrations().to_latest(&mut conn).unwrap();
        let findings = plan(
            &conn,
            "SELECT f.id FROM findings f WHERE 1 = 1 AND (0 IS NULL OR f.observed_ts >= 0) AND (9 IS NULL OR f.observed_ts < 9)
               AND (f.observed_ts, f.id) > (5, 'x') ORDER BY f.observed_ts, f.id LIMIT 1000",
        );
        assert!(findings.contains("findings_observed") && !findings.contains("TEMP B-TREE"), "{findings}");
        let cases = plan(
            &conn,
            "SELECT c.case_no FROM cases c WHERE 1 = 1 AND ('a' IS NULL OR c.filed_at >= 'a')
               AND (c.filed_at, c.case_no) > ('b', 'x') ORDER BY c.filed_at, c.case_no LIMIT 1000",
        );
        assert!(cases.contains("cases_filed") && !cases.contains("TEMP B-TREE"), "{cases}");
    }

    #[test]
    fn the_migrations_apply_to_an_empty_store() {
        super::migrations().validate().unwrap();
    }

    /// A store of schema 5 (the previous release) with findings, their photos and a review in the
    /// findings' history, upgraded: nothing lost, photos joined to their findings by `seq`.
    #[test]
    fn a_store_of_schema_5_upgrades_with_its_findings_and_photos() {
        let mut conn = Connection::open_in_memory().unwrap();
        // As the store opens: foreign keys off while the schema changes.
        conn.pragma_update(None, "foreign_keys", "OFF").unwrap();
        let migrations = super::migrations();
        migrations.to_version(&mut conn, 5).unwrap();
        conn.execute_batch(
            "INSERT INTO teams (name, created_at) VALUES ('一中队', '2026-11-01T00:00:00.000Z');
             INSERT INTO users (id, username, password_hash, display_name, role, team, created_at)
                 VALUES ('u-1', 'inspector1', 'x', '张伟', 'inspector', '一中队', '2026-11-01T00:00:00.000Z');
             INSERT INTO findings (id, body_hash, body, device_id, reporter_id, team, category, dict_version,
                                   observed_ts, lat, lon, state, case_no, first_ack, received_at, fixed_on_spot)
                 VALUES ('f-b', 'h1', '{}', 'd-1', 'u-1', '一中队', 'E0102', 1, 100, 41.79, 123.43, 'pending_review',
                         NULL, '{}', '2026-11-02T00:00:00.000Z', 0),
                        ('f-a', 'h2', '{}', 'd-1', 'u-1', '一中队', 'C0102', 1, 200, 41.80, 123.44, 'filed',
                         '20261102-0001', '{}', '2026-11-02T00:00:01.000Z', 1);
             INSERT INTO finding_photos (finding_id, idx, sha256, role)
                 VALUES ('f-b', 0, 'aa', 'before'), ('f-b', 1, 'bb', 'after'), ('f-a', 0, 'cc', 'before');
             INSERT INTO finding_history (finding_id, at, actor, role, action, from_state, to_state)
                 VALUES ('f-a', '2026-11-02T01:00:00.000Z', 'chief1', 'chief', 'approve', 'pending_review', 'filed');",
        )
        .unwrap();
        migrations.to_latest(&mut conn).unwrap();
        conn.pragma_update(None, "foreign_keys", "ON").unwrap();

        let photos: Vec<(i64, String, i64, String, String)> = conn
            .prepare(
                "SELECT f.seq, f.id, p.idx, p.sha256, p.role FROM finding_photos p JOIN findings f ON f.seq = p.finding
                 ORDER BY f.seq, p.idx",
            )
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let expected = [(1, "f-b", 0, "aa", "before"), (1, "f-b", 1, "bb", "after"), (2, "f-a", 0, "cc", "before")]
            .map(|(seq, id, idx, sha, role)| (seq, id.to_owned(), idx, sha.to_owned(), role.to_owned()));
        assert_eq!(photos, expected, "photos keyed by the order the findings were received");
        let kept: (String, String, Option<String>, i64) = conn
            .query_row("SELECT state, category, case_no, fixed_on_spot FROM findings WHERE id = 'f-a'", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .unwrap();
        assert_eq!(kept, ("filed".into(), "C0102".into(), Some("20261102-0001".into()), 1));
        let broken: i64 = conn.query_row("SELECT COUNT(*) FROM pragma_foreign_key_check", [], |r| r.get(0)).unwrap();
        assert_eq!(broken, 0);
        // A second finding with the same id is still refused, and a new one goes after the others.
        assert!(conn.execute("INSERT INTO findings (id, body_hash, body, device_id, reporter_id, category, dict_version, observed_ts, lat, lon, state, first_ack, received_at) SELECT id, body_hash, body, device_id, reporter_id, category, dict_version, observed_ts, lat, lon, state, first_ack, received_at FROM findings WHERE id = 'f-a'", []).is_err());
        let by_sha =
            plan(&conn, "SELECT f.id FROM finding_photos p JOIN findings f ON f.seq = p.finding WHERE p.sha256 = 'aa'");
        assert!(by_sha.contains("finding_photos_sha"), "{by_sha}");
        let by_id = plan(&conn, "SELECT body_hash FROM findings WHERE id = 'f-a'");
        assert!(by_id.contains("USING INDEX"), "{by_id}");
    }

    /// A store of schema 6 with a handled case, a patrol and a finding made on it: the handling photo is
    /// found by its hash, the finding by its patrol, the patrol by its start.
    #[test]
    fn a_store_of_schema_6_upgrades_with_its_photos_and_patrols() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "foreign_keys", "OFF").unwrap();
        let migrations = super::migrations();
        migrations.to_version(&mut conn, 6).unwrap();
        conn.execute_batch(
            "INSERT INTO teams (name, created_at) VALUES ('一中队', '2026-11-01T00:00:00.000Z');
             INSERT INTO users (id, username, password_hash, display_name, role, team, created_at)
                 VALUES ('u-1', 'inspector1', 'x', '张伟', 'inspector', '一中队', '2026-11-01T00:00:00.000Z');
             INSERT INTO patrols (id, device_id, user_id, started_at)
                 VALUES ('p-1', 'd-1', 'u-1', '2026-11-02T08:30:00.5+08:00');
             INSERT INTO findings (id, body_hash, body, device_id, reporter_id, team, category, dict_version,
                                   observed_ts, lat, lon, state, case_no, first_ack, received_at)
                 VALUES ('f-1', 'h', '{\"patrol_id\":\"p-1\"}', 'd-1', 'u-1', '一中队', 'C0102', 1, 100, 41.8, 123.4,
                         'filed', 'C-1', '{}', '2026-11-02T01:00:00.000Z'),
                        ('f-2', 'h2', '{}', 'd-1', 'u-1', '一中队', 'C0102', 1, 100, 41.8, 123.4,
                         'filed', 'C-1', '{}', '2026-11-02T01:00:00.000Z');
             INSERT INTO cases (case_no, state, category, reporter_id, lat, lon, first_observed_ts, filed_at)
                 VALUES ('C-1', 'handled', 'C0102', 'u-1', 41.8, 123.4, 100, '2026-11-02T01:00:00.000Z');
             INSERT INTO case_history (case_no, at, actor, role, action, photos)
                 VALUES ('C-1', '2026-11-02T02:00:00.000Z', 'dept-sz', 'department', 'handle', '[\"aa\",\"bb\"]'),
                        ('C-1', '2026-11-02T01:00:00.000Z', 'chief1', 'chief', 'file', '[]');",
        )
        .unwrap();
        migrations.to_latest(&mut conn).unwrap();
        let count = |sql: &str| -> i64 { conn.query_row(sql, [], |r| r.get(0)).unwrap() };
        assert_eq!(count("SELECT COUNT(*) FROM case_photos WHERE sha256 = 'bb' AND case_no = 'C-1'"), 1);
        assert_eq!(count("SELECT COUNT(*) FROM case_photos"), 2);
        assert_eq!(count("SELECT COUNT(*) FROM findings WHERE patrol_id = 'p-1'"), 1);
        // 08:30:00.5 at +08:00 is 00:30:00 UTC.
        assert_eq!(count("SELECT started_ts FROM patrols WHERE id = 'p-1'"), 1_793_579_400);
        let by_sha = plan(&conn, "SELECT case_no FROM case_photos WHERE sha256 = 'aa'");
        assert!(by_sha.contains("case_photos_sha"), "{by_sha}");
        let by_patrol = plan(&conn, "SELECT COUNT(*) FROM findings WHERE patrol_id = 'p-1'");
        assert!(by_patrol.contains("findings_patrol"), "{by_patrol}");
    }

    /// Schema 9 keeps the grid each record had: what the device sent, for findings and for their cases.
    #[test]
    fn a_store_of_schema_8_keeps_the_grids_the_devices_sent() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "foreign_keys", "OFF").unwrap();
        let migrations = super::migrations();
        migrations.to_version(&mut conn, 8).unwrap();
        conn.execute_batch(
            "INSERT INTO findings (id, body_hash, body, device_id, reporter_id, team, category, dict_version,
                                   observed_ts, lat, lon, state, case_no, first_ack, received_at)
                 VALUES ('f-1', 'h', '{\"grid\":\"210103001\"}', 'd-1', 'u-1', NULL, 'C0102', 1, 100, 41.8, 123.4,
                         'filed', 'C-1', '{}', '2026-11-02T01:00:00.000Z'),
                        ('f-2', 'h2', '{\"grid\":null}', 'd-1', 'u-1', NULL, 'C0102', 1, 200, 41.8, 123.4,
                         'merged', 'C-1', '{}', '2026-11-02T01:00:00.000Z');
             INSERT INTO cases (case_no, state, category, reporter_id, lat, lon, first_observed_ts, filed_at)
                 VALUES ('C-1', 'dispatched', 'C0102', 'u-1', 41.8, 123.4, 100, '2026-11-02T01:00:00.000Z');",
        )
        .unwrap();
        migrations.to_latest(&mut conn).unwrap();
        let grid = |sql: &str| -> Option<String> { conn.query_row(sql, [], |r| r.get(0)).unwrap() };
        assert_eq!(grid("SELECT grid FROM findings WHERE id = 'f-1'").as_deref(), Some("210103001"));
        assert_eq!(grid("SELECT grid FROM findings WHERE id = 'f-2'"), None);
        assert_eq!(
            grid("SELECT grid FROM cases WHERE case_no = 'C-1'").as_deref(),
            Some("210103001"),
            "its first finding's"
        );
    }
}
