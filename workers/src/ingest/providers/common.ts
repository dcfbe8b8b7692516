// What a provider adapter is: how to authenticate, which requests a feed makes, and how
// each response becomes normalised rows. Payloads are validated with zod; any invalid
// item rejects the whole payload, so a run writes all of a response or none of it.
//
// The adapters declare each module-level schema inside z.lazy, so it is built on its
// first use: every ingest Worker bundles every provider but runs one feed, and building
// all the schemas when the isolate starts cost each one about 10 ms (29 isolates in the
// local fleet). z.lazy only defers the construction; parsing and issues are the inner
// schema's own.
import type * as z from "zod/mini";
import type { DatabaseManager } from "../../shared/db";
import type { Batch } from "../tables";

export type Auth =
  | "none"
  /** SportsDataIO's header. */
  | "subscription-key"
  | "bearer"
  /** The Odds API takes its key as the apiKey query parameter. */
  | "api-key-query";

export interface FeedContext {
  sport: string;
  now: number;
  /** The US Eastern date of the run. */
  today: string;
  season: number;
  /** The Worker's database, for feeds whose requests depend on what it holds. */
  db: DatabaseManager;
  /** Where the previous successful run stopped, for feeds that cover their upstream over several runs. */
  position: string | null;
}

export interface FeedRequest {
  /** Appended to UPSTREAM_URL: path and query, without the key. */
  path: string;
  /**
   * JSON (the default); CSV with a header row, which arrives as one object per row; or
   * HTML, which arrives as its tables (`HtmlTable[]`).
   */
  format?: "json" | "csv" | "html";
  /** CSV only: the columns its header must name, or the run fails. */
  columns?: readonly string[];
  parse: (payload: unknown, context: FeedContext) => Batch;
  /** The feed's position once this request is written: the next run continues after it. */
  position?: string;
}

/** One table of an HTML page: a row per body row, keyed by the header cells' text. */
export type HtmlTable = Record<string, string>[];

export interface Feed {
  auth: Auth;
  requests: (context: FeedContext) => FeedRequest[] | Promise<FeedRequest[]>;
  /** Live feeds also publish the sport's in-progress games to the TICKER namespace. */
  ticker?: boolean;
}

export class PayloadError extends Error {
  override name = "PayloadError";
}

export function validate<T>(schema: z.ZodMiniType<T>, payload: unknown): T {
  const result = schema.safeParse(payload);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue && issue.path.length ? issue.path.join(".") : "the payload";
    throw new PayloadError(`invalid upstream payload at ${where}: ${issue?.message ?? "unexpected shape"}`);
  }
  return result.data;
}

/** Merges several requests' rows into one batch. */
export function merge(batches: Batch[]): Batch {
  const merged: Batch = {};
  for (const batch of batches) {
    for (const [table, rows] of Object.entries(batch) as [keyof Batch, Batch[keyof Batch]][]) {
      merged[table] = [...(merged[table] ?? []), ...(rows ?? [])];
    }
  }
  return merged;
}
