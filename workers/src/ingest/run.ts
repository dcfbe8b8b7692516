// One ingestion run: fetch every request of the feed (with the stored ETag, within the
// timeout), archive the raw responses, validate and normalise them, write the whole
// batch in one transaction, then invalidate exactly the cache tags of the rows that
// changed. Anything failing before the write leaves the database untouched; every run,
// good or bad, is one row in the LOG database's ingest_runs ledger. A feed that covers its
// upstream over several runs keeps its position in the cursor, which only a run that
// did not fail moves on.
import { parse as parseCsvText } from "csv-parse/sync";
import { CacheManager } from "../shared/cache";
import { positiveInteger, text } from "../shared/config";
import { easternDate, seasonOf } from "../shared/dates";
import { DatabaseManager } from "../shared/db";
import type { IngestEnv } from "./env";
import { feedFor } from "./feeds";
import { htmlTables } from "./html";
import { PayloadError, merge, type Feed, type FeedContext, type FeedRequest } from "./providers/common";
import type { Batch } from "./tables";
import { writeBatch } from "./write";

class UpstreamError extends Error {
  override name = "UpstreamError";
  constructor(
    message: string,
    readonly status: number | null,
  ) {
    super(message);
  }
}

export interface RunResult {
  status: "ok" | "unchanged" | "failed";
  upstreamStatus: number | null;
  rowsWritten: number;
  error: string | null;
}

// A Worker has 128 MB, and a parsed payload takes several times the size of its text.
const MAX_UPSTREAM_BYTES = 10 * 1024 * 1024;
const MAX_REDIRECTS = 5;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

function headersFor(feed: Feed, key: string | undefined): Record<string, string> {
  const headers: Record<string, string> = { accept: "application/json", "user-agent": "blaze-ingest" };
  if (feed.auth === "none" || feed.auth === "api-key-query") return headers;
  if (!key) throw new UpstreamError("the feed needs UPSTREAM_API_KEY and the Worker has none", null);
  if (feed.auth === "subscription-key") headers["ocp-apim-subscription-key"] = key;
  else headers["authorization"] = `Bearer ${key}`;
  return headers;
}

function urlFor(env: IngestEnv, feed: Feed, request: FeedRequest): URL {
  const url = new URL(text(env, "UPSTREAM_URL").replace(/\/$/, "") + request.path);
  if (feed.auth === "api-key-query") {
    if (!env.UPSTREAM_API_KEY) throw new UpstreamError("the feed needs UPSTREAM_API_KEY and the Worker has none", null);
    url.searchParams.set("apiKey", env.UPSTREAM_API_KEY);
  }
  return url;
}

interface Fetched {
  request: FeedRequest;
  status: number;
  body: string | null; // null: 304, unchanged since the stored ETag
  etag: string | null;
  etagKey: string;
}

/**
 * GET `url`, following redirects by hand: a feed with a key follows them only within the
 * configured origin, so the key (a header, or the query) never reaches any other.
 */
async function get(url: URL, headers: Record<string, string>, keyed: boolean, signal: AbortSignal): Promise<Response> {
  let target = url;
  for (let hops = 0; ; hops++) {
    let response: Response;
    try {
      response = await fetch(target, { headers, signal, redirect: "manual" });
    } catch (err) {
      // Never the URL: it may carry the API key.
      const name = err instanceof Error ? err.name : "Error";
      throw new UpstreamError(name === "TimeoutError" ? "the upstream did not answer in time" : `the upstream could not be reached (${name})`, null);
    }
    const location = response.headers.get("location");
    if (!REDIRECTS.has(response.status) || location === null) return response;
    await response.body?.cancel();
    if (hops === MAX_REDIRECTS) throw new UpstreamError(`the upstream redirected more than ${MAX_REDIRECTS} times`, response.status);
    target = new URL(location, target);
    if (keyed && target.origin !== url.origin) {
      throw new UpstreamError(`the upstream redirected to ${target.origin}, another origin than UPSTREAM_URL's: the key is only ever sent to UPSTREAM_URL`, response.status);
    }
  }
}

/** The body as text, read no further than MAX_UPSTREAM_BYTES. */
async function boundedText(response: Response): Promise<string> {
  const tooLarge = new UpstreamError(`the upstream's response is larger than ${MAX_UPSTREAM_BYTES / 1024 / 1024} MiB`, response.status);
  if (Number(response.headers.get("content-length") ?? 0) > MAX_UPSTREAM_BYTES) {
    await response.body?.cancel();
    throw tooLarge;
  }
  if (response.body === null) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (let chunk = await reader.read(); !chunk.done && size <= MAX_UPSTREAM_BYTES; chunk = await reader.read()) {
      size += chunk.value.byteLength;
      chunks.push(chunk.value);
    }
  } catch (err) {
    throw new UpstreamError(`the upstream's response broke off (${err instanceof Error ? err.name : "Error"})`, response.status);
  }
  if (size > MAX_UPSTREAM_BYTES) {
    await reader.cancel();
    throw tooLarge;
  }
  const decoder = new TextDecoder();
  return chunks.map((chunk) => decoder.decode(chunk, { stream: true })).join("") + decoder.decode();
}

async function fetchOne(env: IngestEnv, feed: Feed, request: FeedRequest, context: FeedContext): Promise<Fetched> {
  const etagKey = `etag:${context.sport}:${text(env, "PROVIDER")}:${request.path}`;
  const headers = headersFor(feed, env.UPSTREAM_API_KEY);
  const stored = await env.ETAGS.get(etagKey);
  if (stored) headers["if-none-match"] = stored;
  const signal = AbortSignal.timeout(positiveInteger(env, "UPSTREAM_TIMEOUT_MS"));
  const response = await get(urlFor(env, feed, request), headers, feed.auth !== "none", signal);
  if (response.status === 304) {
    await response.body?.cancel();
    return { request, status: 304, body: null, etag: stored, etagKey };
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw new UpstreamError(`the upstream answered ${response.status}`, response.status);
  }
  const body = await boundedText(response);
  return { request, status: response.status, body, etag: response.headers.get("etag"), etagKey };
}

function parseJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    throw new PayloadError("the upstream's response is not JSON");
  }
}

function parseCsv(body: string, required: readonly string[]): Record<string, string>[] {
  let header: string[] = [];
  let rows: Record<string, string>[];
  try {
    rows = parseCsvText(body, { bom: true, columns: (names: string[]) => (header = names), skip_empty_lines: true }) as Record<string, string>[];
  } catch (err) {
    throw new PayloadError(`the upstream's CSV is malformed: ${err instanceof Error ? err.message : String(err)}`);
  }
  // Without its columns, a page of another kind (an HTML error page on one line) would be
  // a header with no rows: an empty payload that passes validation.
  const missing = required.filter((column) => !header.includes(column));
  if (missing.length > 0) throw new PayloadError(`the upstream's CSV lacks the columns ${missing.join(", ")}: it is not the expected file`);
  return rows;
}

async function parsePayload(request: FeedRequest, body: string): Promise<unknown> {
  if (body.trim() === "") throw new PayloadError("the upstream's response is empty");
  if (request.format === "csv") return parseCsv(body, request.columns ?? []);
  if (request.format === "html") return htmlTables(body);
  return parseJson(body);
}

async function parseAll(fetched: Fetched[], context: FeedContext): Promise<Batch> {
  const batches: Batch[] = [];
  for (const f of fetched) {
    if (f.body !== null) batches.push(f.request.parse(await parsePayload(f.request, f.body), context));
  }
  return merge(batches);
}

const ARCHIVE_FORMATS = {
  json: { extension: "json", contentType: "application/json" },
  csv: { extension: "csv", contentType: "text/csv" },
  html: { extension: "html", contentType: "text/html" },
} as const;

interface Cursor {
  lastSuccessAt: string;
  rowsWritten: number;
  position: string | null;
}

async function storedPosition(cursors: KVNamespace, key: string): Promise<string | null> {
  const stored = await cursors.get<Partial<Cursor>>(key, "json");
  return typeof stored?.position === "string" ? stored.position : null;
}

async function publishTicker(env: IngestEnv, sport: string, batch: Batch, now: number): Promise<void> {
  if (!env.TICKER) return;
  const live = (batch.games ?? []).filter((g) => g["status"] === "in_progress");
  await env.TICKER.put(`ticker:${sport}`, JSON.stringify({ sport, updatedAt: new Date(now).toISOString(), games: live }));
}

export async function runIngestion(env: IngestEnv, now: number, ctx: ExecutionContext): Promise<RunResult> {
  const sport = text(env, "SPORT");
  const feedName = text(env, "FEED");
  const provider = text(env, "PROVIDER");
  const today = easternDate(now);
  const cursorKey = `cursor:${sport}:${provider}:${feedName}`;
  let result: RunResult;
  // Kept for a failure after the fetch too: a 200 with a page of garbage is worth knowing as such.
  let upstreamStatus: number | null = null;
  try {
    const feed = feedFor(provider, feedName);
    if (!feed) throw new UpstreamError(`no adapter for feed ${feedName} of provider ${provider}`, null);
    const context: FeedContext = {
      sport,
      now,
      today,
      season: seasonOf(today),
      db: new DatabaseManager(env.DB),
      position: await storedPosition(env.CURSORS, cursorKey),
    };
    const requests = await feed.requests(context);
    const fetched = await Promise.all(requests.map((request) => fetchOne(env, feed, request, context)));
    const stamp = new Date(now).toISOString();
    await Promise.all(
      fetched
        .filter((f) => f.body !== null)
        .map((f, i) => {
          const { extension, contentType } = ARCHIVE_FORMATS[f.request.format ?? "json"];
          return env.ARCHIVE.put(`raw/${sport}/${feedName}/${stamp}-${i}.${extension}`, f.body!, { httpMetadata: { contentType } });
        }),
    );
    // A feed with nothing to ask this time (no upcoming games) made no request at all.
    upstreamStatus = fetched.length > 0 ? Math.max(...fetched.map((f) => f.status)) : null;
    const changed = fetched.some((f) => f.body !== null);
    let rowsWritten = 0;
    if (changed) {
      const batch = await parseAll(fetched, context);
      const written = await writeBatch(env.DB, batch, sport, stamp);
      await new CacheManager(env.CACHE, ctx).invalidate(written.tags);
      if (feed.ticker) await publishTicker(env, sport, batch, now);
      await Promise.all(fetched.filter((f) => f.etag && f.body !== null).map((f) => env.ETAGS.put(f.etagKey, f.etag!)));
      rowsWritten = written.changedRows;
    }
    // An unchanged run moves the position on too: else a stretch of 304s would hold it forever.
    const position = requests.filter((r) => r.position !== undefined).at(-1)?.position ?? null;
    const cursor: Cursor = { lastSuccessAt: stamp, rowsWritten, position };
    await env.CURSORS.put(cursorKey, JSON.stringify(cursor));
    result = { status: changed ? "ok" : "unchanged", upstreamStatus, rowsWritten, error: null };
  } catch (err) {
    const known = err instanceof UpstreamError || err instanceof PayloadError;
    const message = known ? err.message : `unexpected ${err instanceof Error ? err.name : "error"}: ${err instanceof Error ? err.message : String(err)}`;
    result = { status: "failed", upstreamStatus: err instanceof UpstreamError ? err.status : upstreamStatus, rowsWritten: 0, error: message };
  }
  await new DatabaseManager(env.LOG).write({
    sql: `INSERT INTO ingest_runs (sport, feed, started_at, finished_at, status, upstream_status, rows_written, error)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    params: [sport, feedName, now, Date.now(), result.status, result.upstreamStatus, result.rowsWritten, result.error],
  });
  return result;
}
