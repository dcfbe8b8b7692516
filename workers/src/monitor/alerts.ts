// Thresholds, incidents and the webhook.
//
// An incident is one breach of one metric of one database. It alerts when it opens,
// again when it escalates from warning to critical, as a reminder once per re-alert
// interval while it lasts, and once more when it clears. Deliveries are signed with
// HMAC-SHA256 over "<timestamp>.<body>" (X-Blaze-Timestamp, X-Blaze-Signature), so the
// receiver can check origin and reject replays.
import { positiveInteger, positiveNumber, text } from "../shared/config";
import { hmacSha256Hex } from "../shared/crypto";
import type { DatabaseManager, Query } from "../shared/db";
import type { MonitorEnv } from "./env";
import { BYTES_PER_MB, type DatabaseMetrics } from "./metrics";

export type Severity = "warning" | "critical";
export type Metric = "size_mb" | "growth_mb_per_day" | "latency_ms" | "error";
export type AlertKind = "opened" | "escalated" | "reminder" | "resolved";

export interface Breach {
  database: string;
  metric: Metric;
  severity: Severity;
  value: number | null;
  threshold: number | null;
  message: string;
}

interface Thresholds {
  warning: number;
  critical: number;
}

export function thresholds(env: MonitorEnv): Record<Exclude<Metric, "error">, Thresholds> {
  return {
    size_mb: { warning: positiveNumber(env, "SIZE_WARNING_MB"), critical: positiveNumber(env, "SIZE_CRITICAL_MB") },
    growth_mb_per_day: {
      warning: positiveNumber(env, "GROWTH_WARNING_MB_PER_DAY"),
      critical: positiveNumber(env, "GROWTH_CRITICAL_MB_PER_DAY"),
    },
    latency_ms: { warning: positiveNumber(env, "LATENCY_WARNING_MS"), critical: positiveNumber(env, "LATENCY_CRITICAL_MS") },
  };
}

const LABELS: Record<Metric, string> = {
  size_mb: "size",
  growth_mb_per_day: "growth",
  latency_ms: "query latency",
  error: "collection",
};
const UNITS: Record<Exclude<Metric, "error">, string> = { size_mb: "MB", growth_mb_per_day: "MB/day", latency_ms: "ms" };

/**
 * The metrics this run could measure, and the breaches among them. A database whose
 * collection failed has only its error measured: its other incidents stay as they were.
 */
export function evaluate(metrics: DatabaseMetrics, limits: ReturnType<typeof thresholds>): { measured: Metric[]; breaches: Breach[] } {
  const { database } = metrics;
  if (metrics.error !== null) {
    return {
      measured: ["error"],
      breaches: [{ database, metric: "error", severity: "critical", value: null, threshold: null, message: `collecting ${database} failed: ${metrics.error}` }],
    };
  }
  const values: [Exclude<Metric, "error">, number | null][] = [
    ["size_mb", metrics.sizeBytes === null ? null : metrics.sizeBytes / BYTES_PER_MB],
    ["growth_mb_per_day", metrics.growthMbPerDay],
    ["latency_ms", metrics.latencyMs],
  ];
  const measured: Metric[] = ["error"];
  const breaches: Breach[] = [];
  for (const [metric, value] of values) {
    if (value === null) continue;
    measured.push(metric);
    const limit = limits[metric];
    const severity: Severity | null = value >= limit.critical ? "critical" : value >= limit.warning ? "warning" : null;
    if (severity === null) continue;
    const threshold = severity === "critical" ? limit.critical : limit.warning;
    const shown = Math.round(value * 100) / 100;
    breaches.push({
      database,
      metric,
      severity,
      value,
      threshold,
      message: `${database} ${LABELS[metric]} is ${shown} ${UNITS[metric]}, at or above the ${severity} threshold of ${threshold} ${UNITS[metric]}`,
    });
  }
  return { measured, breaches };
}

/** A row of `incidents`: the breach that opened it (updated as it escalates), and its times. */
interface IncidentRow extends Breach {
  id: number;
  opened_at: number;
  last_alerted_at: number;
  resolved_at: number | null;
  [column: string]: string | number | null;
}

export interface Delivery {
  kind: AlertKind;
  incident: IncidentRow;
}

const SEVERITY_RANK: Record<Severity, number> = { warning: 1, critical: 2 };
const WEBHOOK_TIMEOUT_MS = 10_000;

async function sendSigned(env: MonitorEnv, payload: unknown): Promise<{ status: number | null; error: string | null }> {
  const body = JSON.stringify(payload);
  const timestamp = String(Math.floor(Date.now() / 1000));
  const signature = await hmacSha256Hex(text(env, "ALERT_WEBHOOK_SECRET"), `${timestamp}.${body}`);
  try {
    const response = await fetch(text(env, "ALERT_WEBHOOK_URL"), {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "user-agent": "blaze-monitor",
        "x-blaze-timestamp": timestamp,
        "x-blaze-signature": `sha256=${signature}`,
      },
      body,
      signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
    });
    await response.body?.cancel();
    return { status: response.status, error: response.ok ? null : `webhook answered ${response.status}` };
  } catch (err) {
    // The URL is a secret: report the failure's kind, never the address.
    return { status: null, error: err instanceof Error ? err.name : "fetch failed" };
  }
}

function alertPayload(delivery: Delivery, now: number): Record<string, unknown> {
  const { incident, kind } = delivery;
  return {
    type: "blaze.monitor.alert",
    kind,
    severity: kind === "resolved" ? "resolved" : incident.severity,
    summary: kind === "resolved" ? `${incident.database} ${LABELS[incident.metric]} is back within its thresholds` : incident.message,
    incident: {
      id: incident.id,
      database: incident.database,
      metric: incident.metric,
      severity: incident.severity,
      value: incident.value,
      threshold: incident.threshold,
      openedAt: new Date(incident.opened_at).toISOString(),
      resolvedAt: incident.resolved_at === null ? null : new Date(incident.resolved_at).toISOString(),
    },
    sentAt: new Date(now).toISOString(),
  };
}

type Due =
  | { kind: "opened"; breach: Breach }
  | { kind: "escalated" | "reminder"; breach: Breach; incident: IncidentRow }
  | { kind: "resolved"; incident: IncidentRow };

/** Writes what `due` changes about its incident; returns the incident as it now is. */
async function record(history: DatabaseManager, due: Due, now: number): Promise<IncidentRow> {
  if (due.kind === "opened") {
    const b = due.breach;
    const [inserted] = await history.transaction([
      {
        sql: `INSERT INTO incidents (database, metric, severity, value, threshold, message, opened_at, last_alerted_at)
              VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`,
        params: [b.database, b.metric, b.severity, b.value, b.threshold, b.message, now, now],
      },
    ]);
    return inserted![0] as IncidentRow;
  }
  if (due.kind === "resolved") {
    await history.write({ sql: "UPDATE incidents SET resolved_at = ? WHERE id = ?", params: [now, due.incident.id] });
    return { ...due.incident, resolved_at: now };
  }
  const { severity, value, threshold, message } = due.breach;
  await history.write({
    sql: "UPDATE incidents SET severity = ?, value = ?, threshold = ?, message = ? WHERE id = ?",
    params: [severity, value, threshold, message, due.incident.id],
  });
  return { ...due.incident, severity, value, threshold, message };
}

/**
 * Brings the incidents in line with this run's breaches and sends what is due. Only
 * metrics in `measured` can resolve: no data is not a recovery.
 */
export async function reconcile(
  history: DatabaseManager,
  env: MonitorEnv,
  now: number,
  measured: Map<string, Metric[]>,
  breaches: Breach[],
): Promise<Delivery[]> {
  const realertMs = positiveInteger(env, "REALERT_MINUTES") * 60_000;
  const open = await history.all<IncidentRow>({ sql: "SELECT * FROM incidents WHERE resolved_at IS NULL", params: [] });
  const openByKey = new Map(open.map((i) => [`${i.database}/${i.metric}`, i]));
  const due: Due[] = [];
  for (const breach of breaches) {
    const key = `${breach.database}/${breach.metric}`;
    const incident = openByKey.get(key);
    openByKey.delete(key);
    if (!incident) due.push({ kind: "opened", breach });
    else if (SEVERITY_RANK[breach.severity] > SEVERITY_RANK[incident.severity]) due.push({ kind: "escalated", breach, incident });
    else if (now - incident.last_alerted_at >= realertMs) due.push({ kind: "reminder", breach, incident });
  }
  for (const incident of openByKey.values()) {
    if (measured.get(incident.database)?.includes(incident.metric)) due.push({ kind: "resolved", incident });
  }

  const deliveries: Delivery[] = [];
  for (const item of due) deliveries.push({ kind: item.kind, incident: await record(history, item, now) });

  const records: Query[] = [];
  for (const delivery of deliveries) {
    const result = await sendSigned(env, alertPayload(delivery, now));
    records.push({
      sql: "INSERT INTO alert_deliveries (incident_id, kind, sent_at, status, error) VALUES (?, ?, ?, ?, ?)",
      params: [delivery.incident.id, delivery.kind, now, result.status, result.error],
    });
    // An open incident whose alert did not arrive is due for a reminder at the next run.
    records.push({
      sql: "UPDATE incidents SET last_alerted_at = ? WHERE id = ?",
      params: [result.error === null ? now : 0, delivery.incident.id],
    });
  }
  await history.transaction(records);
  return deliveries;
}

export async function sendReport(env: MonitorEnv, report: unknown): Promise<{ status: number | null; error: string | null }> {
  return sendSigned(env, { type: "blaze.monitor.report", report, sentAt: new Date().toISOString() });
}
