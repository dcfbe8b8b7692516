// Downloads with R2's own conditional and range handling: the request's headers go to
// R2 as `onlyIf` (If-Match, If-None-Match, If-Modified-Since, If-Unmodified-Since) and
// `range`, so ETags, 304/412 and partial content follow R2's semantics exactly. A key's
// object is the one its D1 row points at (metadata.ts says why).
import { HttpError, error, json, notFound } from "../shared/respond";
import type { StorageEnv } from "./env";
import { describe, forgetObject, listObjects, objectOf } from "./metadata";
import { safePrefix } from "./keys";

const CACHE_CONTROL = "public, max-age=3600";

// Shown in the page (images, video); anything else is a download.
const INLINE_TYPES = new Set(["image/jpeg", "image/png", "image/webp", "image/gif", "video/mp4"]);

function objectHeaders(key: string, object: R2Object): Headers {
  const headers = new Headers();
  object.writeHttpMetadata(headers);
  headers.set("etag", object.httpEtag);
  headers.set("last-modified", object.uploaded.toUTCString());
  headers.set("accept-ranges", "bytes");
  headers.set("cache-control", CACHE_CONTROL);
  // Uploads are served from the site's own origin: none may be sniffed into another type,
  // run script or act as a page of the site, whatever its bytes or stored metadata say.
  headers.set("x-content-type-options", "nosniff");
  headers.set("content-security-policy", "default-src 'none'; sandbox");
  const inline = INLINE_TYPES.has(headers.get("content-type") ?? "");
  const name = key.slice(key.lastIndexOf("/") + 1);
  headers.set("content-disposition", `${inline ? "inline" : "attachment"}; filename*=UTF-8''${encodeURIComponent(name)}`);
  return headers;
}

type ByteRange = { offset: number; length?: number } | { suffix: number };

/**
 * One byte range of a Range header ("bytes=a-b", "bytes=a-", "bytes=-n"); anything else
 * (several ranges, other units) is ignored and the whole object served, as RFC 9110 allows.
 */
function parseRange(header: string | null): ByteRange | null {
  const match = /^bytes=(\d*)-(\d*)$/.exec(header?.trim() ?? "");
  if (!match) return null;
  const [, first = "", last = ""] = match;
  if (first === "" && last === "") return null;
  if (first === "") return { suffix: Number(last) };
  const offset = Number(first);
  if (last === "") return { offset };
  if (Number(last) < offset) return null;
  return { offset, length: Number(last) - offset + 1 };
}

function rangeStart(range: ByteRange, size: number): number {
  return "suffix" in range ? Math.max(0, size - range.suffix) : range.offset;
}

function unsatisfiable(size: number): HttpError {
  return new HttpError(416, "range_not_satisfiable", "the range is outside the object", { "content-range": `bytes */${size}` });
}

function hasBody(object: R2Object | R2ObjectBody): object is R2ObjectBody {
  return "body" in object;
}

async function conditionalGet(
  request: Request,
  env: StorageEnv,
  name: string,
  range: ByteRange | null,
): Promise<R2Object | R2ObjectBody | null> {
  try {
    return await env.MEDIA.get(name, { onlyIf: request.headers, ...(range ? { range } : {}) });
  } catch (err) {
    // R2 throws on a range past the end; answer that as HTTP does.
    const head = range ? await env.MEDIA.head(name) : null;
    if (range && head && rangeStart(range, head.size) >= head.size) throw unsatisfiable(head.size);
    throw err;
  }
}

/** `key`'s object as the request asks for it, or a 404. */
async function currentObject(request: Request, env: StorageEnv, key: string, range: ByteRange | null): Promise<R2Object | R2ObjectBody> {
  const name = await objectOf(env.DB, key);
  if (name === null) throw notFound("no such object");
  const object = await conditionalGet(request, env, name, range);
  if (object !== null) return object;
  // The object went away after its row was read: an upload replaced it, or the read
  // replica was behind. The primary knows the key's object now, if it has one.
  const latest = await objectOf(env.DB, key, true);
  const retried = latest === null || latest === name ? null : await conditionalGet(request, env, latest, range);
  if (retried === null) throw notFound("no such object");
  return retried;
}

export async function getObject(request: Request, env: StorageEnv, key: string): Promise<Response> {
  // HEAD goes through the same conditional get as GET, so R2 judges its conditions alike;
  // it only drops the body (and ignores Range, as HTTP allows).
  const isHead = request.method === "HEAD";
  const range = isHead ? null : parseRange(request.headers.get("range"));
  const object = await currentObject(request, env, key, range);
  const headers = objectHeaders(key, object);
  if (!hasBody(object)) {
    // A failed If-None-Match / If-Modified-Since means "you have it"; a failed
    // If-Match / If-Unmodified-Since means "it changed".
    const notModified = request.headers.has("if-none-match") || request.headers.has("if-modified-since");
    if (notModified) return new Response(null, { status: 304, headers });
    return error(412, "precondition_failed", "the object does not meet the request's conditions", headers);
  }
  if (isHead) {
    await object.body.cancel();
    headers.set("content-length", String(object.size));
    return new Response(null, { status: 200, headers });
  }
  if (range) {
    const start = rangeStart(range, object.size);
    if (start >= object.size) {
      await object.body.cancel();
      throw unsatisfiable(object.size);
    }
    const end = "length" in range && range.length !== undefined ? Math.min(object.size, start + range.length) : object.size;
    headers.set("content-range", `bytes ${start}-${end - 1}/${object.size}`);
    headers.set("content-length", String(end - start));
    return new Response(object.body, { status: 206, headers });
  }
  headers.set("content-length", String(object.size));
  return new Response(object.body, { status: 200, headers });
}

export async function deleteObject(env: StorageEnv, key: string): Promise<Response> {
  // The row goes first: from then on nothing serves the object, and no other request
  // learns its name, so deleting it cannot remove anything a row still points at.
  const object = await forgetObject(env.DB, key);
  if (object === null) throw notFound("no such object");
  await env.MEDIA.delete(object);
  return new Response(null, { status: 204 });
}

const DEFAULT_PAGE = 100;
const MAX_PAGE = 1000;

export async function listing(url: URL, env: StorageEnv): Promise<Response> {
  const prefix = safePrefix(url.searchParams.get("prefix"));
  const after = url.searchParams.get("cursor") ?? "";
  const limit = Number(url.searchParams.get("limit") ?? DEFAULT_PAGE);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) {
    throw new HttpError(400, "bad_request", `limit is 1 to ${MAX_PAGE}`);
  }
  const rows = await listObjects(env.DB, prefix, after, limit + 1);
  const page = rows.slice(0, limit);
  const next = rows.length > limit ? page[page.length - 1]?.key ?? null : null;
  return json({ objects: page.map(describe), cursor: next });
}
