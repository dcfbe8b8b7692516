// The 5-minute collection run and the daily report.
import { positiveInteger } from "../shared/config";
import { DatabaseManager } from "../shared/db";
import { evaluate, reconcile, sendReport, thresholds, type Breach, type Metric } from "./alerts";
import { monitoredDatabases, type MonitorEnv } from "./env";
import { collect, growthRate, insertMetrics, type DatabaseMetrics } from "./metrics";
import { deliverPending } from "./outbox";

const DAY_MS = 86_400_000;
export const LATEST_KEY = "latest";

export interface Snapshot {
  collectedAt: string;
  databases: DatabaseMetrics[];
  openIncidents: number;
}

export async function collectAll(env: MonitorEnv, now: number): Promise<Snapshot> {
  const history = new DatabaseManager(env.MONITOR_DB);
  const limits = thresholds(env);
  const collected = await Promise.all(monitoredDatabases(env).map(([name, db]) => collect(name, db, now)));
  const metrics = await Promise.all(
    collected.map(async (m) => (m.error === null ? { ...m, growthMbPerDay: await growthRate(history, m) } : m)),
  );
  await history.transaction(metrics.map(insertMetrics));

  const measured = new Map<string, Metric[]>();
  const breaches: Breach[] = [];
  for (const m of metrics) {
    const result = evaluate(m, limits);
    measured.set(m.database, result.measured);
    breaches.push(...result.breaches);
  }
  await reconcile(history, env, now, measured, breaches);
  await deliverPending(history, env, now);
  await removeExpired(history, env, now);

  const open = await history.first<{ n: number }>({ sql: "SELECT COUNT(*) AS n FROM incidents WHERE resolved_at IS NULL", params: [] });
  const snapshot: Snapshot = { collectedAt: new Date(now).toISOString(), databases: metrics, openIncidents: open?.n ?? 0 };
  await env.STATE.put(LATEST_KEY, JSON.stringify(snapshot));
  return snapshot;
}

async function removeExpired(history: DatabaseManager, env: MonitorEnv, now: number): Promise<void> {
  const cutoff = now - positiveInteger(env, "RETENTION_DAYS") * DAY_MS;
  await history.transaction([
    { sql: "DELETE FROM db_metrics WHERE collected_at < ?", params: [cutoff] },
    {
      sql: `DELETE FROM alert_deliveries WHERE incident_id IN
              (SELECT id FROM incidents WHERE resolved_at IS NOT NULL AND resolved_at < ?)`,
      params: [cutoff],
    },
    {
      sql: `DELETE FROM alert_outbox WHERE incident_id IN
              (SELECT id FROM incidents WHERE resolved_at IS NOT NULL AND resolved_at < ?)`,
      params: [cutoff],
    },
    { sql: "DELETE FROM incidents WHERE resolved_at IS NOT NULL AND resolved_at < ?", params: [cutoff] },
  ]);
}

interface DayRow {
  database: string;
  samples: number;
  errors: number;
  first_size: number | null;
  last_size: number | null;
  max_latency_ms: number | null;
  avg_latency_ms: number | null;
  [column: string]: string | number | null;
}

/** The report of the 24 hours before `now`, stored under its UTC date and sent signed. */
export async function dailyReport(env: MonitorEnv, now: number): Promise<Record<string, unknown>> {
  const history = new DatabaseManager(env.MONITOR_DB);
  const since = now - DAY_MS;
  const databases = await history.all<DayRow>({
    sql: `SELECT database, COUNT(*) AS samples, COUNT(error) AS errors,
            (SELECT size_bytes FROM db_metrics f WHERE f.database = m.database AND f.collected_at >= ?1 AND f.size_bytes IS NOT NULL ORDER BY f.collected_at ASC LIMIT 1) AS first_size,
            (SELECT size_bytes FROM db_metrics l WHERE l.database = m.database AND l.collected_at >= ?1 AND l.size_bytes IS NOT NULL ORDER BY l.collected_at DESC LIMIT 1) AS last_size,
            MAX(latency_ms) AS max_latency_ms, AVG(latency_ms) AS avg_latency_ms
          FROM db_metrics m WHERE collected_at >= ?1 AND collected_at <= ?2
          GROUP BY database ORDER BY database`,
    params: [since, now],
  });
  const opened = await history.all({ sql: "SELECT database, metric, severity, opened_at FROM incidents WHERE opened_at >= ? ORDER BY opened_at", params: [since] });
  const resolved = await history.all({ sql: "SELECT database, metric, resolved_at FROM incidents WHERE resolved_at >= ? ORDER BY resolved_at", params: [since] });
  const stillOpen = await history.all({ sql: "SELECT database, metric, severity, opened_at FROM incidents WHERE resolved_at IS NULL ORDER BY opened_at", params: [] });
  const reportDate = new Date(now).toISOString().slice(0, 10);
  const report = {
    date: reportDate,
    from: new Date(since).toISOString(),
    to: new Date(now).toISOString(),
    databases: databases.map((d) => ({
      database: d.database,
      samples: d.samples,
      errors: d.errors,
      sizeBytes: d.last_size,
      growthBytes: d.first_size === null || d.last_size === null ? null : d.last_size - d.first_size,
      maxLatencyMs: d.max_latency_ms,
      avgLatencyMs: d.avg_latency_ms === null ? null : Math.round(d.avg_latency_ms * 10) / 10,
    })),
    incidents: { opened, resolved, open: stillOpen },
  };
  await history.write({
    sql: "INSERT INTO reports (report_date, created_at, body) VALUES (?, ?, ?) ON CONFLICT (report_date) DO UPDATE SET created_at = excluded.created_at, body = excluded.body",
    params: [reportDate, now, JSON.stringify(report)],
  });
  await sendReport(env, report);
  return report;
}
