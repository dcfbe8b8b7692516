// The public API front door: checks the API key, counts the client's requests, and
// routes /api/v1/... to the read APIs over service bindings:
//   /api/v1/<sport>/<dataset>/...  -> <SPORT>_<DATASET>      (MLB_SCORES)
//   /api/v1/<dataset>/...          -> <DATASET>              (SEARCH, ODDS, TEAMS)
//   /api/v1/ticker?sport=<sport>   -> the live ticker snapshot in TICKER
// A route can be switched off with the FLAGS key `route:<BINDING>` = "off". Answers the
// APIs let shared caches keep for a minute (SHARED_MAX_AGE_SECONDS) are kept whole in
// CACHE for that long, keyed by path and query.
import { SHARED_MAX_AGE_SECONDS, storageKey } from "../shared/cache";
import { positiveInteger } from "../shared/config";
import { FixedWindowRateLimiter, clientAddress, rateLimitHeaders } from "../shared/ratelimit";
import { HttpError, badRequest, guarded, json, methodNotAllowed, notFound } from "../shared/respond";
import { service, type GatewayEnv } from "./env";
import { authenticate } from "./keys";

const PREFIX = "/api/v1/";
const SEGMENT = /^[a-z]{2,20}$/;
/** The longest path and query the gateway takes, in bytes. */
const MAX_URL_BYTES = 2048;
/** Requests with an invalid key one client address may send per rate-limit window. */
const MAX_FAILED_KEYS = 10;
// KV refuses expirations shorter than 60 seconds.
const MIN_KV_TTL_SECONDS = 60;
const FORWARDED_HEADERS = ["accept", "accept-encoding", "if-none-match", "if-modified-since", "cf-connecting-ip", "user-agent"];
const ALLOWED_METHODS = ["GET", "HEAD"];

interface CachedResponse {
  status: number;
  headers: [string, string][];
  body: string;
}

function routeOf(path: string): { binding: string } | null {
  const segments = path.slice(PREFIX.length).split("/");
  const [first = "", second = ""] = segments;
  if (!SEGMENT.test(first)) return null;
  if (SEGMENT.test(second)) return { binding: `${first}_${second}`.toUpperCase() };
  return { binding: first.toUpperCase() };
}

async function ticker(url: URL, env: GatewayEnv): Promise<Response> {
  const sport = url.searchParams.get("sport") ?? "";
  if (!SEGMENT.test(sport)) throw badRequest("sport is required");
  const snapshot = await env.TICKER.get(`ticker:${sport}`, "json");
  if (snapshot === null) throw notFound("no ticker for this sport");
  return json(snapshot, 200, { "cache-control": "public, max-age=5" });
}

/** The answer as the kept copy serves it: from a cache, as its own meta says. */
function asKept(response: Response, body: string): CachedResponse {
  const headers = new Headers(response.headers);
  headers.set("x-cache", "HIT");
  const answer = JSON.parse(body) as { meta?: { cache?: string } };
  if (answer.meta) answer.meta.cache = "HIT";
  return { status: response.status, headers: [...headers.entries()], body: JSON.stringify(answer) };
}

async function forward(request: Request, url: URL, target: Fetcher, env: GatewayEnv): Promise<Response> {
  const cacheKey = await storageKey("response:", [url.pathname, url.search]);
  const hit = await env.CACHE.get<CachedResponse>(cacheKey, "json");
  if (hit) {
    const headers = new Headers(hit.headers);
    headers.set("x-gateway-cache", "HIT");
    return new Response(hit.body, { status: hit.status, headers });
  }
  const headers = new Headers();
  for (const name of FORWARDED_HEADERS) {
    const value = request.headers.get(name);
    if (value !== null) headers.set(name, value);
  }
  let response: Response;
  try {
    response = await target.fetch(new Request(url.href, { method: request.method, headers }));
  } catch {
    throw new HttpError(502, "upstream_unavailable", "the API behind this route did not answer");
  }
  const maxAge = Number(/max-age=(\d+)/.exec(response.headers.get("cache-control") ?? "")?.[1] ?? 0);
  if (request.method === "GET" && response.status === 200 && maxAge >= MIN_KV_TTL_SECONDS) {
    const body = await response.text();
    const kept = asKept(response, body);
    await env.CACHE.put(cacheKey, JSON.stringify(kept), { expirationTtl: Math.min(maxAge, SHARED_MAX_AGE_SECONDS) });
    const out = new Headers(response.headers);
    out.set("x-gateway-cache", "MISS");
    return new Response(body, { status: response.status, headers: out });
  }
  return response;
}

async function route(request: Request, env: GatewayEnv): Promise<Response> {
  const url = new URL(request.url);
  if (!url.pathname.startsWith(PREFIX)) throw notFound();
  if (!ALLOWED_METHODS.includes(request.method)) throw methodNotAllowed(ALLOWED_METHODS);
  if (new TextEncoder().encode(url.pathname + url.search).byteLength > MAX_URL_BYTES) {
    throw new HttpError(414, "uri_too_long", `the path and query are longer than ${MAX_URL_BYTES} bytes`);
  }
  const windowSeconds = positiveInteger(env, "RATE_LIMIT_WINDOW_SECONDS");
  const now = Date.now();
  // Counted per address, before the key is looked at: a client guessing keys learns nothing
  // once it is over, and another address is never held back by it.
  const failures = new FixedWindowRateLimiter(env.RATE_LIMITS, "gateway-invalid-key", MAX_FAILED_KEYS, windowSeconds);
  const address = clientAddress(request);
  await failures.refuseOverLimit(address, now, "requests with an invalid API key from this address");
  const client = await authenticate(request, env.API_KEYS).catch(async (err: unknown) => {
    if (err instanceof HttpError && err.status === 401) await failures.hit(address, now);
    throw err;
  });
  const limiter = new FixedWindowRateLimiter(env.RATE_LIMITS, "gateway", client.record.rateLimit ?? positiveInteger(env, "RATE_LIMIT_REQUESTS"), windowSeconds);
  const decision = await limiter.enforce(client.id, now);

  let response: Response;
  if (url.pathname === `${PREFIX}ticker`) {
    response = await ticker(url, env);
  } else {
    const found = routeOf(url.pathname);
    const target = found ? service(env, found.binding) : null;
    if (!found || !target) throw notFound("no API at this path");
    if ((await env.FLAGS.get(`route:${found.binding}`)) === "off") {
      throw new HttpError(503, "route_disabled", "this API is switched off for now", { "retry-after": "300" });
    }
    response = await forward(request, url, target, env);
  }
  const out = new Response(response.body, response);
  for (const [name, value] of Object.entries(rateLimitHeaders(decision))) out.headers.set(name, value);
  return out;
}

export default {
  async fetch(request, env): Promise<Response> {
    return guarded(() => route(request, env));
  },
} satisfies ExportedHandler<GatewayEnv>;
