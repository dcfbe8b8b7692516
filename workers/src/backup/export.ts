// Exporting one D1 database to the backups bucket: a SQL dump (schema, then every row in
// rowid order, or primary key order in a WITHOUT ROWID table, the AUTOINCREMENT counters,
// then indexes and triggers) and a manifest of its tables, row counts and checksums. A
// table's checksum is the SHA-256 of its INSERT lines, each followed by "\n", exactly as
// they appear in the dump, so a restore can be checked line by line.
//
// Rows are read in pages, not in one snapshot: the export is a logical backup taken
// while the database serves traffic. Point-in-time recovery is D1 Time Travel's job.
import { OWN_OBJECTS } from "../shared/db";
import { insertStatement, quoteIdentifier } from "./sql";
import { R2TextWriter, Sha256 } from "./writer";

const PAGE = 500;
const encoder = new TextEncoder();

export interface TableManifest {
  name: string;
  rows: number;
  sha256: string;
}

export interface Manifest {
  format: "blaze-d1-export/1";
  database: string;
  createdAt: string;
  dump: { key: string; bytes: number; sha256: string };
  tables: TableManifest[];
  restore: string;
}

interface SchemaRow {
  type: string;
  name: string;
  sql: string;
  [column: string]: string;
}

interface ColumnInfo {
  name: string;
  pk: number;
  [column: string]: string | number;
}

/**
 * The columns that order a table's rows for paging: its rowid, or, in a WITHOUT ROWID
 * table (which has none), its primary key, the order such a table is stored in.
 */
async function pagingKey(db: D1Database, table: string, columns: ColumnInfo[]): Promise<string[]> {
  const listed = await db.prepare(`PRAGMA table_list(${quoteIdentifier(table)})`).first<{ wr: number }>();
  if (!listed?.wr) return ["rowid"];
  return columns.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk).map((c) => quoteIdentifier(c.name));
}

async function exportRows(db: D1Database, writer: R2TextWriter, table: string): Promise<TableManifest> {
  const info = (await db.prepare(`PRAGMA table_info(${quoteIdentifier(table)})`).all<ColumnInfo>()).results;
  const columns = info.map((c) => c.name);
  const key = await pagingKey(db, table, info);
  const aliases = key.map((_, i) => `__export_key_${i}`);
  const selected = key.map((k, i) => `${k} AS "${aliases[i]}"`).join(", ");
  const order = key.join(", ");
  const hash = new Sha256();
  let rows = 0;
  let after: unknown[] | null = null;
  for (;;) {
    const where = after === null ? "" : ` WHERE (${order}) > (${key.map(() => "?").join(", ")})`;
    const page: D1Result<Record<string, unknown>> = await db
      .prepare(`SELECT ${selected}, * FROM ${quoteIdentifier(table)}${where} ORDER BY ${order} LIMIT ${PAGE}`)
      .bind(...(after ?? []))
      .all<Record<string, unknown>>();
    for (const row of page.results) {
      const line = `${insertStatement(table, columns, row)}\n`;
      await hash.update(encoder.encode(line));
      await writer.write(line);
      after = aliases.map((alias) => row[alias]);
    }
    rows += page.results.length;
    if (page.results.length < PAGE) break;
  }
  return { name: table, rows, sha256: await hash.hex() };
}

export async function exportDatabase(binding: string, db: D1Database, bucket: R2Bucket, prefix: string, now: number): Promise<Manifest> {
  const schema = await db
    .prepare(`SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL AND ${OWN_OBJECTS} ORDER BY type = 'table' DESC, rowid`)
    .all<SchemaRow>();
  const tables = schema.results.filter((s) => s.type === "table");
  const rest = schema.results.filter((s) => s.type !== "table");
  const date = new Date(now).toISOString().slice(0, 10);
  const dumpKey = `${prefix}${date}/${binding}.sql`;
  const writer = new R2TextWriter(bucket, dumpKey, "application/sql");
  const manifests: TableManifest[] = [];
  try {
    await writer.write("PRAGMA defer_foreign_keys = TRUE;\n");
    for (const table of tables) await writer.write(`${table.sql};\n`);
    for (const table of tables) manifests.push(await exportRows(db, writer, table.name));
    // The counters of AUTOINCREMENT tables, so a restored table never reuses an id.
    const sequences = await db.prepare("SELECT name FROM sqlite_master WHERE name = 'sqlite_sequence'").all();
    if (sequences.results.length) {
      await writer.write("DELETE FROM sqlite_sequence;\n");
      manifests.push(await exportRows(db, writer, "sqlite_sequence"));
    }
    for (const item of rest) await writer.write(`${item.sql};\n`);
  } catch (err) {
    await writer.abort();
    throw err;
  }
  const sha256 = await writer.close();
  const manifest: Manifest = {
    format: "blaze-d1-export/1",
    database: binding,
    createdAt: new Date(now).toISOString(),
    dump: { key: dumpKey, bytes: writer.bytes, sha256 },
    tables: manifests,
    restore: "python -m workers.backups restore (workers/README.md, 'Restoring a database')",
  };
  await bucket.put(`${prefix}${date}/${binding}.manifest.json`, JSON.stringify(manifest, null, 2), {
    httpMetadata: { contentType: "application/json" },
  });
  return manifest;
}
