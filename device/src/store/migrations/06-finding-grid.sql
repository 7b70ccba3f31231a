-- The unit grid (单元网格) of each finding as a column: the phone's own assignment from its dictionary when
-- the report is saved, then the server's (the record) once a `finding.updated` change says it.
ALTER TABLE findings ADD COLUMN grid TEXT;
UPDATE findings SET grid = json_extract(body, '$.grid') WHERE json_valid(body);
