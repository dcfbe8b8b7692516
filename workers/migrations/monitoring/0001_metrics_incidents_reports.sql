-- The monitor's history. Times are epoch milliseconds of the cron run that wrote them.
CREATE TABLE db_metrics (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  collected_at INTEGER NOT NULL,
  database TEXT NOT NULL,
  size_bytes INTEGER,
  table_count INTEGER,
  row_count INTEGER,
  table_rows TEXT CHECK (table_rows IS NULL OR json_valid(table_rows)),
  growth_mb_per_day REAL,
  latency_ms REAL,
  error TEXT
);
CREATE INDEX db_metrics_by_database ON db_metrics (database, collected_at);
CREATE INDEX db_metrics_by_time ON db_metrics (collected_at);

-- An incident is one breach of one metric of one database, from first alert to recovery.
CREATE TABLE incidents (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  database TEXT NOT NULL,
  metric TEXT NOT NULL,
  severity TEXT NOT NULL CHECK (severity IN ('warning', 'critical')),
  value REAL,
  threshold REAL,
  message TEXT NOT NULL,
  opened_at INTEGER NOT NULL,
  last_alerted_at INTEGER NOT NULL,
  resolved_at INTEGER
);
CREATE UNIQUE INDEX incidents_one_open_per_metric ON incidents (database, metric) WHERE resolved_at IS NULL;

CREATE TABLE alert_deliveries (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  incident_id INTEGER NOT NULL REFERENCES incidents (id),
  kind TEXT NOT NULL CHECK (kind IN ('opened', 'escalated', 'reminder', 'resolved')),
  sent_at INTEGER NOT NULL,
  status INTEGER,
  error TEXT
);
CREATE INDEX alert_deliveries_by_incident ON alert_deliveries (incident_id, sent_at);

CREATE TABLE reports (
  report_date TEXT PRIMARY KEY,
  created_at INTEGER NOT NULL,
  body TEXT NOT NULL CHECK (json_valid(body))
);
