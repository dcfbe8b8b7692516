// Writing one run's batch: every table's upserts in one D1 transaction (all or nothing),
// then the cache tags of exactly the rows that changed, before and after the change (a
// rescheduled game leaves its old date's cache as stale as its new one's).
import { DatabaseManager, identifier, upsertStatements, type Query, type Row, type SqlValue } from "../shared/db";
import { TABLES, type Batch, type TableName } from "./tables";

// D1 binds at most 100 parameters per statement.
const MAX_BOUND_PARAMETERS = 100;

function keyOf(row: Row, key: readonly string[]): string {
  return JSON.stringify(key.map((k) => row[k] ?? null));
}

/** The stored rows with the keys of `rows`, read before the write. */
async function storedVersions(db: DatabaseManager, table: TableName, rows: readonly Row[]): Promise<Row[]> {
  const { key, columns } = TABLES[table];
  const perStatement = Math.max(1, Math.floor(MAX_BOUND_PARAMETERS / key.length));
  const found: Row[] = [];
  for (let start = 0; start < rows.length; start += perStatement) {
    const chunk = rows.slice(start, start + perStatement);
    const tuple = `(${key.map(() => "?").join(", ")})`;
    const query: Query = {
      sql: `SELECT ${columns.map(identifier).join(", ")} FROM ${identifier(table)}
            WHERE (${key.map(identifier).join(", ")}) IN (VALUES ${chunk.map(() => tuple).join(", ")})`,
      params: chunk.flatMap((row) => key.map((k): SqlValue => row[k] ?? null)),
    };
    found.push(...(await db.all(query)));
  }
  return found;
}

export interface WriteResult {
  changedRows: number;
  tags: Set<string>;
}

export async function writeBatch(database: D1Database, batch: Batch, sport: string, updatedAt: string): Promise<WriteResult> {
  const db = new DatabaseManager(database);
  const tables = (Object.keys(batch) as TableName[]).filter((t) => (batch[t]?.length ?? 0) > 0);
  const before = new Map<TableName, Row[]>();
  const statements: { table: TableName; query: Query }[] = [];
  for (const table of tables) {
    const rows = batch[table]!;
    const spec = TABLES[table];
    before.set(table, await storedVersions(db, table, rows));
    const stamped = rows.map((row) => ({ ...row, updated_at: updatedAt }));
    for (const query of upsertStatements(
      { table, columns: [...spec.columns, "updated_at"], key: spec.key, ignoreForChanges: ["updated_at"], returning: spec.columns },
      stamped,
    )) {
      statements.push({ table, query });
    }
  }
  const results = await db.transaction(statements.map((s) => s.query));

  const tags = new Set<string>();
  let changedRows = 0;
  results.forEach((changed, i) => {
    const table = statements[i]!.table;
    const spec = TABLES[table];
    const changedKeys = new Set(changed.map((row) => keyOf(row, spec.key)));
    changedRows += changed.length;
    for (const row of changed) spec.tags(row, sport, batch).forEach((t) => tags.add(t));
    for (const row of before.get(table) ?? []) {
      if (changedKeys.has(keyOf(row, spec.key))) spec.tags(row, sport, batch).forEach((t) => tags.add(t));
    }
  });
  return { changedRows, tags };
}
