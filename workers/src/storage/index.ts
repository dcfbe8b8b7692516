// The media storage Worker: objects in R2 (MEDIA), their metadata in D1 (DB).
//
// Served under /api/media on the site and at the root of the media host:
//   GET    /objects?prefix=&cursor=&limit=     list (from D1)
//   GET    /objects/<key>                      download (ETag, conditional, Range); HEAD too
//   PUT    /objects/<key>                      single upload: Bearer token or a signed URL
//   DELETE /objects/<key>                      Bearer token
//   POST   /signed-urls                        {key, contentType, expiresIn?, maxBytes?}
//   POST   /uploads                            {key, contentType} -> {uploadId}
//   PUT    /uploads/<id>/parts/<n>             one part of a multipart upload
//   POST   /uploads/<id>/complete              assemble and record
//   DELETE /uploads/<id>                       abandon
//   OPTIONS                                    CORS preflight (cors.ts)
// Every write counts against the client's rate limit before anything else happens; a
// preflight is not a write (the browser sends one before the write it asks about).
import { positiveInteger } from "../shared/config";
import { FixedWindowRateLimiter, clientAddress } from "../shared/ratelimit";
import { HttpError, guarded, methodNotAllowed, notFound } from "../shared/respond";
import { requireToken, verifySignedUpload, type Uploader } from "./auth";
import { isPreflight, preflight, withCors } from "./cors";
import { deleteObject, getObject, listing } from "./downloads";
import type { StorageEnv } from "./env";
import { mediaType } from "./filetypes";
import { safeKey } from "./keys";
import { abortMultipart, completeMultipart, createMultipart, createSignedUrl, putObject, uploadPart } from "./uploads";

const SITE_PREFIX = "/api/media";
const READS = new Set(["GET", "HEAD"]);

function split(url: URL): { base: string; path: string } {
  const { pathname } = url;
  if (pathname === SITE_PREFIX || pathname.startsWith(`${SITE_PREFIX}/`)) {
    return { base: url.origin + SITE_PREFIX, path: pathname.slice(SITE_PREFIX.length) || "/" };
  }
  return { base: url.origin, path: pathname };
}

async function route(request: Request, env: StorageEnv): Promise<Response> {
  const url = new URL(request.url);
  const { base, path } = split(url);
  const method = request.method;
  const now = Date.now();

  if (!READS.has(method)) {
    const limiter = new FixedWindowRateLimiter(
      env.RATE_LIMITS,
      "media-writes",
      positiveInteger(env, "RATE_LIMIT_REQUESTS"),
      positiveInteger(env, "RATE_LIMIT_WINDOW_SECONDS"),
    );
    await limiter.enforce(clientAddress(request), now);
  }

  if (path === "/objects" || path === "/objects/") {
    if (!READS.has(method)) throw methodNotAllowed(["GET"]);
    return listing(url, env);
  }
  if (path.startsWith("/objects/")) {
    const key = safeKey(path.slice("/objects/".length), true);
    if (READS.has(method)) return getObject(request, env, key);
    if (method === "DELETE") {
      await requireToken(request, env);
      return deleteObject(env, key);
    }
    if (method === "PUT") {
      let by: Uploader = "token";
      let cap = Number.MAX_SAFE_INTEGER;
      if (url.searchParams.has("signature")) {
        const signed = await verifySignedUpload(url, key, env, now);
        if (signed.contentType !== mediaType(request.headers.get("content-type"))) {
          throw new HttpError(415, "type_mismatch", `the signed URL is for ${signed.contentType}`);
        }
        by = "signed-url";
        cap = signed.maxBytes;
      } else {
        await requireToken(request, env);
      }
      return putObject(request, env, key, by, cap);
    }
    throw methodNotAllowed(["GET", "HEAD", "PUT", "DELETE"]);
  }
  if (path === "/signed-urls") {
    if (method !== "POST") throw methodNotAllowed(["POST"]);
    await requireToken(request, env);
    return createSignedUrl(request, env, base, now);
  }
  if (path === "/uploads") {
    if (method !== "POST") throw methodNotAllowed(["POST"]);
    await requireToken(request, env);
    return createMultipart(request, env, now);
  }
  const multipart = /^\/uploads\/([^/]+)(?:\/(complete|parts\/([^/]+)))?$/.exec(path);
  if (multipart) {
    const [, id = "", action, part] = multipart;
    await requireToken(request, env);
    if (action === "complete" && method === "POST") return completeMultipart(env, id);
    if (part !== undefined && method === "PUT") return uploadPart(request, env, id, part);
    if (action === undefined && method === "DELETE") return abortMultipart(env, id);
    throw methodNotAllowed(action === "complete" ? ["POST"] : part !== undefined ? ["PUT"] : ["DELETE"]);
  }
  throw notFound();
}

export default {
  async fetch(request, env): Promise<Response> {
    if (isPreflight(request)) return preflight(request, env);
    return withCors(request, env, await guarded(() => route(request, env)));
  },
} satisfies ExportedHandler<StorageEnv>;
