CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE dictionary (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL, body TEXT NOT NULL);
CREATE TABLE findings (
    id TEXT PRIMARY KEY,
    body TEXT NOT NULL,
    category TEXT NOT NULL,
    description TEXT NOT NULL,
    observed_at TEXT NOT NULL,
    observed_day TEXT NOT NULL,
    patrol_id TEXT,
    local_state TEXT NOT NULL,
    server_state TEXT,
    case_no TEXT,
    case_state TEXT,
    reason TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX findings_by_state ON findings(local_state, observed_at);
CREATE INDEX findings_by_day ON findings(observed_day, observed_at);
CREATE TABLE photos (
    finding_id TEXT NOT NULL REFERENCES findings(id),
    idx INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    role TEXT NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    taken_at TEXT,
    PRIMARY KEY (finding_id, idx)
) WITHOUT ROWID;
CREATE TABLE blobs (
    sha256 TEXT PRIMARY KEY,
    file TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    uploaded INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE TABLE outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    body TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    result TEXT,
    created_at TEXT NOT NULL,
    done_at TEXT
);
CREATE INDEX outbox_by_state ON outbox(state, seq);
CREATE TABLE outbox_blobs (
    seq INTEGER NOT NULL REFERENCES outbox(seq),
    sha256 TEXT NOT NULL,
    PRIMARY KEY (seq, sha256)
) WITHOUT ROWID;
