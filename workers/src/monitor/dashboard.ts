// Read endpoints for the monitoring dashboard, under /api/monitor:
//   GET /metrics/latest                        the last run, every database
//   GET /alerts?state=open|all&limit=          incidents, newest first
//   GET /history?database=<binding>&hours=     one database's samples (up to 30 days)
//   GET /reports/latest, /reports/<YYYY-MM-DD> daily reports
import { DatabaseManager, select } from "../shared/db";
import { HttpError, badRequest, json, methodNotAllowed, notFound } from "../shared/respond";
import { monitoredDatabases, type MonitorEnv } from "./env";
import { LATEST_KEY, type Snapshot } from "./run";

const PREFIX = "/api/monitor";
const MAX_HOURS = 720;

function boundedInteger(value: string | null, fallback: number, max: number, name: string): number {
  const parsed = value === null ? fallback : Number(value);
  if (!Number.isInteger(parsed) || parsed < 1 || parsed > max) throw badRequest(`${name} is 1 to ${max}`);
  return parsed;
}

export async function dashboard(request: Request, env: MonitorEnv): Promise<Response> {
  if (request.method !== "GET" && request.method !== "HEAD") throw methodNotAllowed(["GET"]);
  const url = new URL(request.url);
  const path = url.pathname.startsWith(PREFIX) ? url.pathname.slice(PREFIX.length) : url.pathname;
  const history = new DatabaseManager(env.MONITOR_DB);

  if (path === "/metrics/latest") {
    const snapshot = await env.STATE.get<Snapshot>(LATEST_KEY, "json");
    if (snapshot === null) throw notFound("no collection has run yet");
    return json(snapshot, 200, { "cache-control": "no-store" });
  }
  if (path === "/alerts") {
    const state = url.searchParams.get("state") ?? "open";
    if (state !== "open" && state !== "all") throw badRequest("state is open or all");
    const limit = boundedInteger(url.searchParams.get("limit"), 100, 1000, "limit");
    const sql = `SELECT id, database, metric, severity, value, threshold, message, opened_at, last_alerted_at, resolved_at
                 FROM incidents ${state === "open" ? "WHERE resolved_at IS NULL" : ""} ORDER BY opened_at DESC, id DESC LIMIT ?`;
    return json({ incidents: await history.all({ sql, params: [limit] }) });
  }
  if (path === "/history") {
    const database = url.searchParams.get("database") ?? "";
    if (!monitoredDatabases(env).some(([name]) => name === database)) throw badRequest("database is one of the monitored bindings");
    const hours = boundedInteger(url.searchParams.get("hours"), 24, MAX_HOURS, "hours");
    const query = select("db_metrics", ["collected_at", "size_bytes", "row_count", "growth_mb_per_day", "latency_ms", "error"])
      .where("database", "=", database)
      .where("collected_at", ">=", Date.now() - hours * 3_600_000)
      .orderBy("collected_at");
    return json({ database, samples: await history.all(query) });
  }
  const report = /^\/reports\/(latest|\d{4}-\d{2}-\d{2})$/.exec(path);
  if (report) {
    const [, which] = report;
    const row =
      which === "latest"
        ? await history.first<{ body: string }>({ sql: "SELECT body FROM reports ORDER BY report_date DESC LIMIT 1", params: [] })
        : await history.first<{ body: string }>(select("reports", ["body"]).where("report_date", "=", which ?? ""));
    if (row === null) throw notFound("no such report");
    return json(JSON.parse(row.body));
  }
  throw new HttpError(404, "not_found", "no such resource");
}
