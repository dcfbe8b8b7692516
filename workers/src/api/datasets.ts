// What each read API serves: for a request, the cache key, the kind of data (which sets
// its freshness), the tags that ingestion invalidates, and the query that loads it.
//
// A cache key is the list of everything the answer depends on: the sport, the dataset,
// which of its views (one item by id, or a list), every parameter of that view and the
// page. The cache manager encodes the parts one to one, so two requests share an entry
// only when they ask for the same thing.
import type { CacheKind } from "../shared/cache";
import { addDays, daysBetween } from "../shared/dates";
import { DatabaseManager, select, type Row, type Select } from "../shared/db";
import { badRequest, notFound } from "../shared/respond";
import { tag } from "../shared/tags";
import type { ApiEnv } from "./env";
import { Params, pathIdentifier, type Page } from "./params";

export interface ApiRequest {
  sport: string;
  /** The path segment after the dataset, if any (a game, player, event or team id). */
  id: string | null;
  params: Params;
  env: ApiEnv;
}

/** A page of a list: where it starts, how long it may be, and whether rows were left out. */
export interface PageInfo {
  limit: number;
  offset: number;
  returned: number;
  truncated: boolean;
  /** The offset of the next page when this one was cut, else null. */
  nextOffset: number | null;
}

export interface Answer {
  data: unknown;
  page?: PageInfo;
}

export interface Plan {
  key: string[];
  kind: CacheKind;
  tags: string[];
  load: (db: DatabaseManager) => Promise<Answer>;
}

type Dataset = (request: ApiRequest) => Plan;

const GAME_COLUMNS = ["game_id", "season", "game_date", "start_time", "status", "home_team", "away_team", "home_score", "away_score", "period", "venue"];
const MAX_SCHEDULE_DAYS = 31;
/** The longest page of a list, and of the two lists whose rows are bigger or costlier. */
export const MAX_PAGE = 500;
export const MAX_ODDS_PAGE = 100;
export const MAX_SEARCH_PAGE = 50;

/** Past dates never change again (history); today is live; the future is schedule. */
function kindOfDate(date: string, today: string): CacheKind {
  if (date < today) return "history";
  return date === today ? "live" : "schedule";
}

function kindOfSeason(season: number, today: string): CacheKind {
  return season < Number(today.slice(0, 4)) ? "history" : "roster";
}

async function one(rows: Promise<Row[]>, what: string): Promise<Answer> {
  const [row] = await rows;
  if (!row) throw notFound(`no such ${what}`);
  return { data: row };
}

const pageKey = (page: Page): string[] => [String(page.limit), String(page.offset)];

/**
 * One page of `query`, whose order must be total (it ends on a unique key): one row more
 * than the page is read, to tell whether the list goes on.
 */
async function paged(db: DatabaseManager, query: Select, page: Page, shape: (rows: Row[]) => unknown[] = (rows) => rows): Promise<Answer> {
  const rows = await db.all(query.limit(page.limit + 1, page.offset));
  const truncated = rows.length > page.limit;
  const kept = rows.slice(0, page.limit);
  return {
    data: shape(kept),
    page: { limit: page.limit, offset: page.offset, returned: kept.length, truncated, nextOffset: truncated ? page.offset + page.limit : null },
  };
}

const scores: Dataset = ({ sport, id, params }) => {
  if (id !== null) {
    const gameId = pathIdentifier(id);
    return {
      key: [sport, "scores", "game", gameId],
      kind: "live",
      tags: [tag.game(sport, gameId)],
      load: (db) => one(db.all(select("games", GAME_COLUMNS).where("game_id", "=", gameId)), "game"),
    };
  }
  const date = params.date("date", params.today);
  const page = params.page(MAX_PAGE);
  return {
    key: [sport, "scores", "date", date, ...pageKey(page)],
    kind: kindOfDate(date, params.today),
    tags: [tag.gamesOn(sport, date)],
    load: (db) => paged(db, select("games", GAME_COLUMNS).where("game_date", "=", date).orderBy("start_time").orderBy("game_id"), page),
  };
};

const schedule: Dataset = ({ sport, params }) => {
  const from = params.date("from", params.today);
  const to = params.date("to", addDays(from, 7));
  const span = daysBetween(from, to);
  if (span < 0 || span > MAX_SCHEDULE_DAYS) throw badRequest(`to is on or after from, at most ${MAX_SCHEDULE_DAYS} days later`);
  const team = params.team(false);
  const page = params.page(MAX_PAGE);
  const query = select("games", GAME_COLUMNS).where("game_date", ">=", from).where("game_date", "<=", to);
  if (team !== null) query.whereEither("home_team", "away_team", team);
  query.orderBy("game_date").orderBy("start_time").orderBy("game_id");
  const dates = Array.from({ length: span + 1 }, (_, i) => addDays(from, i));
  return {
    key: [sport, "schedule", team === null ? "all" : "team", team ?? "", from, to, ...pageKey(page)],
    kind: to < params.today ? "history" : "schedule",
    tags: team !== null ? [tag.teamGames(sport, team)] : dates.map((d) => tag.gamesOn(sport, d)),
    load: (db) => paged(db, query, page),
  };
};

const withDetails = (rows: Row[]): Row[] => rows.map((r) => ({ ...r, details: JSON.parse(String(r["details"])) }));

const standings: Dataset = ({ sport, id, params }) => {
  const season = params.season();
  const kind = kindOfSeason(season, params.today) === "history" ? "history" : "standings";
  const page = params.page(MAX_PAGE);
  if (id === "ratings") {
    const system = params.identifier("system", false);
    const query = select("team_ratings", ["season", "team", "system", "rating", "rank", "details"]).where("season", "=", season);
    if (system !== null) query.where("system", "=", system);
    query.orderBy("system").orderBy("rank").orderBy("team");
    return {
      key: [sport, "standings", "ratings", String(season), system === null ? "all" : "system", system ?? "", ...pageKey(page)],
      kind,
      tags: [tag.ratings(sport, season)],
      load: (db) => paged(db, query, page, withDetails),
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
    key: [sport, "standings", "season", String(season), ...pageKey(page)],
    kind,
    tags: [tag.standings(sport, season)],
    load: (db) => paged(db, query, page),
  };
};

const PLAYER_COLUMNS = ["player_id", "team", "name", "position", "jersey", "status", "birth_date"];

const players: Dataset = ({ sport, id, params }) => {
  if (id !== null) {
    const playerId = pathIdentifier(id);
    return {
      key: [sport, "players", "player", playerId],
      kind: "roster",
      tags: [tag.player(sport, playerId)],
      load: async (db) => {
        const { data: player } = await one(db.all(select("players", PLAYER_COLUMNS).where("player_id", "=", playerId)), "player");
        const injury = await db.first(select("injuries", ["status", "body_part", "reported_at"]).where("player_id", "=", playerId));
        return { data: { ...(player as Row), injury } };
      },
    };
  }
  const team = params.team(true)!;
  const page = params.page(MAX_PAGE);
  return {
    key: [sport, "players", "team", team, ...pageKey(page)],
    kind: "roster",
    tags: [tag.roster(sport, team)],
    load: (db) => paged(db, select("players", PLAYER_COLUMNS).where("team", "=", team).orderBy("name").orderBy("player_id"), page),
  };
};

const withStats = (rows: Row[]): Row[] => rows.map((r) => ({ ...r, stats: JSON.parse(String(r["stats"])) }));

const stats: Dataset = ({ sport, id, params }) => {
  const season = params.season();
  const kind = kindOfSeason(season, params.today);
  if (id !== null) {
    const playerId = pathIdentifier(id);
    return {
      key: [sport, "stats", "player", playerId, String(season)],
      kind,
      tags: [tag.player(sport, playerId)],
      load: async (db) => ({
        data: withStats(await db.all(select("player_stats", ["player_id", "season", "category", "stats"]).where("player_id", "=", playerId).where("season", "=", season).orderBy("category"))),
      }),
    };
  }
  const category = params.identifier("category", false) ?? "season";
  const page = params.page(MAX_PAGE);
  return {
    key: [sport, "stats", "category", String(season), category, ...pageKey(page)],
    kind,
    tags: [tag.stats(sport, season)],
    load: (db) => paged(db, select("player_stats", ["player_id", "season", "category", "stats"]).where("season", "=", season).where("category", "=", category).orderBy("player_id"), page, withStats),
  };
};

const analytics: Dataset = ({ sport, id, params }) => {
  const page = params.page(MAX_PAGE);
  if (id === "projections") {
    const date = params.date("date", params.today);
    return {
      key: [sport, "analytics", "projections", date, ...pageKey(page)],
      kind: "analytics",
      tags: [tag.analytics(sport)],
      load: (db) =>
        paged(db, select("game_projections", ["game_id", "game_date", "home_win_probability", "projected_home_score", "projected_away_score"]).where("sport", "=", sport).where("game_date", "=", date).orderBy("game_id"), page),
    };
  }
  if (id !== null) throw notFound();
  const season = params.season();
  return {
    key: [sport, "analytics", "ratings", String(season), ...pageKey(page)],
    kind: "analytics",
    tags: [tag.analytics(sport)],
    load: (db) => paged(db, select("team_ratings", ["season", "team", "rating", "rank"]).where("sport", "=", sport).where("season", "=", season).orderBy("rank").orderBy("team"), page),
  };
};

const EVENT_COLUMNS = ["event_id", "sport", "commence_time", "home_team", "away_team"];

/** The events with their lines, grouped under each event. */
function withLines(events: Row[], lines: Row[]): Record<string, unknown>[] {
  return events.map((e) => ({ ...e, lines: lines.filter((l) => l["event_id"] === e["event_id"]).map(({ event_id: _, ...line }) => line) }));
}

const odds: Dataset = ({ sport: api, id, params }) => {
  if (id !== null) {
    const eventId = pathIdentifier(id);
    return {
      key: [api, "odds", "event", eventId],
      kind: "odds",
      tags: [tag.oddsEvent(eventId)],
      load: async (db) => {
        const { data: event } = await one(db.all(select("odds_events", EVENT_COLUMNS).where("event_id", "=", eventId)), "event");
        const lines = await db.all(select("odds_lines", ["event_id", "bookmaker", "market", "outcome", "price", "point"]).where("event_id", "=", eventId).orderBy("bookmaker").orderBy("market").orderBy("outcome"));
        return { data: withLines([event as Row], lines)[0] };
      },
    };
  }
  const sport = params.identifier("sport", true)!;
  const page = params.page(MAX_ODDS_PAGE);
  return {
    key: [api, "odds", "sport", sport, params.today, ...pageKey(page)],
    kind: "odds",
    tags: [tag.odds(sport)],
    load: async (db) => {
      const events = await paged(db, select("odds_events", EVENT_COLUMNS).where("sport", "=", sport).where("commence_time", ">=", params.today).orderBy("commence_time").orderBy("event_id"), page);
      // The page's lines in one query of fixed size: one bound parameter per event would
      // pass D1's 100 on a busy day.
      const lines = await db.all({
        sql: `SELECT event_id, bookmaker, market, outcome, price, point FROM odds_lines
              WHERE event_id IN (SELECT event_id FROM odds_events WHERE sport = ? AND commence_time >= ?
                                 ORDER BY commence_time, event_id LIMIT ? OFFSET ?)
              ORDER BY event_id, bookmaker, market, outcome`,
        params: [sport, params.today, page.limit, page.offset],
      });
      return { ...events, data: withLines(events.data as Row[], lines) };
    },
  };
};

const search: Dataset = ({ sport: api, params, env }) => {
  const q = params.text("q", 100).toLowerCase();
  const sport = params.identifier("sport", false);
  const page = params.page(MAX_SEARCH_PAGE);
  return {
    key: [api, "search", q, sport === null ? "all" : "sport", sport ?? "", ...pageKey(page)],
    kind: "search",
    tags: [tag.search()],
    load: async (db) => {
      const expanded = (await env.SYNONYMS?.get(`synonym:${q}`)) ?? q;
      const query = select("search_documents", ["doc_id", "sport", "kind", "title", "url"]).whereContains("search_text", expanded);
      if (sport !== null) query.where("sport", "=", sport);
      return paged(db, query.orderBy("title").orderBy("doc_id"), page);
    },
  };
};

const teams: Dataset = ({ sport: api, id, params }) => {
  const columns = ["team_id", "sport", "abbreviation", "name", "city", "conference", "division", "venue"];
  if (id !== null) {
    const teamId = pathIdentifier(id);
    return {
      key: [api, "teams", "team", teamId],
      kind: "history",
      tags: [tag.teams(teamId.split(":")[0] ?? "")],
      load: (db) => one(db.all(select("teams", columns).where("team_id", "=", teamId)), "team"),
    };
  }
  const sport = params.identifier("sport", true)!;
  const page = params.page(MAX_PAGE);
  return {
    key: [api, "teams", "sport", sport, ...pageKey(page)],
    kind: "history",
    tags: [tag.teams(sport)],
    load: (db) => paged(db, select("teams", columns).where("sport", "=", sport).orderBy("name").orderBy("team_id"), page),
  };
};

export const DATASETS: Record<string, Dataset> = { scores, schedule, standings, players, stats, analytics, odds, search, teams };
