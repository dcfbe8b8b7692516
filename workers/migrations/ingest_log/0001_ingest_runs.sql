-- The ledger of ingestion runs: one row per cron run of each ingestion Worker.
CREATE TABLE ingest_runs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  sport TEXT NOT NULL,
  feed TEXT NOT NULL,
  started_at INTEGER NOT NULL,
  finished_at INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('ok', 'unchanged', 'failed')),
  upstream_status INTEGER,
  rows_written INTEGER NOT NULL DEFAULT 0,
  error TEXT
);
CREATE INDEX ingest_runs_by_feed ON ingest_runs (sport, feed, started_at);
