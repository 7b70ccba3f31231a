-- Processed photos on disk (photos/<sha256>.jpg and .thumb.jpg), whether or not a report uses them yet.
CREATE TABLE photo_files (
    sha256 TEXT PRIMARY KEY,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    taken_at TEXT,
    created_at TEXT NOT NULL
) WITHOUT ROWID;
ALTER TABLE patrols ADD COLUMN paused_at TEXT;
