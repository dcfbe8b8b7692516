// The media_objects table (workers/migrations/media): one row per key, naming the R2
// object that holds the key's bytes.
//
// Why a row points at its object instead of the object being stored under the key: R2
// and D1 cannot share a transaction, so an upload that wrote the key in R2 and then its
// row, racing a delete that removed both, could end with a row and no object or an object
// and no row (and two racing uploads with a row describing the other's bytes). Instead,
// every upload writes a new object under a name of its own (`<key>@<uuid>`: keys hold no
// "@", so no client key and no other upload's object has that name), and only then, in
// one D1 transaction, points the key's row at it and reads which object the row pointed
// at before; that one is deleted afterwards. A delete removes the row and learns its
// object in one statement, then deletes that object. D1 runs each of these steps whole,
// one at a time, so however the requests for one key interleave:
//   - a row only ever points at an object R2 already holds in full, with its size and etag;
//   - an object stops being pointed at exactly once, and only the request that made it so
//     deletes it, after that;
//   - of racing uploads the last to point the row wins; none is refused.
// What can be left over is an object no row points at, when a Worker dies or R2 fails
// between the steps: never served (reads go through the row) and safe to sweep.
// Rows from before migration 0003 have no object_key: their object is stored at the key.
import { DatabaseManager, select, type Row } from "../shared/db";
import type { Uploader } from "./auth";

export interface MediaObject extends Row {
  key: string;
  content_type: string;
  size: number;
  etag: string;
  uploaded_at: string;
  uploaded_by: Uploader;
}

const COLUMNS = ["key", "content_type", "size", "etag", "uploaded_at", "uploaded_by"] as const;
// The object of a row; a row older than migration 0003 keeps it under its own key.
const OBJECT_OF_ROW = "COALESCE(object_key, key)";

/** A fresh R2 name for a new object of `key`, which no other object has. */
export function newObjectKey(key: string): string {
  return `${key}@${crypto.randomUUID()}`;
}

export interface Recorded {
  row: MediaObject;
  /** The object the row pointed at before, now pointed at by nothing: the caller deletes it. */
  replaced: string | null;
}

/** Points `key`'s row at `object` (already complete in R2), in one transaction. */
export async function recordObject(
  db: D1Database,
  key: string,
  object: R2Object,
  contentType: string,
  by: Uploader,
): Promise<Recorded> {
  const row: MediaObject = {
    key,
    content_type: contentType,
    size: object.size,
    etag: object.etag,
    uploaded_at: object.uploaded.toISOString(),
    uploaded_by: by,
  };
  const [before = []] = await new DatabaseManager(db).transaction([
    { sql: `SELECT ${OBJECT_OF_ROW} AS object FROM media_objects WHERE key = ?`, params: [key] },
    {
      sql: `INSERT INTO media_objects (${COLUMNS.join(", ")}, object_key) VALUES (?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (key) DO UPDATE SET content_type = excluded.content_type, size = excluded.size,
              etag = excluded.etag, uploaded_at = excluded.uploaded_at, uploaded_by = excluded.uploaded_by,
              object_key = excluded.object_key`,
      params: [...COLUMNS.map((c) => row[c]), object.key],
    },
  ]);
  const replaced = before[0]?.["object"];
  return { row, replaced: typeof replaced === "string" && replaced !== object.key ? replaced : null };
}

/** Removes `key`'s row; the object it pointed at (the caller deletes it), or null if none. */
export async function forgetObject(db: D1Database, key: string): Promise<string | null> {
  const [removed = []] = await new DatabaseManager(db).transaction([
    { sql: `DELETE FROM media_objects WHERE key = ? RETURNING ${OBJECT_OF_ROW} AS object`, params: [key] },
  ]);
  const object = removed[0]?.["object"];
  return typeof object === "string" ? object : null;
}

/**
 * The R2 name of `key`'s object, or null. `latest` reads from the primary: for a second
 * look when the object just read was gone (replaced since, or the replica behind).
 */
export async function objectOf(db: D1Database, key: string, latest = false): Promise<string | null> {
  const query = { sql: `SELECT ${OBJECT_OF_ROW} AS object FROM media_objects WHERE key = ?`, params: [key] };
  const manager = new DatabaseManager(db);
  const row = latest ? await manager.firstOnPrimary(query) : await manager.first(query);
  const object = row?.["object"];
  return typeof object === "string" ? object : null;
}

export async function listObjects(db: D1Database, prefix: string, after: string, limit: number): Promise<MediaObject[]> {
  const query = select("media_objects", COLUMNS).where("key", ">", after).orderBy("key").limit(limit);
  if (prefix) {
    // Keys only hold [A-Za-z0-9._/-], so a range on the prefix is exact and uses the key index.
    query.where("key", ">=", prefix).where("key", "<", prefix + "\u{10FFFF}");
  }
  return new DatabaseManager(db).all<MediaObject>(query);
}

export function describe(row: MediaObject): Record<string, string | number> {
  return {
    key: row.key,
    contentType: row.content_type,
    size: row.size,
    etag: row.etag,
    uploadedAt: row.uploaded_at,
  };
}
