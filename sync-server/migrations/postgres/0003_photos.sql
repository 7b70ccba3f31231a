-- Photos' rows, named by the SHA-256 of their bytes (held once; a purged one, uploaded again, is held anew in
-- its new place), and the resumable uploads under way.
CREATE TABLE blobs (
    sha256 TEXT PRIMARY KEY,
    bytes BIGINT NOT NULL,
    content_type TEXT NOT NULL,
    uploaded_by UUID NOT NULL REFERENCES users(id),
    created_at TIMESTAMPTZ NOT NULL,
    pack INTEGER,
    pack_offset BIGINT,
    purged_at TIMESTAMPTZ
);

CREATE TABLE uploads (
    sha256 TEXT PRIMARY KEY,
    length BIGINT NOT NULL,
    started_by UUID NOT NULL REFERENCES users(id),
    started_at TIMESTAMPTZ NOT NULL
);
