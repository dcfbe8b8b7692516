// The public API front door: checks the API key, counts the client's requests, and
// routes /api/v1/... to the read APIs over service bindings:
//   /api/v1/<sport>/<dataset>/...  -> <SPORT>_<DATASET>      (MLB_SCORES)
//   /api/v1/<dataset>/...          -> <DATASET>              (SEARCH, ODDS, TEAMS)
//   /api/v1/ticker?sport=<sport>   -> the live ticker snapshot in TICKER
// A route can be switched off with the FLAGS key `route:<BINDING>` = "off". Responses
// marked immutable (past dates and seasons) are kept whole in CACHE, keyed by URL.
import { positiveInteger } from "../shared/config";
import { FixedWindowRateLimiter, rateLimitHeaders } from "../shared/ratelimit";
import { HttpError, badRequest, guarded, json, methodNotAllowed, notFound } from "../shared/respond";
import { service, type GatewayEnv } from "./env";
import { authenticate } from "./keys";

const PREFIX = "/api/v1/";
const SEGMENT = /^[a-z]{2,20}$/;
// KV refuses expirations shorter than 60 seconds.
const MIN_KV_TTL_SECONDS = 60;
const FORWARDED_HEADERS = ["accept", "accept-encoding", "if-none-match", "if-modified-since", "cf-connecting-ip", "user-agent"];

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

async function forward(request: Request, url: URL, target: Fetcher, env: GatewayEnv): Promise<Response> {
  const cacheKey = `response:${url.pathname}${url.search}`;
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
  const cacheControl = response.headers.get("cache-control") ?? "";
  const maxAge = Number(/max-age=(\d+)/.exec(cacheControl)?.[1] ?? 0);
  if (request.method === "GET" && response.status === 200 && cacheControl.includes("immutable") && maxAge >= MIN_KV_TTL_SECONDS) {
    const body = await response.text();
    const kept: CachedResponse = { status: response.status, headers: [...response.headers.entries()], body };
    await env.CACHE.put(cacheKey, JSON.stringify(kept), { expirationTtl: maxAge });
    const out = new Headers(response.headers);
    out.set("x-gateway-cache", "MISS");
    return new Response(body, { status: response.status, headers: out });
  }
  return response;
}

async function route(request: Request, env: GatewayEnv): Promise<Response> {
  const url = new URL(request.url);
  if (!url.pathname.startsWith(PREFIX)) throw notFound();
  if (request.method !== "GET" && request.method !== "HEAD") throw methodNotAllowed(["GET"]);
  const client = await authenticate(request, env.API_KEYS);
  const limiter = new FixedWindowRateLimiter(
    env.RATE_LIMITS,
    "gateway",
    client.record.rateLimit ?? positiveInteger(env, "RATE_LIMIT_REQUESTS"),
    positiveInteger(env, "RATE_LIMIT_WINDOW_SECONDS"),
  );
  const decision = await limiter.enforce(client.id, Date.now());

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
