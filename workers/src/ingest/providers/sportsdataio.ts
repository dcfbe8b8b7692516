// SportsDataIO (api.sportsdata.io/v3/<league>): games, standings, stadiums, players,
// injuries and season statistics, authenticated with the Ocp-Apim-Subscription-Key
// header. Only the fields the tables need are read; anything else in the payload is ignored.
import * as z from "zod/mini";
import { easternDate } from "../../shared/dates";
import type { Row } from "../../shared/db";
import { validate, type Feed, type FeedContext } from "./common";

const STATUS: Record<string, string> = {
  Scheduled: "scheduled",
  InProgress: "in_progress",
  Final: "final",
  "F/OT": "final",
  "F/SO": "final",
  Postponed: "postponed",
  Suspended: "postponed",
  Delayed: "postponed",
  Canceled: "canceled",
  Cancelled: "canceled",
  Forfeit: "canceled",
};

const score = z.lazy(() => z.optional(z.nullable(z.int())));
const Game = z.lazy(() => z.object({
  GameID: z.int(),
  Season: z.int(),
  Day: z.string().check(z.regex(/^\d{4}-\d{2}-\d{2}T/)),
  DateTime: z.optional(z.nullable(z.string())),
  Status: z.enum(Object.keys(STATUS) as [string, ...string[]]),
  HomeTeam: z.string().check(z.minLength(1)),
  AwayTeam: z.string().check(z.minLength(1)),
  HomeTeamRuns: score,
  AwayTeamRuns: score,
  HomeScore: score,
  AwayScore: score,
  HomeTeamScore: score,
  AwayTeamScore: score,
  Inning: z.optional(z.nullable(z.int())),
  InningHalf: z.optional(z.nullable(z.string())),
  Quarter: z.optional(z.nullable(z.string())),
  StadiumName: z.optional(z.nullable(z.string())),
}));
type Game = z.infer<typeof Game>;

function gameRow(game: Game): Row {
  const period = game.Inning != null ? `${game.InningHalf ?? ""}${game.Inning}` : (game.Quarter ?? null);
  return {
    game_id: String(game.GameID),
    season: game.Season,
    game_date: game.Day.slice(0, 10),
    start_time: game.DateTime ?? null,
    status: STATUS[game.Status]!,
    home_team: game.HomeTeam,
    away_team: game.AwayTeam,
    home_score: game.HomeTeamRuns ?? game.HomeScore ?? game.HomeTeamScore ?? null,
    away_score: game.AwayTeamRuns ?? game.AwayScore ?? game.AwayTeamScore ?? null,
    period,
    venue: game.StadiumName ?? null,
  };
}

const Standing = z.lazy(() => z.object({
  Season: z.int(),
  Key: z.string().check(z.minLength(1)),
  Conference: z.optional(z.nullable(z.string())),
  Division: z.optional(z.nullable(z.string())),
  Wins: z.int(),
  Losses: z.int(),
  Ties: z.optional(z.nullable(z.int())),
  Percentage: z.optional(z.nullable(z.number())),
  GamesBehind: z.optional(z.nullable(z.number())),
  DivisionRank: z.optional(z.nullable(z.int())),
}));

const Player = z.lazy(() => z.object({
  PlayerID: z.int(),
  Team: z.optional(z.nullable(z.string())),
  FirstName: z.string(),
  LastName: z.string(),
  Position: z.optional(z.nullable(z.string())),
  Jersey: z.optional(z.nullable(z.int())),
  Status: z.optional(z.nullable(z.string())),
  BirthDate: z.optional(z.nullable(z.string())),
}));

const Injury = z.lazy(() => z.object({
  PlayerID: z.int(),
  Team: z.optional(z.nullable(z.string())),
  InjuryStatus: z.string().check(z.minLength(1)),
  InjuryBodyPart: z.optional(z.nullable(z.string())),
  InjuryStartDate: z.optional(z.nullable(z.string())),
}));

const SeasonStats = z.lazy(() => z.looseObject({ PlayerID: z.int(), Season: z.int() }));

const Stadium = z.lazy(() => z.object({
  StadiumID: z.int(),
  Name: z.optional(z.nullable(z.string())),
  GeoLat: z.optional(z.nullable(z.number().check(z.gte(-90), z.lte(90)))),
  GeoLong: z.optional(z.nullable(z.number().check(z.gte(-180), z.lte(180)))),
}));

/** "2025-APR-01", the date format of SportsDataIO's GamesByDate. */
function upstreamDate(context: FeedContext): string {
  const [year, month, day] = easternDate(context.now).split("-");
  const months = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
  return `${year}-${months[Number(month) - 1]}-${day}`;
}

const games = (payload: unknown) => ({ games: validate(z.array(Game), payload).map(gameRow) });

export const sportsdataio: Record<string, Feed> = {
  live: {
    auth: "subscription-key",
    ticker: true,
    requests: (context) => [{ path: `/scores/json/GamesByDate/${upstreamDate(context)}`, parse: games }],
  },
  schedule: {
    auth: "subscription-key",
    requests: (context) => [
      { path: `/scores/json/Games/${context.season}`, parse: games },
      {
        path: `/scores/json/Standings/${context.season}`,
        parse: (payload) => ({
          standings: validate(z.array(Standing), payload).map((s) => ({
            season: s.Season,
            team: s.Key,
            conference: s.Conference ?? null,
            division: s.Division ?? null,
            wins: s.Wins,
            losses: s.Losses,
            ties: s.Ties ?? 0,
            win_pct: s.Percentage ?? null,
            games_back: s.GamesBehind ?? null,
            rank: s.DivisionRank ?? null,
          })),
        }),
      },
      {
        // The coordinates the weather feed needs, by the stadium names games carry;
        // stadiums without a name or a position have nothing to offer it.
        path: "/scores/json/Stadiums",
        parse: (payload) => ({
          venues: validate(z.array(Stadium), payload).flatMap((s) =>
            s.Name && s.GeoLat != null && s.GeoLong != null ? [{ venue: s.Name, latitude: s.GeoLat, longitude: s.GeoLong }] : [],
          ),
        }),
      },
    ],
  },
  rosters: {
    auth: "subscription-key",
    requests: () => [
      {
        path: "/scores/json/Players",
        parse: (payload) => ({
          players: validate(z.array(Player), payload).map((p) => ({
            player_id: String(p.PlayerID),
            team: p.Team ?? null,
            name: `${p.FirstName} ${p.LastName}`.trim(),
            position: p.Position ?? null,
            jersey: p.Jersey == null ? null : String(p.Jersey),
            status: p.Status ?? null,
            birth_date: p.BirthDate ? p.BirthDate.slice(0, 10) : null,
          })),
        }),
      },
    ],
  },
  injuries: {
    auth: "subscription-key",
    requests: () => [
      {
        path: "/projections/json/InjuredPlayers",
        parse: (payload) => ({
          injuries: validate(z.array(Injury), payload).map((i) => ({
            player_id: String(i.PlayerID),
            team: i.Team ?? null,
            status: i.InjuryStatus,
            body_part: i.InjuryBodyPart ?? null,
            reported_at: i.InjuryStartDate ?? null,
          })),
        }),
      },
    ],
  },
  advanced: {
    auth: "subscription-key",
    requests: (context) => [
      {
        path: `/stats/json/PlayerSeasonStats/${context.season}`,
        parse: (payload) => ({
          player_stats: validate(z.array(SeasonStats), payload).map(({ PlayerID, Season, ...rest }) => ({
            player_id: String(PlayerID),
            season: Season,
            category: "advanced",
            stats: JSON.stringify(Object.fromEntries(Object.entries(rest).filter(([, v]) => typeof v === "number"))),
          })),
        }),
      },
    ],
  },
};
