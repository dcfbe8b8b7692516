-- Alerts to deliver: one row per alert and destination, written in the run that decided
-- the alert, with its payload as it was then. A row stays pending until its destination
-- accepts it (delivered_at) or the alert is too old to be worth sending (abandoned_at), so
-- a run that could not deliver leaves the alert to the next run, recoveries included, and
-- a destination that accepted it is never sent it again.
CREATE TABLE alert_outbox (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  incident_id INTEGER NOT NULL REFERENCES incidents (id),
  kind TEXT NOT NULL CHECK (kind IN ('opened', 'escalated', 'reminder', 'resolved')),
  destination TEXT NOT NULL,
  payload TEXT NOT NULL CHECK (json_valid(payload)),
  created_at INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  delivered_at INTEGER,
  abandoned_at INTEGER,
  CHECK (delivered_at IS NULL OR abandoned_at IS NULL)
);
CREATE INDEX alert_outbox_pending ON alert_outbox (id) WHERE delivered_at IS NULL AND abandoned_at IS NULL;
CREATE INDEX alert_outbox_by_incident ON alert_outbox (incident_id, destination);

-- Each attempt names the alert it tried; attempts made before the outbox existed have none.
ALTER TABLE alert_deliveries ADD COLUMN alert_id INTEGER REFERENCES alert_outbox (id);
