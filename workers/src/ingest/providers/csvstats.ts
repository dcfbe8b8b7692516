// Season statistics published as CSV files: Baseball Savant's expected-statistics
// leaderboard (keyless) and nflverse's season player stats (GitHub release assets,
// keyless). Their player ids are MLBAM and GSIS ids, prefixed so they never collide with
// the other providers' ids in the same table.
import * as z from "zod/mini";
import type { Row } from "../../shared/db";
import { validate, type Feed } from "./common";

const YEAR = z.lazy(() => z.string().check(z.regex(/^\d{4}$/)));
const ID = z.lazy(() => z.string().check(z.regex(/^[A-Za-z0-9-]{1,40}$/)));

const SavantRow = z.lazy(() => z.looseObject({ player_id: ID, year: YEAR, "last_name, first_name": z.string() }));
const NflverseRow = z.lazy(() => z.looseObject({ player_id: ID, season: YEAR, player_display_name: z.string() }));
// The columns the rows above need, which a file without rows must still have.
const SAVANT_COLUMNS = ["player_id", "year", "last_name, first_name"];
const NFLVERSE_COLUMNS = ["player_id", "season", "player_display_name"];

/** The numeric columns of a CSV row, as numbers; everything else is left out. */
function numbers(row: Record<string, string>, skip: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [column, text] of Object.entries(row)) {
    if (skip.includes(column) || text.trim() === "") continue;
    const value = Number(text);
    if (Number.isFinite(value)) out[column] = value;
  }
  return out;
}

export const savant: Record<string, Feed> = {
  statcast: {
    auth: "none",
    requests: (context) => [
      {
        path: `/leaderboard/expected_statistics?type=batter&year=${context.season}&position=&team=&min=q&csv=true`,
        format: "csv",
        columns: SAVANT_COLUMNS,
        parse: (payload) => ({
          player_stats: validate(z.array(SavantRow), payload).map(
            (row): Row => ({
              player_id: `mlbam:${row.player_id}`,
              season: Number(row.year),
              category: "statcast",
              stats: JSON.stringify({ name: row["last_name, first_name"], ...numbers(row as Record<string, string>, ["player_id", "year"]) }),
            }),
          ),
        }),
      },
    ],
  },
};

export const nflverse: Record<string, Feed> = {
  nflverse: {
    auth: "none",
    requests: (context) => [
      {
        path: `/stats_player/stats_player_reg_${context.season}.csv`,
        format: "csv",
        columns: NFLVERSE_COLUMNS,
        parse: (payload) => ({
          player_stats: validate(z.array(NflverseRow), payload).map(
            (row): Row => ({
              player_id: `gsis:${row.player_id}`,
              season: Number(row.season),
              category: "season",
              stats: JSON.stringify({ name: row.player_display_name, ...numbers(row as Record<string, string>, ["player_id", "season"]) }),
            }),
          ),
        }),
      },
    ],
  },
};
