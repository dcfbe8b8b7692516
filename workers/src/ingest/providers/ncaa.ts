// stats.ncaa.org publishes Division I baseball's RPI only as an HTML page (no API, no
// key): one table with a header row, a row per team. The page is read through its tables
// (HTMLRewriter, ingest/html.ts) and the table is found by its headers, so a change of
// layout around it does not matter, while a page without it rejects the run.
import * as z from "zod/mini";
import { PayloadError, validate, type Feed, type HtmlTable } from "./common";

const RANK = z.lazy(() => z.string().check(z.regex(/^\d{1,4}$/)));
// RPI values are printed without a leading zero (".6123").
const RPI = z.lazy(() => z.string().check(z.regex(/^(0|1)?\.\d+$|^[01]$/)));

const RpiRow = z.lazy(() => z.looseObject({
  Rank: RANK,
  Team: z.string().check(z.minLength(1)),
  RPI,
  Conference: z.optional(z.string()),
  "W-L": z.optional(z.string()),
  SOS: z.optional(z.string()),
}));

const REQUIRED_HEADERS = ["Rank", "Team", "RPI"];

function rpiTable(tables: HtmlTable[]): HtmlTable {
  const table = tables.find((rows) => rows.length > 0 && REQUIRED_HEADERS.every((header) => header in rows[0]!));
  if (!table) throw new PayloadError(`the upstream's HTML has no RPI table (a table with columns ${REQUIRED_HEADERS.join(", ")})`);
  return table;
}

const optional = (value: string | undefined): string | null => (value ? value : null);

export const ncaa: Record<string, Feed> = {
  rpi: {
    auth: "none",
    requests: (context) => [
      {
        path: `/selection_rankings/nitty_gritties?sport_code=MBA&division=1&academic_year=${context.season}`,
        format: "html",
        parse: (payload, { season }) => ({
          team_ratings: validate(z.array(RpiRow), rpiTable(payload as HtmlTable[])).map((row) => ({
            season,
            team: row.Team,
            system: "rpi",
            rating: Number(row.RPI),
            rank: Number(row.Rank),
            details: JSON.stringify({ conference: optional(row["Conference"]), record: optional(row["W-L"]), sos: optional(row["SOS"]) }),
          })),
        }),
      },
    ],
  },
};
