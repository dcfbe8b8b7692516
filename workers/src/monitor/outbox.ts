// Delivering alerts so that a failed delivery is not a lost alert. `reconcile` queues each
// alert it decides in `alert_outbox`, one row per destination, with the payload as it was
// then; every run sends what is pending, oldest first, and marks a row delivered only when
// its destination accepted it (2xx). So a later run retries what a destination did not
// take, recoveries included, and never re-sends what it took. Retrying ends when the alert
// is older than ALERT_RETRY_HOURS: the row stays, abandoned, for the record.
import { positiveInteger } from "../shared/config";
import type { DatabaseManager, Query, SqlValue } from "../shared/db";
import type { AlertKind } from "./alerts";
import type { MonitorEnv } from "./env";
import { sendSigned, type SendResult } from "./webhook";

type Send = (env: MonitorEnv, payload: unknown) => Promise<SendResult>;

// Where alerts go, by the name their outbox rows carry. Rows are per destination so that,
// with several, one that took an alert is not sent it again while another is retried.
const DESTINATIONS: Record<string, Send> = { webhook: sendSigned };

const HOUR_MS = 3_600_000;
// A backlog drains over several runs rather than spending one run's subrequests on it.
const MAX_SENDS_PER_RUN = 50;

export interface Alert {
  kind: AlertKind;
  /** Null for an incident the same transaction opens: it is then the open one of its database and metric. */
  incidentId: number | null;
  database: string;
  metric: string;
  payload: Record<string, unknown>;
}

interface OutboxRow {
  id: number;
  incident_id: number;
  kind: AlertKind;
  destination: string;
  payload: string;
  [column: string]: SqlValue;
}

function retryCutoff(env: MonitorEnv, now: number): number {
  return now - positiveInteger(env, "ALERT_RETRY_HOURS") * HOUR_MS;
}

/**
 * The statements that queue `alert` for every destination, the incident's id written into
 * the payload. A reminder is not queued to a destination that still has an alert of its
 * incident pending: that one, when it arrives, says the incident is open, and a
 * destination that was down for hours would otherwise get a burst of reminders.
 */
export function queueAlerts(env: MonitorEnv, alert: Alert, now: number): Query[] {
  const cutoff = retryCutoff(env, now);
  return Object.keys(DESTINATIONS).map((destination) => ({
    sql: `INSERT INTO alert_outbox (incident_id, kind, destination, payload, created_at)
          SELECT i.id, ?2, ?3, json_set(?4, '$.incident.id', i.id), ?5 FROM incidents i
          WHERE i.id = COALESCE(?1, (SELECT id FROM incidents WHERE database = ?7 AND metric = ?8 AND resolved_at IS NULL))
            AND (?2 != 'reminder' OR NOT EXISTS (
              SELECT 1 FROM alert_outbox o
              WHERE o.incident_id = i.id AND o.destination = ?3 AND o.delivered_at IS NULL AND o.abandoned_at IS NULL AND o.created_at >= ?6))`,
    params: [alert.incidentId, alert.kind, destination, JSON.stringify(alert.payload), now, cutoff, alert.database, alert.metric],
  }));
}

// No answer, a timeout, a 5xx, 408 or 429: the destination is not taking alerts now, so
// the run stops sending to it (one timeout per run, not one per pending alert). Any other
// refusal is about that alert, and the run goes on with the next one.
function unavailable(result: SendResult): boolean {
  return result.status === null || result.status >= 500 || result.status === 408 || result.status === 429;
}

/** Gives up what is too old, then sends what is pending, oldest first; records every attempt. */
export async function deliverPending(history: DatabaseManager, env: MonitorEnv, now: number): Promise<void> {
  // One batch, so on the primary: a read replica could still show as pending a row an
  // earlier run delivered, and it would be sent twice.
  const [, pending] = await history.transaction([
    {
      sql: "UPDATE alert_outbox SET abandoned_at = ? WHERE delivered_at IS NULL AND abandoned_at IS NULL AND created_at < ?",
      params: [now, retryCutoff(env, now)],
    },
    {
      sql: `SELECT id, incident_id, kind, destination, payload FROM alert_outbox
            WHERE delivered_at IS NULL AND abandoned_at IS NULL ORDER BY id LIMIT ?`,
      params: [MAX_SENDS_PER_RUN],
    },
  ]);
  const down = new Set<string>();
  for (const alert of (pending ?? []) as OutboxRow[]) {
    const send = DESTINATIONS[alert.destination];
    // A destination no longer in the code: its rows wait out their retry window.
    if (send === undefined || down.has(alert.destination)) continue;
    // alertId stays the same across retries: a receiver that got an alert whose answer was
    // lost (a timeout after it accepted) can tell the retry is the same alert.
    const result = await send(env, { ...JSON.parse(alert.payload), alertId: alert.id, sentAt: new Date(now).toISOString() });
    // Recorded at once, not at the end of the run: a run that dies midway must not leave
    // an accepted alert looking pending.
    await history.transaction([
      {
        sql: "INSERT INTO alert_deliveries (incident_id, kind, sent_at, status, error, alert_id) VALUES (?, ?, ?, ?, ?, ?)",
        params: [alert.incident_id, alert.kind, now, result.status, result.error, alert.id],
      },
      {
        sql: "UPDATE alert_outbox SET attempts = attempts + 1, delivered_at = ? WHERE id = ?",
        params: [result.error === null ? now : null, alert.id],
      },
    ]);
    if (result.error !== null && unavailable(result)) down.add(alert.destination);
  }
}
