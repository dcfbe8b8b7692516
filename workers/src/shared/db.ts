// The shared database manager: every query is parameterised, identifiers the code writes
// are checked against a strict pattern (names read from a database are quoted instead),
// reads and writes take separate paths.
//
// Reads go through a D1 session ("first-unconstrained"), which lets D1 answer from a
// read replica when read replication is on; writes always go to the primary. Several
// write statements run as one `batch`, which D1 executes as a single transaction.

export type SqlValue = string | number | null;
export type Row = Record<string, SqlValue>;

export interface Query {
  sql: string;
  params: SqlValue[];
}

/**
 * A condition on sqlite_master's `name` that keeps the database's own objects: not SQLite's
 * (sqlite_...) nor D1's (_cf_...). GLOB, as LIKE would read '_' as any character and leave
 * out tables such as ncf_polls.
 */
export const OWN_OBJECTS = "name NOT GLOB 'sqlite_*' AND name NOT GLOB '_cf_*'";

// D1 binds at most 100 parameters per statement.
const MAX_BOUND_PARAMETERS = 100;
const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;

/**
 * Any name SQLite holds (a table found in sqlite_master), quoted as SQLite quotes it: in
 * double quotes, each double quote inside doubled. For names the code writes, see `identifier`.
 */
export function quotedName(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

export function identifier(name: string): string {
  if (!IDENTIFIER.test(name)) throw new Error(`unsafe SQL identifier ${JSON.stringify(name)}`);
  return `"${name}"`;
}

type Comparison = "=" | "!=" | "<" | "<=" | ">" | ">=";

/** A small SELECT builder: columns and tables are identifiers, every value a parameter. */
export class Select {
  private readonly conditions: Query[] = [];
  private readonly ordering: string[] = [];
  private limitClause = "";
  private readonly limitParams: SqlValue[] = [];

  constructor(
    private readonly table: string,
    private readonly columns: readonly string[],
  ) {}

  where(column: string, comparison: Comparison, value: SqlValue): this {
    this.conditions.push({ sql: `${identifier(column)} ${comparison} ?`, params: [value] });
    return this;
  }

  whereIn(column: string, values: readonly SqlValue[]): this {
    if (values.length === 0) {
      this.conditions.push({ sql: "0", params: [] });
    } else {
      this.conditions.push({ sql: `${identifier(column)} IN (${values.map(() => "?").join(", ")})`, params: [...values] });
    }
    return this;
  }

  /** Either column equals the value (a team at home or away). */
  whereEither(first: string, second: string, value: SqlValue): this {
    this.conditions.push({ sql: `(${identifier(first)} = ? OR ${identifier(second)} = ?)`, params: [value, value] });
    return this;
  }

  /**
   * A substring match, case-insensitive for ASCII letters as LIKE is, of any length: D1
   * refuses LIKE patterns over 50 bytes, and no character of the text is special.
   */
  whereContains(column: string, text: string): this {
    this.conditions.push({ sql: `instr(lower(${identifier(column)}), ?) > 0`, params: [text.toLowerCase()] });
    return this;
  }

  orderBy(column: string, direction: "ASC" | "DESC" = "ASC"): this {
    this.ordering.push(`${identifier(column)} ${direction}`);
    return this;
  }

  limit(count: number, offset = 0): this {
    this.limitClause = " LIMIT ? OFFSET ?";
    this.limitParams.splice(0, this.limitParams.length, Math.trunc(count), Math.trunc(offset));
    return this;
  }

  toQuery(): Query {
    const where = this.conditions.length ? ` WHERE ${this.conditions.map((c) => c.sql).join(" AND ")}` : "";
    const order = this.ordering.length ? ` ORDER BY ${this.ordering.join(", ")}` : "";
    return {
      sql: `SELECT ${this.columns.map(identifier).join(", ")} FROM ${identifier(this.table)}${where}${order}${this.limitClause}`,
      params: [...this.conditions.flatMap((c) => c.params), ...this.limitParams],
    };
  }
}

export function select(table: string, columns: readonly string[]): Select {
  return new Select(table, columns);
}

export interface UpsertSpec {
  table: string;
  columns: readonly string[];
  key: readonly string[];
  /** Columns that do not count as a change (a write timestamp). */
  ignoreForChanges: readonly string[];
  /** Columns returned for each row that was inserted or actually changed. */
  returning: readonly string[];
}

/**
 * INSERT ... ON CONFLICT DO UPDATE statements for `rows`, split to respect D1's bound
 * parameter limit. A row identical to the stored one (ignoring `ignoreForChanges`) is
 * left alone and not returned, so callers learn exactly which rows changed.
 */
export function upsertStatements(spec: UpsertSpec, rows: readonly Row[]): Query[] {
  const perRow = spec.columns.length;
  const rowsPerStatement = Math.max(1, Math.floor(MAX_BOUND_PARAMETERS / perRow));
  const table = identifier(spec.table);
  const columns = spec.columns.map(identifier).join(", ");
  const updated = spec.columns.filter((c) => !spec.key.includes(c));
  const compared = updated.filter((c) => !spec.ignoreForChanges.includes(c));
  const set = updated.map((c) => `${identifier(c)} = excluded.${identifier(c)}`).join(", ");
  const changed = compared.map((c) => `${table}.${identifier(c)} IS NOT excluded.${identifier(c)}`).join(" OR ");
  const conflict = `ON CONFLICT (${spec.key.map(identifier).join(", ")}) DO UPDATE SET ${set}${changed ? ` WHERE ${changed}` : ""}`;
  const returning = `RETURNING ${spec.returning.map(identifier).join(", ")}`;
  const statements: Query[] = [];
  for (let start = 0; start < rows.length; start += rowsPerStatement) {
    const chunk = rows.slice(start, start + rowsPerStatement);
    const values = chunk.map(() => `(${spec.columns.map(() => "?").join(", ")})`).join(", ");
    statements.push({
      sql: `INSERT INTO ${table} (${columns}) VALUES ${values} ${conflict} ${returning}`,
      params: chunk.flatMap((row) => spec.columns.map((c) => row[c] ?? null)),
    });
  }
  return statements;
}

export class DatabaseManager {
  constructor(private readonly db: D1Database) {}

  private reader(): D1DatabaseSession {
    return this.db.withSession("first-unconstrained");
  }

  async all<T extends Row = Row>(query: Query | Select): Promise<T[]> {
    const { sql, params } = query instanceof Select ? query.toQuery() : query;
    const result = await this.reader().prepare(sql).bind(...params).all<T>();
    return result.results;
  }

  async first<T extends Row = Row>(query: Query | Select): Promise<T | null> {
    const rows = await this.all<T>(query);
    return rows[0] ?? null;
  }

  /** The first row as the primary has it: for a read that must see every committed write. */
  async firstOnPrimary<T extends Row = Row>(query: Query): Promise<T | null> {
    // Outside a session D1 sends every query to the primary.
    const result = await this.db.prepare(query.sql).bind(...query.params).all<T>();
    return result.results[0] ?? null;
  }

  /** Runs the statements in one transaction; returns each statement's returned rows. */
  async transaction(statements: readonly Query[]): Promise<Row[][]> {
    if (statements.length === 0) return [];
    const results = await this.db.batch<Row>(statements.map(({ sql, params }) => this.db.prepare(sql).bind(...params)));
    return results.map((r) => r.results);
  }

  async write(query: Query): Promise<D1Meta> {
    const result = await this.db.prepare(query.sql).bind(...query.params).run();
    return result.meta;
  }
}
