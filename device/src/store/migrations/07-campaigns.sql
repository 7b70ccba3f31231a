-- Campaigns (每月一主题) the server announced: their categories come first in the category picker while they run.
CREATE TABLE campaigns (
    id TEXT PRIMARY KEY,
    body TEXT NOT NULL
);
