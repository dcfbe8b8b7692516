// A read-API Worker: JSON over D1 through the shared database manager, cached through
// the shared cache manager. One bundle serves every dataset; the catalog's SPORT and
// DATASET vars say which one this Worker is. Paths (reached through the gateway):
//   /api/v1/<sport>/<dataset>[/<id>]     for one sport
//   /api/v1/<dataset>[/<id>]             for SPORT "all" (search, odds, teams)
import { CACHE_POLICIES, CacheManager, SHARED_MAX_AGE_SECONDS } from "../shared/cache";
import { text } from "../shared/config";
import { DatabaseManager } from "../shared/db";
import { HttpError, guarded, json, methodNotAllowed, notFound } from "../shared/respond";
import { DATASETS } from "./datasets";
import type { ApiEnv } from "./env";
import { Params } from "./params";

async function serve(request: Request, env: ApiEnv, ctx: ExecutionContext): Promise<Response> {
  if (request.method !== "GET" && request.method !== "HEAD") throw methodNotAllowed(["GET", "HEAD"]);
  const sport = text(env, "SPORT");
  const dataset = text(env, "DATASET");
  const describe = DATASETS[dataset];
  if (!describe) throw new HttpError(500, "misconfigured", `the Worker's setting DATASET names no dataset`);
  const url = new URL(request.url);
  const base = sport === "all" ? `/api/v1/${dataset}` : `/api/v1/${sport}/${dataset}`;
  if (url.pathname !== base && !url.pathname.startsWith(`${base}/`)) throw notFound();
  const rest = url.pathname.slice(base.length + 1);
  if (rest.includes("/")) throw notFound();
  const plan = describe({ sport, id: rest === "" ? null : rest, params: new Params(url.searchParams, Date.now()), env });
  const cache = new CacheManager(env.CACHE, ctx);
  const db = new DatabaseManager(env.DB);
  const { value, status } = await cache.getOrLoad(plan.key, plan.kind, plan.tags, () => plan.load(db));
  const meta = { sport, dataset, cache: status, ...(value.page ? { page: value.page } : {}) };
  // Only this Worker's cache learns of ingestion; a copy elsewhere (the gateway's, a
  // browser's) lives at most SHARED_MAX_AGE_SECONDS, however long the data stays fresh here.
  const maxAge = Math.min(CACHE_POLICIES[plan.kind].freshSeconds, SHARED_MAX_AGE_SECONDS);
  return json({ data: value.data, meta }, 200, { "x-cache": status, "cache-control": `public, max-age=${maxAge}` });
}

export default {
  async fetch(request, env, ctx): Promise<Response> {
    return guarded(() => serve(request, env, ctx));
  },
} satisfies ExportedHandler<ApiEnv>;
