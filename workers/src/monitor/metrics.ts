// Collecting one database's metrics: size (D1 reports it with every result), row counts
// per table (one batch of COUNT(*) queries), a latency probe, and any error. A failure
// is recorded as that database's error; it never stops the others.
import { DatabaseManager, OWN_OBJECTS, quotedName } from "../shared/db";

export interface DatabaseMetrics {
  database: string;
  collectedAt: number;
  sizeBytes: number | null;
  tableRows: Record<string, number> | null;
  latencyMs: number | null;
  growthMbPerDay: number | null;
  error: string | null;
}

const MB = 1024 * 1024;
const DAY_MS = 86_400_000;
// Growth compares with the oldest sample of the last day that is at least an hour old,
// so a single noisy 5-minute interval does not read as a trend.
const GROWTH_MIN_SPAN_MS = 3_600_000;
const MAX_ERROR_LENGTH = 500;

export async function collect(database: string, db: D1Database, collectedAt: number): Promise<DatabaseMetrics> {
  try {
    const started = Date.now();
    const probe = await db.prepare("SELECT 1 AS ok").run();
    const latencyMs = Date.now() - started;
    const tables = await db
      .prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND ${OWN_OBJECTS} ORDER BY name`)
      .all<{ name: string }>();
    const names = tables.results.map((t) => t.name);
    const counts = names.length
      ? await db.batch<{ rows: number }>(names.map((name) => db.prepare(`SELECT COUNT(*) AS rows FROM ${quotedName(name)}`)))
      : [];
    const tableRows = Object.fromEntries(names.map((name, i) => [name, counts[i]?.results[0]?.rows ?? 0]));
    const sizeBytes = counts.at(-1)?.meta.size_after ?? tables.meta.size_after ?? probe.meta.size_after;
    return { database, collectedAt, sizeBytes, tableRows, latencyMs, growthMbPerDay: null, error: null };
  } catch (err) {
    const message = (err instanceof Error ? err.message : String(err)).slice(0, MAX_ERROR_LENGTH);
    return { database, collectedAt, sizeBytes: null, tableRows: null, latencyMs: null, growthMbPerDay: null, error: message };
  }
}

/** MB/day since the reference sample, or null without enough history. */
export async function growthRate(history: DatabaseManager, metrics: DatabaseMetrics): Promise<number | null> {
  if (metrics.sizeBytes === null) return null;
  const reference = await history.first<{ collected_at: number; size_bytes: number }>({
    sql: `SELECT collected_at, size_bytes FROM db_metrics
          WHERE database = ? AND size_bytes IS NOT NULL AND collected_at >= ? AND collected_at <= ?
          ORDER BY collected_at ASC LIMIT 1`,
    params: [metrics.database, metrics.collectedAt - DAY_MS, metrics.collectedAt - GROWTH_MIN_SPAN_MS],
  });
  if (reference === null) return null;
  const days = (metrics.collectedAt - reference.collected_at) / DAY_MS;
  return (metrics.sizeBytes - reference.size_bytes) / MB / days;
}

export function insertMetrics(metrics: DatabaseMetrics): { sql: string; params: (string | number | null)[] } {
  const rows = metrics.tableRows;
  return {
    sql: `INSERT INTO db_metrics (collected_at, database, size_bytes, table_count, row_count, table_rows, growth_mb_per_day, latency_ms, error)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    params: [
      metrics.collectedAt,
      metrics.database,
      metrics.sizeBytes,
      rows ? Object.keys(rows).length : null,
      rows ? Object.values(rows).reduce((a, b) => a + b, 0) : null,
      rows ? JSON.stringify(rows) : null,
      metrics.growthMbPerDay,
      metrics.latencyMs,
      metrics.error,
    ],
  };
}

export const BYTES_PER_MB = MB;
