CREATE TABLE tasks (
    id TEXT PRIMARY KEY,
    case_no TEXT NOT NULL,
    body TEXT NOT NULL,
    due_at TEXT,
    state TEXT NOT NULL,
    result TEXT,
    assigned_at TEXT NOT NULL,
    completed_at TEXT
);
CREATE TABLE area_cases (
    case_no TEXT PRIMARY KEY,
    category TEXT NOT NULL,
    state TEXT NOT NULL,
    lat REAL NOT NULL,
    lon REAL NOT NULL,
    observed_at TEXT NOT NULL
);
CREATE TABLE patrols (
    id TEXT PRIMARY KEY,
    started_at TEXT NOT NULL,
    ended_at TEXT,
    distance_m REAL NOT NULL DEFAULT 0,
    last_lat REAL,
    last_lon REAL,
    points INTEGER NOT NULL DEFAULT 0
);
