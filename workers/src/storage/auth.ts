// Who may write: the holder of the upload token (a secret_text binding), or, for one
// single upload, whoever holds a signed URL the token holder issued. A signed URL names
// the key, the content type, a size cap and an expiry, and works once: its nonce is
// claimed in D1's upload_nonces table (workers/migrations/media/0002), one INSERT that a
// primary key makes atomic, where a KV read-then-write let concurrent uses through.
import { bearerToken, hmacSha256Hex, sameSecret } from "../shared/crypto";
import { DatabaseManager } from "../shared/db";
import { HttpError } from "../shared/respond";
import type { StorageEnv } from "./env";

export type Uploader = "token" | "signed-url";

export const MAX_SIGNED_URL_SECONDS = 3600;
// A claim outlives its URL's expiry by this much before it is cleaned up, so that a
// location whose clock runs a little behind cannot find an expired URL valid and its
// claim gone.
const CLAIM_GRACE_SECONDS = 300;

function unauthorized(message: string): HttpError {
  return new HttpError(401, "unauthorized", message, { "www-authenticate": 'Bearer realm="blaze-media"' });
}

export async function requireToken(request: Request, env: StorageEnv): Promise<void> {
  const token = bearerToken(request);
  if (token === null) throw unauthorized("send the upload token as a Bearer token");
  if (!(await sameSecret(token, env.UPLOAD_TOKEN))) throw unauthorized("the token is not valid");
}

export interface SignedUpload {
  key: string;
  contentType: string;
  maxBytes: number;
  expires: number; // epoch seconds
  nonce: string;
}

function signedMessage(upload: SignedUpload): string {
  // The domain prefix keeps these signatures from being valid for anything else.
  return ["blaze-media-upload-v1", "PUT", upload.key, upload.contentType, upload.maxBytes, upload.expires, upload.nonce].join("\n");
}

export async function signUpload(env: StorageEnv, upload: SignedUpload): Promise<string> {
  return hmacSha256Hex(env.UPLOAD_TOKEN, signedMessage(upload));
}

/** Checks a signed URL for `key`; consumes its nonce. Returns the cap it grants. */
export async function verifySignedUpload(url: URL, key: string, env: StorageEnv, nowMs: number): Promise<SignedUpload> {
  const expires = Number(url.searchParams.get("expires"));
  const maxBytes = Number(url.searchParams.get("max"));
  const upload: SignedUpload = {
    key,
    contentType: url.searchParams.get("type") ?? "",
    maxBytes,
    expires,
    nonce: url.searchParams.get("nonce") ?? "",
  };
  const signature = url.searchParams.get("signature") ?? "";
  if (!Number.isInteger(expires) || !Number.isInteger(maxBytes) || !/^[0-9a-f-]{36}$/.test(upload.nonce)) {
    throw unauthorized("the signed URL is incomplete");
  }
  if (!(await sameSecret(signature, await signUpload(env, upload)))) throw unauthorized("the signature is not valid");
  const now = Math.floor(nowMs / 1000);
  if (expires <= now) throw unauthorized("the signed URL has expired");
  if (!(await claimNonce(env.DB, upload, now))) throw unauthorized("the signed URL was already used");
  return upload;
}

/**
 * Records the nonce as used; false if some request (possibly a concurrent one) already
 * did. Claims long past their URL's expiry are removed in the same transaction, so the
 * table holds only nonces that could still be presented.
 */
async function claimNonce(db: D1Database, upload: SignedUpload, now: number): Promise<boolean> {
  const [, claimed] = await new DatabaseManager(db).transaction([
    { sql: "DELETE FROM upload_nonces WHERE expires_at < ?", params: [now - CLAIM_GRACE_SECONDS] },
    {
      sql: "INSERT INTO upload_nonces (nonce, expires_at) VALUES (?, ?) ON CONFLICT (nonce) DO NOTHING RETURNING nonce",
      params: [upload.nonce, upload.expires],
    },
  ]);
  return (claimed ?? []).length === 1;
}
