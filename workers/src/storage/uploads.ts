// Single uploads (PUT /objects/<key>), signed upload URLs, and multipart uploads for
// large files. Each upload is a new R2 object under a name of its own; once R2 holds it
// whole, the key's row is pointed at it and the object it replaces is deleted
// (metadata.ts says why). If the row cannot be written, the new object is removed again.
import { list, positiveInteger } from "../shared/config";
import { HttpError, badRequest, json, readJson } from "../shared/respond";
import { MAX_SIGNED_URL_SECONDS, signUpload, type Uploader } from "./auth";
import { checkedBody, declaredLength, settle } from "./body";
import type { StorageEnv } from "./env";
import { mediaType } from "./filetypes";
import { safeKey } from "./keys";
import { describe, newObjectKey, recordObject } from "./metadata";

function allowedType(env: StorageEnv, declared: string): string {
  if (!list(env, "ALLOWED_TYPES").includes(declared)) {
    throw new HttpError(415, "unsupported_type", `allowed types: ${list(env, "ALLOWED_TYPES").join(", ")}`);
  }
  return declared;
}

async function storeRecord(env: StorageEnv, key: string, object: R2Object, contentType: string, by: Uploader): Promise<Response> {
  let recorded;
  try {
    recorded = await recordObject(env.DB, key, object, contentType, by);
  } catch (err) {
    // No row points at the new object, so nothing else would ever delete it.
    await env.MEDIA.delete(object.key);
    throw err;
  }
  if (recorded.replaced !== null) await dropReplaced(env, recorded.replaced);
  return json(describe(recorded.row), 201, { etag: object.httpEtag });
}

async function dropReplaced(env: StorageEnv, name: string): Promise<void> {
  try {
    await env.MEDIA.delete(name);
  } catch (err) {
    // The upload itself is done and served; the old object is only unreferenced bytes.
    const message = err instanceof Error ? err.message : String(err);
    console.error(JSON.stringify({ level: "error", event: "replaced_object_not_deleted", object: name, message }));
  }
}

export async function putObject(request: Request, env: StorageEnv, key: string, by: Uploader, cap: number): Promise<Response> {
  const contentType = allowedType(env, mediaType(request.headers.get("content-type")));
  const length = declaredLength(request, Math.min(cap, positiveInteger(env, "MAX_UPLOAD_BYTES")));
  const body = await checkedBody(request, length, contentType);
  const object = await settle(
    env.MEDIA.put(newObjectKey(key), body.stream, { httpMetadata: { contentType }, customMetadata: { uploadedBy: by } }),
    body,
  );
  return storeRecord(env, key, object, contentType, by);
}

function requestObject(body: unknown): Record<string, unknown> {
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw badRequest("send a JSON object");
  return body as Record<string, unknown>;
}

function stringField(body: Record<string, unknown>, name: string): string {
  const value = body[name];
  if (typeof value !== "string") throw badRequest(`"${name}" must be a string`);
  return value;
}

/** POST /signed-urls {key, contentType, expiresIn?, maxBytes?}: a one-time upload URL. */
export async function createSignedUrl(request: Request, env: StorageEnv, base: string, nowMs: number): Promise<Response> {
  const body = requestObject(await readJson(request));
  const key = safeKey(stringField(body, "key"), false);
  const contentType = allowedType(env, stringField(body, "contentType").toLowerCase());
  const limit = positiveInteger(env, "MAX_UPLOAD_BYTES");
  const maxBytes = body["maxBytes"] === undefined ? limit : Number(body["maxBytes"]);
  const expiresIn = body["expiresIn"] === undefined ? 900 : Number(body["expiresIn"]);
  if (!Number.isInteger(maxBytes) || maxBytes < 1 || maxBytes > limit) throw badRequest(`"maxBytes" is 1 to ${limit}`);
  if (!Number.isInteger(expiresIn) || expiresIn < 1 || expiresIn > MAX_SIGNED_URL_SECONDS) {
    throw badRequest(`"expiresIn" is 1 to ${MAX_SIGNED_URL_SECONDS} seconds`);
  }
  const upload = { key, contentType, maxBytes, expires: Math.floor(nowMs / 1000) + expiresIn, nonce: crypto.randomUUID() };
  const url = new URL(`${base}/objects/${key}`);
  url.searchParams.set("type", upload.contentType);
  url.searchParams.set("max", String(upload.maxBytes));
  url.searchParams.set("expires", String(upload.expires));
  url.searchParams.set("nonce", upload.nonce);
  url.searchParams.set("signature", await signUpload(env, upload));
  return json({ url: url.href, method: "PUT", key, contentType, maxBytes, expiresAt: new Date(upload.expires * 1000).toISOString() }, 201);
}

// Multipart sessions live in UPLOAD_SESSIONS: `upload:<id>` holds the session and
// `upload:<id>:part:<n>` each uploaded part, one key per part so that parts uploaded in
// parallel never overwrite each other's record.
interface Session {
  key: string;
  /** The R2 object the upload assembles; absent in sessions begun before objects had names of their own. */
  object?: string;
  contentType: string;
  r2UploadId: string;
  createdAt: number;
}

const sessionObject = (session: Session): string => session.object ?? session.key;

interface PartRecord {
  partNumber: number;
  etag: string;
  size: number;
}

const SESSION_TTL_SECONDS = 24 * 3600;
const MAX_PARTS = 10000;
const sessionKey = (id: string): string => `upload:${id}`;
const partPrefix = (id: string): string => `upload:${id}:part:`;

async function loadSession(env: StorageEnv, id: string): Promise<Session> {
  const session = /^[0-9a-f-]{36}$/.test(id) ? await env.UPLOAD_SESSIONS.get<Session>(sessionKey(id), "json") : null;
  if (session === null) throw new HttpError(404, "no_such_upload", "no multipart upload with this id");
  return session;
}

async function loadParts(env: StorageEnv, id: string): Promise<PartRecord[]> {
  const parts: PartRecord[] = [];
  let cursor: string | undefined;
  do {
    const page: KVNamespaceListResult<unknown> = await env.UPLOAD_SESSIONS.list(
      cursor ? { prefix: partPrefix(id), cursor } : { prefix: partPrefix(id) },
    );
    for (const { name } of page.keys) {
      const part = await env.UPLOAD_SESSIONS.get<PartRecord>(name, "json");
      if (part) parts.push(part);
    }
    cursor = page.list_complete ? undefined : page.cursor;
  } while (cursor);
  return parts.sort((a, b) => a.partNumber - b.partNumber);
}

async function dropSession(env: StorageEnv, id: string, parts: readonly PartRecord[]): Promise<void> {
  await Promise.all([
    env.UPLOAD_SESSIONS.delete(sessionKey(id)),
    ...parts.map((p) => env.UPLOAD_SESSIONS.delete(partPrefix(id) + p.partNumber)),
  ]);
}

/** POST /uploads {key, contentType}: starts a multipart upload. */
export async function createMultipart(request: Request, env: StorageEnv, nowMs: number): Promise<Response> {
  const body = requestObject(await readJson(request));
  const key = safeKey(stringField(body, "key"), false);
  const contentType = allowedType(env, stringField(body, "contentType").toLowerCase());
  const object = newObjectKey(key);
  const upload = await env.MEDIA.createMultipartUpload(object, {
    httpMetadata: { contentType },
    customMetadata: { uploadedBy: "token" },
  });
  const id = crypto.randomUUID();
  const session: Session = { key, object, contentType, r2UploadId: upload.uploadId, createdAt: nowMs };
  await env.UPLOAD_SESSIONS.put(sessionKey(id), JSON.stringify(session), { expirationTtl: SESSION_TTL_SECONDS });
  return json({ uploadId: id, key, contentType }, 201);
}

/** PUT /uploads/<id>/parts/<n>: one part; part 1 must carry the declared type's magic bytes. */
export async function uploadPart(request: Request, env: StorageEnv, id: string, partText: string): Promise<Response> {
  const session = await loadSession(env, id);
  const partNumber = Number(partText);
  if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > MAX_PARTS) {
    throw badRequest(`part numbers are 1 to ${MAX_PARTS}`);
  }
  const limit = positiveInteger(env, "MAX_UPLOAD_BYTES");
  const others = (await loadParts(env, id)).filter((p) => p.partNumber !== partNumber);
  const used = others.reduce((sum, p) => sum + p.size, 0);
  const length = declaredLength(request, limit - used);
  const upload = env.MEDIA.resumeMultipartUpload(sessionObject(session), session.r2UploadId);
  let part: R2UploadedPart;
  if (partNumber === 1) {
    let body;
    try {
      body = await checkedBody(request, length, session.contentType);
    } catch (err) {
      // A disguised file ends the whole upload: nothing of it stays in R2.
      await upload.abort();
      await dropSession(env, id, others);
      throw err;
    }
    part = await settle(upload.uploadPart(partNumber, body.stream), body);
  } else {
    if (!request.body) throw badRequest("the body is empty");
    const fixed = new FixedLengthStream(length);
    const body = { stream: fixed.readable, piped: request.body.pipeTo(fixed.writable) };
    part = await settle(upload.uploadPart(partNumber, body.stream), body);
  }
  const record: PartRecord = { partNumber, etag: part.etag, size: length };
  await env.UPLOAD_SESSIONS.put(partPrefix(id) + partNumber, JSON.stringify(record), { expirationTtl: SESSION_TTL_SECONDS });
  return json({ uploadId: id, partNumber, size: length }, 200);
}

/** POST /uploads/<id>/complete: assembles the parts, then records the object. */
export async function completeMultipart(env: StorageEnv, id: string): Promise<Response> {
  const session = await loadSession(env, id);
  const parts = await loadParts(env, id);
  if (parts[0]?.partNumber !== 1) throw badRequest("part 1 has not been uploaded");
  const total = parts.reduce((sum, p) => sum + p.size, 0);
  const limit = positiveInteger(env, "MAX_UPLOAD_BYTES");
  const upload = env.MEDIA.resumeMultipartUpload(sessionObject(session), session.r2UploadId);
  if (total > limit) {
    await upload.abort();
    await dropSession(env, id, parts);
    throw new HttpError(413, "too_large", `the limit is ${limit} bytes`);
  }
  let object: R2Object;
  try {
    object = await upload.complete(parts.map(({ partNumber, etag }) => ({ partNumber, etag })));
  } catch (err) {
    throw new HttpError(400, "multipart_rejected", `R2 refused the parts: ${err instanceof Error ? err.message : String(err)}`);
  }
  await dropSession(env, id, parts);
  return storeRecord(env, session.key, object, session.contentType, "token");
}

/** DELETE /uploads/<id>: abandons a multipart upload and its parts. */
export async function abortMultipart(env: StorageEnv, id: string): Promise<Response> {
  const session = await loadSession(env, id);
  const parts = await loadParts(env, id);
  await env.MEDIA.resumeMultipartUpload(sessionObject(session), session.r2UploadId).abort();
  await dropSession(env, id, parts);
  return new Response(null, { status: 204 });
}
