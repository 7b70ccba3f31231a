-- The lists of "my reports" run newest first, by state or by day.
DROP INDEX findings_by_state;
DROP INDEX findings_by_day;
CREATE INDEX findings_by_state ON findings(local_state, created_at, id);
CREATE INDEX findings_by_day ON findings(observed_day, created_at, id);
CREATE INDEX findings_by_created ON findings(created_at, id);
