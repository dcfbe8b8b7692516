// API keys: clients send `x-api-key: <key>` (or `Authorization: Bearer <key>`). The
// API_KEYS namespace holds only hashes: `key:<sha256 of the key>` -> {name, rateLimit?,
// disabled?}, so a leaked namespace reveals no usable key.
import { bearerToken, sha256Hex } from "../shared/crypto";
import { HttpError } from "../shared/respond";

export interface KeyRecord {
  name: string;
  /** Requests per rate-limit window, instead of the gateway's default. */
  rateLimit?: number;
  disabled?: boolean;
}

export interface Client {
  id: string; // a prefix of the key's hash: names the client in counters, never the key
  record: KeyRecord;
}

function unauthorized(message: string): HttpError {
  return new HttpError(401, "unauthorized", message, { "www-authenticate": 'Bearer realm="blaze-api"' });
}

export async function authenticate(request: Request, keys: KVNamespace): Promise<Client> {
  const key = request.headers.get("x-api-key") ?? bearerToken(request);
  if (!key) throw unauthorized("send your API key in the x-api-key header");
  const hash = await sha256Hex(key);
  const record = await keys.get<KeyRecord>(`key:${hash}`, "json");
  if (record === null || record.disabled) throw unauthorized("the API key is not valid");
  return { id: hash.slice(0, 16), record };
}
