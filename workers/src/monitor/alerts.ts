// Thresholds and incidents.
//
// An incident is one breach of one metric of one database. It alerts when it opens,
// again when it escalates from warning to critical, as a reminder once per re-alert
// interval while it lasts, and once more when it clears. Alerts are queued in the outbox
// (outbox.ts), which delivers them.
import { positiveInteger, positiveNumber } from "../shared/config";
import type { DatabaseManager, Query } from "../shared/db";
import type { MonitorEnv } from "./env";
import { BYTES_PER_MB, type DatabaseMetrics } from "./metrics";
import { queueAlerts, type Alert } from "./outbox";
import { sendSigned, type SendResult } from "./webhook";

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

/** An incident as the alert about it describes it: its breach (updated as it escalates) and times. */
interface Incident extends Breach {
  opened_at: number;
  last_alerted_at: number;
  resolved_at: number | null;
}

/** A row of `incidents`. */
interface IncidentRow extends Incident {
  id: number;
  [column: string]: string | number | null;
}

const SEVERITY_RANK: Record<Severity, number> = { warning: 1, critical: 2 };

/** The alert as it is when decided; the outbox adds the incident's id, its own id and the time it is sent. */
function alertPayload(kind: AlertKind, incident: Incident): Record<string, unknown> {
  return {
    type: "blaze.monitor.alert",
    kind,
    severity: kind === "resolved" ? "resolved" : incident.severity,
    summary: kind === "resolved" ? `${incident.database} ${LABELS[incident.metric]} is back within its thresholds` : incident.message,
    incident: {
      database: incident.database,
      metric: incident.metric,
      severity: incident.severity,
      value: incident.value,
      threshold: incident.threshold,
      openedAt: new Date(incident.opened_at).toISOString(),
      resolvedAt: incident.resolved_at === null ? null : new Date(incident.resolved_at).toISOString(),
    },
  };
}

type Due =
  | { kind: "opened"; breach: Breach }
  | { kind: "escalated" | "reminder"; breach: Breach; incident: IncidentRow }
  | { kind: "resolved"; incident: IncidentRow };

/** The statement that writes what `due` changes about its incident, and the alert it sends. */
function decide(due: Due, now: number): { write: Query; alert: Alert } {
  if (due.kind === "opened") {
    const b = due.breach;
    const incident: Incident = { ...b, opened_at: now, last_alerted_at: now, resolved_at: null };
    return {
      write: {
        sql: `INSERT INTO incidents (database, metric, severity, value, threshold, message, opened_at, last_alerted_at)
              VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        params: [b.database, b.metric, b.severity, b.value, b.threshold, b.message, now, now],
      },
      alert: { kind: "opened", incidentId: null, database: b.database, metric: b.metric, payload: alertPayload("opened", incident) },
    };
  }
  const { id, database, metric } = due.incident;
  if (due.kind === "resolved") {
    return {
      write: { sql: "UPDATE incidents SET resolved_at = ? WHERE id = ?", params: [now, id] },
      alert: { kind: "resolved", incidentId: id, database, metric, payload: alertPayload("resolved", { ...due.incident, resolved_at: now }) },
    };
  }
  const { severity, value, threshold, message } = due.breach;
  return {
    write: {
      sql: "UPDATE incidents SET severity = ?, value = ?, threshold = ?, message = ?, last_alerted_at = ? WHERE id = ?",
      params: [severity, value, threshold, message, now, id],
    },
    alert: { kind: due.kind, incidentId: id, database, metric, payload: alertPayload(due.kind, { ...due.incident, ...due.breach }) },
  };
}

/**
 * Brings the incidents in line with this run's breaches and queues the alerts that are
 * due, in one transaction: an incident never changes without its alert being queued.
 * Only metrics in `measured` can resolve: no data is not a recovery.
 */
export async function reconcile(
  history: DatabaseManager,
  env: MonitorEnv,
  now: number,
  measured: Map<string, Metric[]>,
  breaches: Breach[],
): Promise<void> {
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
  await history.transaction(
    due.flatMap((item) => {
      const { write, alert } = decide(item, now);
      return [write, ...queueAlerts(env, alert, now)];
    }),
  );
}

export async function sendReport(env: MonitorEnv, report: unknown): Promise<SendResult> {
  return sendSigned(env, { type: "blaze.monitor.report", report, sentAt: new Date().toISOString() });
}
