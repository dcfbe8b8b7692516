// SQL text for a dump that `wrangler d1 execute --file` (and D1's import) replays: one
// INSERT per line, values as literals exactly as SQLite reads them back.

export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

const encoder = new TextEncoder();

function blob(bytes: readonly number[]): string {
  return `X'${bytes.map((b) => b.toString(16).padStart(2, "0")).join("")}'`;
}

function literal(value: unknown): string {
  if (value === null || value === undefined) return "NULL";
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new Error(`cannot export the number ${value}`);
    // JavaScript prints the shortest text that reads back as the same double.
    return String(value);
  }
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "string") {
    // Keep every INSERT on one line: text with line breaks goes as its UTF-8 bytes.
    if (/[\r\n]/.test(value)) return `CAST(${blob([...encoder.encode(value)])} AS TEXT)`;
    return `'${value.replace(/'/g, "''")}'`;
  }
  if (value instanceof ArrayBuffer || ArrayBuffer.isView(value) || Array.isArray(value)) {
    const bytes = Array.isArray(value) ? value : [...new Uint8Array(value instanceof ArrayBuffer ? value : value.buffer)];
    return blob(bytes);
  }
  throw new Error(`cannot export a value of type ${typeof value}`);
}

export function insertStatement(table: string, columns: readonly string[], row: Record<string, unknown>): string {
  return `INSERT INTO ${quoteIdentifier(table)} (${columns.map(quoteIdentifier).join(", ")}) VALUES (${columns.map((c) => literal(row[c])).join(", ")});`;
}
