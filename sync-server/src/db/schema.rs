//! The server's SQLite schema as an append-only list of migrations. Never edit a released step; add one.

use rusqlite_migration::{M, Migrations};

pub fn migrations() -> Migrations<'static> {
    Migrations::new(vec![M::up(V1), M::up(V2), M::up(V3), M::up(V4), M::up(V5)])
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
}
