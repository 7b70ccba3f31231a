-- The map: each finding's position as columns (read for markers without parsing every body), and the
-- points of each patrol's track kept on the phone (the outbox forgets them once the server has them).
ALTER TABLE findings ADD COLUMN lat REAL;
ALTER TABLE findings ADD COLUMN lon REAL;
UPDATE findings SET lat = json_extract(body, '$.location.lat'), lon = json_extract(body, '$.location.lon')
    WHERE json_valid(body);
CREATE TABLE track_points (
    patrol_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    lat REAL NOT NULL,
    lon REAL NOT NULL,
    t TEXT NOT NULL,
    PRIMARY KEY (patrol_id, seq)
) WITHOUT ROWID;
