-- SQLite schema 23: when an export's server last worked on it. With several servers, a starting one ends only
-- the jobs nobody works on any more.
ALTER TABLE exports ADD COLUMN heartbeat_at TEXT COLLATE "C";
