-- The PostgreSQL store, first part: the accounts every other record refers to (issue S). The embedded SQLite
-- store's schema is sync-server/src/db/schema.rs; this one is its counterpart with PostgreSQL's own types.

CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

CREATE TABLE dictionary_versions (
    version BIGINT PRIMARY KEY,
    body JSONB NOT NULL,
    imported_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE teams (name TEXT PRIMARY KEY, created_at TIMESTAMPTZ);

CREATE TABLE users (
    id UUID PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL,
    team TEXT REFERENCES teams(name),
    department TEXT,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMPTZ NOT NULL,
    totp_secret TEXT,
    totp_enabled BOOLEAN NOT NULL DEFAULT FALSE,
    totp_last_step BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE devices (
    id UUID PRIMARY KEY,
    user_id UUID NOT NULL REFERENCES users(id),
    name TEXT NOT NULL,
    platform TEXT NOT NULL,
    app_version TEXT NOT NULL,
    token_hash TEXT UNIQUE,
    registered_at TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ,
    last_sync_at TIMESTAMPTZ,
    backlog BIGINT,
    dictionary_version BIGINT,
    public_key TEXT
);

CREATE TABLE device_keys (
    device_id UUID NOT NULL REFERENCES devices(id),
    public_key TEXT NOT NULL,
    registered_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (device_id, public_key)
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id UUID NOT NULL REFERENCES users(id),
    expires_at TIMESTAMPTZ NOT NULL,
    enrol_only BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX sessions_expiry ON sessions(expires_at);

CREATE TABLE integration_tokens (
    id UUID PRIMARY KEY,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    user_id UUID NOT NULL REFERENCES users(id),
    created_by TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ
);

CREATE TABLE audit_log (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at TIMESTAMPTZ NOT NULL,
    actor TEXT,
    role TEXT,
    action TEXT NOT NULL,
    target TEXT,
    detail TEXT,
    address TEXT,
    outcome TEXT NOT NULL
);
CREATE INDEX audit_log_at ON audit_log(at);
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only';
END $$;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
