// The media_objects table (workers/migrations/media): one row per stored object.
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

export async function recordObject(db: D1Database, object: R2Object, contentType: string, by: Uploader): Promise<MediaObject> {
  const row: MediaObject = {
    key: object.key,
    content_type: contentType,
    size: object.size,
    etag: object.etag,
    uploaded_at: object.uploaded.toISOString(),
    uploaded_by: by,
  };
  await new DatabaseManager(db).write({
    sql: `INSERT INTO media_objects (${COLUMNS.join(", ")}) VALUES (?, ?, ?, ?, ?, ?)
          ON CONFLICT (key) DO UPDATE SET content_type = excluded.content_type, size = excluded.size,
            etag = excluded.etag, uploaded_at = excluded.uploaded_at, uploaded_by = excluded.uploaded_by`,
    params: COLUMNS.map((c) => row[c]),
  });
  return row;
}

export async function forgetObject(db: D1Database, key: string): Promise<boolean> {
  const meta = await new DatabaseManager(db).write({ sql: "DELETE FROM media_objects WHERE key = ?", params: [key] });
  return meta.changes > 0;
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
