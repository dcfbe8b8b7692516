// Object keys: what a client may name an object. Every segment starts with a letter or
// digit and holds only letters, digits, dots, underscores and hyphens, so "..", ".",
// empty segments, backslashes, control characters and hidden names never reach R2.
import { HttpError } from "../shared/respond";

const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const MAX_KEY_LENGTH = 512;

function invalidKey(reason: string): HttpError {
  return new HttpError(400, "invalid_key", reason);
}

/** The normalised key for a client-supplied one (percent-decoded if `encoded`), or a 400. */
export function safeKey(raw: string, encoded: boolean): string {
  let key = raw;
  if (encoded) {
    try {
      key = decodeURIComponent(raw);
    } catch {
      throw invalidKey("the key is not valid percent-encoding");
    }
  }
  key = key.normalize("NFC");
  if (key.length === 0 || key.length > MAX_KEY_LENGTH) {
    throw invalidKey(`a key has 1 to ${MAX_KEY_LENGTH} characters`);
  }
  for (const segment of key.split("/")) {
    if (!SEGMENT.test(segment)) {
      throw invalidKey("each key segment starts with a letter or digit and uses only letters, digits, '.', '_' and '-'");
    }
  }
  return key;
}

/** A listing prefix: empty, or a key-like string that may end with "/". */
export function safePrefix(raw: string | null): string {
  if (!raw) return "";
  const trimmed = raw.endsWith("/") ? raw.slice(0, -1) : raw;
  return safeKey(trimmed, false) + (raw.endsWith("/") ? "/" : "");
}
