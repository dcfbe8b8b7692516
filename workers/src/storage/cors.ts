// CORS for the pages of the stack's own sites, which upload and read media through this
// Worker's routes: exactly the origins of ALLOWED_ORIGINS, which the program fills from
// the stack's `corsOrigins` for the media bucket (the list the bucket's own CORS rule
// gets), so the Worker and the bucket never disagree about who may use them.
//
// What a page may do: download, and upload with a signed URL (the same methods and
// headers as the bucket's rule). The token-only requests are for servers, which need no
// CORS, so pages are not offered them.
import type { StorageEnv } from "./env";

const METHODS = "GET, HEAD, PUT";
const REQUEST_HEADERS = "content-type, content-md5, range, if-match, if-none-match, if-modified-since, if-unmodified-since";
// Beyond the headers every page may read: what a downloader or an uploader needs to see.
const EXPOSED_HEADERS = "etag, content-range, accept-ranges, content-disposition, retry-after";
const MAX_AGE_SECONDS = "3600";

/** The allowed origins; none when the var is empty, as in local runs, which have no stack. */
function allowedOrigins(env: StorageEnv): Set<string> {
  const origins = env.ALLOWED_ORIGINS.split(",").map((origin) => origin.trim());
  return new Set(origins.filter((origin) => origin.length > 0));
}

/** The request's Origin if it is one of the stack's, else null. */
function allowedOrigin(request: Request, env: StorageEnv): string | null {
  const origin = request.headers.get("origin");
  return origin !== null && allowedOrigins(env).has(origin) ? origin : null;
}

/** A browser's preflight (OPTIONS with Origin and Access-Control-Request-Method). */
export function isPreflight(request: Request): boolean {
  return request.method === "OPTIONS" && request.headers.has("origin") && request.headers.has("access-control-request-method");
}

/** The answer to a preflight: permission for the stack's origins, nothing for others. */
export function preflight(request: Request, env: StorageEnv): Response {
  // The answer depends on these, so a cache must not give one origin's answer to another.
  const headers = new Headers({ vary: "Origin, Access-Control-Request-Method, Access-Control-Request-Headers" });
  const origin = allowedOrigin(request, env);
  if (origin !== null) {
    headers.set("access-control-allow-origin", origin);
    headers.set("access-control-allow-methods", METHODS);
    headers.set("access-control-allow-headers", REQUEST_HEADERS);
    headers.set("access-control-max-age", MAX_AGE_SECONDS);
  }
  return new Response(null, { status: 204, headers });
}

/** `response` with the CORS headers the request's origin is due (none for other origins). */
export function withCors(request: Request, env: StorageEnv, response: Response): Response {
  const answered = new Response(response.body, response);
  // Downloads are cacheable: whether they carry the permission depends on the Origin.
  answered.headers.append("vary", "Origin");
  const origin = allowedOrigin(request, env);
  if (origin !== null) {
    answered.headers.set("access-control-allow-origin", origin);
    answered.headers.set("access-control-expose-headers", EXPOSED_HEADERS);
  }
  return answered;
}
