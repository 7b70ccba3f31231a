-- The feed of changes back to devices. With several servers writing at once, identity values become visible
-- out of order (a transaction that took id 7 may commit after one that took id 8), so a reader that moved its
-- cursor past 8 would never see 7. Each row carries the id of its transaction (`txid`), and readers take only
-- rows of transactions older than the oldest one still running (`pg_snapshot_xmin`), in (txid, id) order: no
-- row can later appear before a position a reader has passed.
CREATE TABLE changes (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    txid xid8 NOT NULL DEFAULT pg_current_xact_id(),
    user_id UUID,
    team TEXT,
    kind TEXT NOT NULL,
    body JSONB NOT NULL,
    at TIMESTAMPTZ NOT NULL
);
CREATE INDEX changes_position ON changes(txid, id);
