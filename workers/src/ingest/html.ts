// The tables of an HTML page, read with the Workers runtime's own streaming HTML parser
// (HTMLRewriter) rather than patterns over the markup, so attributes, nesting and
// comments cannot be mistaken for cells. A table's header is its first row made only of
// <th> cells; each later row becomes a record keyed by those headers.
import type { HtmlTable } from "./providers/common";

interface TableInProgress {
  headers: string[] | null;
  records: Record<string, string>[];
  row: RowInProgress | null;
}

interface RowInProgress {
  cells: string[];
  allHeaders: boolean;
}

// HTMLRewriter hands text over as it appears in the markup, character references included.
const NAMED_REFERENCES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", nbsp: " " };

function decodeReferences(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, name: string) => {
    if (name[0] !== "#") return NAMED_REFERENCES[name.toLowerCase()] ?? whole;
    const code = name[1] === "x" || name[1] === "X" ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
    return Number.isFinite(code) && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
  });
}

function cellText(chunks: string[]): string {
  return decodeReferences(chunks.join("")).replace(/\s+/g, " ").trim();
}

export async function htmlTables(html: string): Promise<HtmlTable[]> {
  const finished: HtmlTable[] = [];
  // A stack, so a table nested in a cell neither ends nor feeds its parent.
  const open: TableInProgress[] = [];
  let cell: string[] | null = null;

  const rewriter = new HTMLRewriter()
    .on("table", {
      element(element) {
        const table: TableInProgress = { headers: null, records: [], row: null };
        open.push(table);
        element.onEndTag(() => {
          open.pop();
          finished.push(table.records);
        });
      },
    })
    .on("tr", {
      element(element) {
        const table = open.at(-1);
        if (!table) return;
        const current: RowInProgress = { cells: [], allHeaders: true };
        table.row = current;
        element.onEndTag(() => {
          table.row = null;
          if (current.cells.length === 0) return;
          if (table.headers === null && current.allHeaders) {
            table.headers = current.cells;
          } else if (table.headers !== null) {
            const headers = table.headers;
            table.records.push(Object.fromEntries(headers.map((header, i) => [header, current.cells[i] ?? ""])));
          }
        });
      },
    })
    .on("th, td", {
      element(element) {
        const current = open.at(-1)?.row;
        if (!current) return;
        const chunks: string[] = [];
        cell = chunks;
        if (element.tagName !== "th") current.allHeaders = false;
        element.onEndTag(() => {
          current.cells.push(cellText(chunks));
          cell = null;
        });
      },
      text(chunk) {
        cell?.push(chunk.text);
      },
    });
  await rewriter.transform(new Response(html)).arrayBuffer();
  return finished;
}
