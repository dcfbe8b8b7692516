// What each read API serves: for a request, the cache key, the kind of data (which sets
// its freshness), the tags that ingestion invalidates, and the query that loads it.
import type { CacheKind } from "../shared/cache";
import { addDays, daysBetween } from "../shared/dates";
import { DatabaseManager, select, type Row } from "../shared/db";
import { badRequest, notFound } from "../shared/respond";
import { tag } from "../shared/tags";
import type { ApiEnv } from "./env";
import { Params, pathIdentifier } from "./params";

export interface ApiRequest {
  sport: string;
  /** The path segment after the dataset, if any (a game, player, event or team id). */
  id: string | null;
  params: Params;
  env: ApiEnv;
}

export interface Plan {
  key: string;
  kind: CacheKind;
  tags: string[];
  load: (db: DatabaseManager) => Promise<unknown>;
}

type Dataset = (request: ApiRequest) => Plan;

const GAME_COLUMNS = ["game_id", "season", "game_date", "start_time", "status", "home_team", "away_team", "home_score", "away_score", "period", "venue"];
const MAX_SCHEDULE_DAYS = 31;
const PAGE = 500;

/** Past dates never change again (history); today is live; the future is schedule. */
function kindOfDate(date: string, today: string): CacheKind {
  if (date < today) return "history";
  return date === today ? "live" : "schedule";
}

function kindOfSeason(season: number, today: string): CacheKind {
  return season < Number(today.slice(0, 4)) ? "history" : "roster";
}

async function one(rows: Promise<Row[]>, what: string): Promise<Row> {
  const [row] = await rows;
  if (!row) throw notFound(`no such ${what}`);
  return row;
}

const scores: Dataset = ({ sport, id, params }) => {
  if (id !== null) {
    const gameId = pathIdentifier(id);
    return {
      key: `${sport}:game:${gameId}`,
      kind: "live",
      tags: [tag.game(sport, gameId)],
      load: (db) => one(db.all(select("games", GAME_COLUMNS).where("game_id", "=", gameId)), "game"),
    };
  }
  const date = params.date("date", params.today);
  return {
    key: `${sport}:scores:${date}`,
    kind: kindOfDate(date, params.today),
    tags: [tag.gamesOn(sport, date)],
    load: (db) => db.all(select("games", GAME_COLUMNS).where("game_date", "=", date).orderBy("start_time").orderBy("game_id")),
  };
};

const schedule: Dataset = ({ sport, params }) => {
  const from = params.date("from", params.today);
  const to = params.date("to", addDays(from, 7));
  const span = daysBetween(from, to);
  if (span < 0 || span > MAX_SCHEDULE_DAYS) throw badRequest(`to is on or after from, at most ${MAX_SCHEDULE_DAYS} days later`);
  const team = params.team(false);
  const query = select("games", GAME_COLUMNS).where("game_date", ">=", from).where("game_date", "<=", to);
  if (team !== null) query.whereEither("home_team", "away_team", team);
  query.orderBy("game_date").orderBy("start_time").orderBy("game_id");
  const dates = Array.from({ length: span + 1 }, (_, i) => addDays(from, i));
  return {
    key: `${sport}:schedule:${team ?? "*"}:${from}:${to}`,
    kind: to < params.today ? "history" : "schedule",
    tags: team !== null ? [tag.teamGames(sport, team)] : dates.map((d) => tag.gamesOn(sport, d)),
    load: (db) => db.all(query),
  };
};

const standings: Dataset = ({ sport, id, params }) => {
  const season = params.season();
  if (id === "ratings") {
    const system = params.identifier("system", false);
    const query = select("team_ratings", ["season", "team", "system", "rating", "rank", "details"]).where("season", "=", season);
    if (system !== null) query.where("system", "=", system);
    query.orderBy("system").orderBy("rank").orderBy("team");
    return {
      key: `${sport}:ratings:${season}:${system ?? "*"}`,
      kind: kindOfSeason(season, params.today) === "history" ? "history" : "standings",
      tags: [tag.ratings(sport, season)],
      load: async (db) => (await db.all(query)).map((r) => ({ ...r, details: JSON.parse(String(r["details"])) })),
    };
  }
  if (id !== null) throw notFound();
  const query = select("standings", ["season", "team", "conference", "division", "wins", "losses", "ties", "win_pct", "games_back", "rank"])
    .where("season", "=", season)
    .orderBy("conference")
    .orderBy("division")
    .orderBy("rank")
    .orderBy("team");
  return {
    key: `${sport}:standings:${season}`,
    kind: kindOfSeason(season, params.today) === "history" ? "history" : "standings",
    tags: [tag.standings(sport, season)],
    load: (db) => db.all(query),
  };
};

const PLAYER_COLUMNS = ["player_id", "team", "name", "position", "jersey", "status", "birth_date"];

const players: Dataset = ({ sport, id, params }) => {
  if (id !== null) {
    const playerId = pathIdentifier(id);
    return {
      key: `${sport}:player:${playerId}`,
      kind: "roster",
      tags: [tag.player(sport, playerId)],
      load: async (db) => {
        const player = await one(db.all(select("players", PLAYER_COLUMNS).where("player_id", "=", playerId)), "player");
        const injury = await db.first(select("injuries", ["status", "body_part", "reported_at"]).where("player_id", "=", playerId));
        return { ...player, injury };
      },
    };
  }
  const team = params.team(true)!;
  return {
    key: `${sport}:roster:${team}`,
    kind: "roster",
    tags: [tag.roster(sport, team)],
    load: (db) => db.all(select("players", PLAYER_COLUMNS).where("team", "=", team).orderBy("name").limit(PAGE)),
  };
};

const stats: Dataset = ({ sport, id, params }) => {
  const season = params.season();
  const kind = kindOfSeason(season, params.today);
  const parse = (rows: Row[]): Row[] => rows.map((r) => ({ ...r, stats: JSON.parse(String(r["stats"])) }));
  if (id !== null) {
    const playerId = pathIdentifier(id);
    return {
      key: `${sport}:stats:${season}:player:${playerId}`,
      kind,
      tags: [tag.player(sport, playerId)],
      load: async (db) =>
        parse(await db.all(select("player_stats", ["player_id", "season", "category", "stats"]).where("player_id", "=", playerId).where("season", "=", season).orderBy("category"))),
    };
  }
  const category = params.identifier("category", false) ?? "season";
  return {
    key: `${sport}:stats:${season}:${category}`,
    kind,
    tags: [tag.stats(sport, season)],
    load: async (db) =>
      parse(await db.all(select("player_stats", ["player_id", "season", "category", "stats"]).where("season", "=", season).where("category", "=", category).orderBy("player_id").limit(PAGE))),
  };
};

const analytics: Dataset = ({ sport, id, params }) => {
  if (id === "projections") {
    const date = params.date("date", params.today);
    return {
      key: `${sport}:projections:${date}`,
      kind: "analytics",
      tags: [tag.analytics(sport)],
      load: (db) =>
        db.all(select("game_projections", ["game_id", "game_date", "home_win_probability", "projected_home_score", "projected_away_score"]).where("sport", "=", sport).where("game_date", "=", date).orderBy("game_id")),
    };
  }
  if (id !== null) throw notFound();
  const season = params.season();
  return {
    key: `${sport}:ratings:${season}`,
    kind: "analytics",
    tags: [tag.analytics(sport)],
    load: (db) => db.all(select("team_ratings", ["season", "team", "rating", "rank"]).where("sport", "=", sport).where("season", "=", season).orderBy("rank").orderBy("team")),
  };
};

const odds: Dataset = ({ id, params }) => {
  const lines = async (db: DatabaseManager, events: Row[]): Promise<Record<string, unknown>[]> => {
    const found = await db.all(select("odds_lines", ["event_id", "bookmaker", "market", "outcome", "price", "point"]).whereIn("event_id", events.map((e) => e["event_id"] ?? null)).orderBy("event_id").orderBy("bookmaker").orderBy("market").orderBy("outcome"));
    return events.map((e) => ({ ...e, lines: found.filter((l) => l["event_id"] === e["event_id"]).map(({ event_id: _, ...line }) => line) }));
  };
  const eventColumns = ["event_id", "sport", "commence_time", "home_team", "away_team"];
  if (id !== null) {
    const eventId = pathIdentifier(id);
    return {
      key: `odds:event:${eventId}`,
      kind: "odds",
      tags: [tag.oddsEvent(eventId)],
      load: async (db) => (await lines(db, [await one(db.all(select("odds_events", eventColumns).where("event_id", "=", eventId)), "event")]))[0],
    };
  }
  const sport = params.identifier("sport", true)!;
  return {
    key: `odds:${sport}`,
    kind: "odds",
    tags: [tag.odds(sport)],
    load: async (db) => lines(db, await db.all(select("odds_events", eventColumns).where("sport", "=", sport).where("commence_time", ">=", params.today).orderBy("commence_time").limit(200))),
  };
};

const search: Dataset = ({ params, env }) => {
  const q = params.text("q", 100).toLowerCase();
  const sport = params.identifier("sport", false);
  return {
    key: `search:${sport ?? "*"}:${q}`,
    kind: "search",
    tags: [tag.search()],
    load: async (db) => {
      const expanded = (await env.SYNONYMS?.get(`synonym:${q}`)) ?? q;
      const query = select("search_documents", ["doc_id", "sport", "kind", "title", "url"]).whereContains("search_text", expanded);
      if (sport !== null) query.where("sport", "=", sport);
      return db.all(query.orderBy("title").limit(50));
    },
  };
};

const teams: Dataset = ({ id, params }) => {
  const columns = ["team_id", "sport", "abbreviation", "name", "city", "conference", "division", "venue"];
  if (id !== null) {
    const teamId = pathIdentifier(id);
    return {
      key: `teams:team:${teamId}`,
      kind: "history",
      tags: [tag.teams(teamId.split(":")[0] ?? "")],
      load: (db) => one(db.all(select("teams", columns).where("team_id", "=", teamId)), "team"),
    };
  }
  const sport = params.identifier("sport", true)!;
  return {
    key: `teams:${sport}`,
    kind: "history",
    tags: [tag.teams(sport)],
    load: (db) => db.all(select("teams", columns).where("sport", "=", sport).orderBy("name")),
  };
};

export const DATASETS: Record<string, Dataset> = { scores, schedule, standings, players, stats, analytics, odds, search, teams };
