// Read endpoints for the monitoring dashboard, under /api/monitor:
//   GET /metrics/latest                        the last run, every database
//   GET /alerts?state=open|all&limit=          incidents, newest first
//   GET /history?database=<binding>&hours=     one database's samples (up to 30 days)
//   GET /reports/latest, /reports/<YYYY-MM-DD> daily reports
// All of them, and any other path, only for the holder of the dashboard token (the
// DASHBOARD_TOKEN secret, as a Bearer token): they sit on the public site's route, and
// they name the fleet's databases, their sizes and row counts, and carry raw error
// messages, which quote whatever a failure printed.
import { text } from "../shared/config";
import { bearerToken, sameSecret } from "../shared/crypto";
import { DatabaseManager, select } from "../shared/db";
import { HttpError, badRequest, json, methodNotAllowed, notFound } from "../shared/respond";
import { monitoredDatabases, type MonitorEnv } from "./env";
import { LATEST_KEY, type Snapshot } from "./run";

const PREFIX = "/api/monitor";
const MAX_HOURS = 720;
// Raw messages are JSON strings, never a page: no sniffing them into HTML, and no copy of
// the token holder's answers in any cache.
const DATA_HEADERS = { "cache-control": "no-store", "x-content-type-options": "nosniff" };

function unauthorized(message: string): HttpError {
  return new HttpError(401, "unauthorized", message, { "www-authenticate": 'Bearer realm="blaze-monitor"', "cache-control": "no-store" });
}

async function requireToken(request: Request, env: MonitorEnv): Promise<void> {
  const token = bearerToken(request);
  if (token === null) throw unauthorized("send the dashboard token as a Bearer token");
  // text() makes a missing or empty secret a 500 that names it: a deployment without the
  // token should say so, not turn every reader away as if they had the wrong one.
  if (!(await sameSecret(token, text(env, "DASHBOARD_TOKEN")))) throw unauthorized("the token is not valid");
}

function data(body: unknown): Response {
  return json(body, 200, DATA_HEADERS);
}

function boundedInteger(value: string | null, fallback: number, max: number, name: string): number {
  const parsed = value === null ? fallback : Number(value);
  if (!Number.isInteger(parsed) || parsed < 1 || parsed > max) throw badRequest(`${name} is 1 to ${max}`);
  return parsed;
}

export async function dashboard(request: Request, env: MonitorEnv): Promise<Response> {
  await requireToken(request, env);
  if (request.method !== "GET" && request.method !== "HEAD") throw methodNotAllowed(["GET"]);
  const url = new URL(request.url);
  const path = url.pathname.startsWith(PREFIX) ? url.pathname.slice(PREFIX.length) : url.pathname;
  const history = new DatabaseManager(env.MONITOR_DB);

  if (path === "/metrics/latest") {
    const snapshot = await env.STATE.get<Snapshot>(LATEST_KEY, "json");
    if (snapshot === null) throw notFound("no collection has run yet");
    return data(snapshot);
  }
  if (path === "/alerts") {
    const state = url.searchParams.get("state") ?? "open";
    if (state !== "open" && state !== "all") throw badRequest("state is open or all");
    const limit = boundedInteger(url.searchParams.get("limit"), 100, 1000, "limit");
    const sql = `SELECT id, database, metric, severity, value, threshold, message, opened_at, last_alerted_at, resolved_at
                 FROM incidents ${state === "open" ? "WHERE resolved_at IS NULL" : ""} ORDER BY opened_at DESC, id DESC LIMIT ?`;
    return data({ incidents: await history.all({ sql, params: [limit] }) });
  }
  if (path === "/history") {
    const database = url.searchParams.get("database") ?? "";
    if (!monitoredDatabases(env).some(([name]) => name === database)) throw badRequest("database is one of the monitored bindings");
    const hours = boundedInteger(url.searchParams.get("hours"), 24, MAX_HOURS, "hours");
    const query = select("db_metrics", ["collected_at", "size_bytes", "row_count", "growth_mb_per_day", "latency_ms", "error"])
      .where("database", "=", database)
      .where("collected_at", ">=", Date.now() - hours * 3_600_000)
      .orderBy("collected_at");
    return data({ database, samples: await history.all(query) });
  }
  const report = /^\/reports\/(latest|\d{4}-\d{2}-\d{2})$/.exec(path);
  if (report) {
    const [, which] = report;
    const row =
      which === "latest"
        ? await history.first<{ body: string }>({ sql: "SELECT body FROM reports ORDER BY report_date DESC LIMIT 1", params: [] })
        : await history.first<{ body: string }>(select("reports", ["body"]).where("report_date", "=", which ?? ""));
    if (row === null) throw notFound("no such report");
    return data(JSON.parse(row.body));
  }
  throw new HttpError(404, "not_found", "no such resource");
}
