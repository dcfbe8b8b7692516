// The tables ingestion writes: their columns, keys, and the cache tags a row touches.
import type { Row, SqlValue } from "../shared/db";
import { tag } from "../shared/tags";

export type TableName =
  | "games"
  | "standings"
  | "team_ratings"
  | "game_weather"
  | "venues"
  | "players"
  | "player_stats"
  | "injuries"
  | "provider_teams"
  | "odds_events"
  | "odds_lines";

/** Normalised rows per table, everything one run writes (without updated_at). */
export type Batch = Partial<Record<TableName, Row[]>>;

export interface TableSpec {
  columns: readonly string[];
  key: readonly string[];
  tags: (row: Row, sport: string, batch: Batch) => string[];
}

const text = (value: SqlValue | undefined): string => String(value ?? "");
const num = (value: SqlValue | undefined): number => Number(value);

export const TABLES: Record<TableName, TableSpec> = {
  games: {
    columns: ["game_id", "season", "game_date", "start_time", "status", "home_team", "away_team", "home_score", "away_score", "period", "venue"],
    key: ["game_id"],
    tags: (r, s) => [
      tag.gamesOn(s, text(r["game_date"])),
      tag.teamGames(s, text(r["home_team"])),
      tag.teamGames(s, text(r["away_team"])),
      tag.game(s, text(r["game_id"])),
    ],
  },
  standings: {
    columns: ["season", "team", "conference", "division", "wins", "losses", "ties", "win_pct", "games_back", "rank"],
    key: ["season", "team"],
    tags: (r, s) => [tag.standings(s, num(r["season"]))],
  },
  team_ratings: {
    columns: ["season", "team", "system", "rating", "rank", "details"],
    key: ["season", "team", "system"],
    tags: (r, s) => [tag.ratings(s, num(r["season"]))],
  },
  game_weather: {
    columns: ["game_id", "temperature_c", "wind_kph", "precipitation_mm", "observed_at"],
    key: ["game_id"],
    tags: (r, s) => [tag.game(s, text(r["game_id"]))],
  },
  // Read by ingestion only (the weather feed), never cached: no tag.
  venues: {
    columns: ["venue", "latitude", "longitude"],
    key: ["venue"],
    tags: () => [],
  },
  players: {
    columns: ["player_id", "team", "name", "position", "jersey", "status", "birth_date"],
    key: ["player_id"],
    tags: (r, s) => [tag.roster(s, text(r["team"])), tag.player(s, text(r["player_id"]))],
  },
  player_stats: {
    columns: ["player_id", "season", "category", "stats"],
    key: ["player_id", "season", "category"],
    tags: (r, s) => [tag.stats(s, num(r["season"])), tag.player(s, text(r["player_id"]))],
  },
  injuries: {
    columns: ["player_id", "team", "status", "body_part", "reported_at"],
    key: ["player_id"],
    tags: (r, s) => [tag.player(s, text(r["player_id"])), tag.roster(s, text(r["team"]))],
  },
  // Read by ingestion only (the roster feed), never cached: no tag.
  provider_teams: {
    columns: ["provider", "provider_team_id", "team", "name"],
    key: ["provider", "provider_team_id"],
    tags: () => [],
  },
  odds_events: {
    columns: ["event_id", "sport", "commence_time", "home_team", "away_team"],
    key: ["event_id"],
    tags: (r) => [tag.odds(text(r["sport"])), tag.oddsEvent(text(r["event_id"]))],
  },
  odds_lines: {
    columns: ["event_id", "bookmaker", "market", "outcome", "price", "point"],
    key: ["event_id", "bookmaker", "market", "outcome"],
    tags: (r, _, batch) => {
      const event = batch.odds_events?.find((e) => e["event_id"] === r["event_id"]);
      return [tag.oddsEvent(text(r["event_id"])), ...(event ? [tag.odds(text(event["sport"]))] : [])];
    },
  },
};
