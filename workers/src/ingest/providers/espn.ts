// ESPN's site API (site.api.espn.com/apis/site/v2/sports/...): the scoreboard and team
// rosters, public and keyless. Competitors carry home/away, the team's abbreviation and a
// score string. Rosters are served per ESPN team id: the roster feed keeps the league's
// team list in provider_teams and covers it over several runs, continuing after the last
// team id of the previous run, so that no run exceeds the subrequest limit.
import * as z from "zod/mini";
import { addDays, easternDate } from "../../shared/dates";
import type { Row } from "../../shared/db";
import { PayloadError, validate, type Feed, type FeedContext, type FeedRequest } from "./common";

const Competitor = z.lazy(() => z.object({
  homeAway: z.enum(["home", "away"]),
  team: z.object({ abbreviation: z.string().check(z.minLength(1)) }),
  score: z.optional(z.string()),
}));

const Event = z.lazy(() => z.object({
  id: z.string().check(z.minLength(1)),
  date: z.string().check(z.regex(/^\d{4}-\d{2}-\d{2}T/)),
  season: z.object({ year: z.int() }),
  status: z.object({ type: z.object({ state: z.enum(["pre", "in", "post"]), completed: z.boolean(), name: z.string() }) }),
  competitions: z
    .array(z.object({ venue: z.optional(z.object({ fullName: z.string() })), competitors: z.array(Competitor).check(z.length(2)) }))
    .check(z.minLength(1)),
}));
type Event = z.infer<typeof Event>;

const Scoreboard = z.lazy(() => z.object({ events: z.array(Event) }));

function status(event: Event): string {
  const { state, completed, name } = event.status.type;
  if (state === "pre") return name.includes("POSTPONED") ? "postponed" : name.includes("CANCELED") ? "canceled" : "scheduled";
  if (state === "in") return "in_progress";
  return completed ? "final" : name.includes("CANCELED") ? "canceled" : "postponed";
}

function gameRow(event: Event): Row {
  const competition = event.competitions[0]!;
  const home = competition.competitors.find((c) => c.homeAway === "home");
  const away = competition.competitors.find((c) => c.homeAway === "away");
  if (!home || !away) throw new PayloadError(`invalid upstream payload at event ${event.id}: needs a home and an away team`);
  const points = (c: z.infer<typeof Competitor>): number | null => (c.score === undefined || event.status.type.state === "pre" ? null : Number(c.score));
  return {
    game_id: event.id,
    season: event.season.year,
    game_date: easternDate(Date.parse(event.date)),
    start_time: event.date,
    status: status(event),
    home_team: home.team.abbreviation,
    away_team: away.team.abbreviation,
    home_score: points(home),
    away_score: points(away),
    period: null,
    venue: competition.venue?.fullName ?? null,
  };
}

// ESPN ids of teams and athletes are numeric strings (ordered as numbers by the roster cursor).
const NumericId = z.lazy(() => z.string().check(z.regex(/^\d{1,12}$/)));
const Teams = z.lazy(() => z.object({
  sports: z
    .array(
      z.object({
        leagues: z
          .array(
            z.object({
              teams: z.array(
                z.object({ team: z.object({ id: NumericId, abbreviation: z.string().check(z.minLength(1)), displayName: z.string().check(z.minLength(1)) }) }),
              ),
            }),
          )
          .check(z.minLength(1)),
      }),
    )
    .check(z.minLength(1)),
}));

const Athlete = z.lazy(() => z.object({
  id: NumericId,
  displayName: z.string().check(z.minLength(1)),
  jersey: z.optional(z.string()),
  position: z.optional(z.object({ abbreviation: z.string() })),
  dateOfBirth: z.optional(z.string()),
  status: z.optional(z.object({ type: z.string() })),
}));
type Athlete = z.infer<typeof Athlete>;
// Some leagues list athletes flat, others grouped by position ("pitchers", "catchers").
const PositionGroup = z.lazy(() => z.object({ position: z.string(), items: z.array(Athlete) }));
const Roster = z.lazy(() => z.object({ athletes: z.array(z.union([Athlete, PositionGroup])) }));

/**
 * Rosters requested per run besides the team list: 41 fetches stay within the Workers
 * Free plan's 50 subrequests per invocation (Paid allows far more), and a daily run
 * covers Division I's ~300 teams in about a week.
 */
const ROSTERS_PER_RUN = 40;

type KnownTeam = { provider_team_id: string; team: string };

/** The next teams after the stored position, starting over once the list is covered. */
async function nextTeams(context: FeedContext): Promise<KnownTeam[]> {
  const teams = await context.db.all<KnownTeam>({
    sql: "SELECT provider_team_id, team FROM provider_teams WHERE provider = ? ORDER BY CAST(provider_team_id AS INTEGER)",
    params: ["espn"],
  });
  const after = context.position === null ? -1 : Number(context.position);
  const remaining = teams.filter((t) => Number(t.provider_team_id) > after);
  return (remaining.length > 0 ? remaining : teams).slice(0, ROSTERS_PER_RUN);
}

const teamList: FeedRequest = {
  path: "/teams?limit=1000",
  parse: (payload) => ({
    provider_teams: validate(Teams, payload).sports.flatMap((sport) =>
      sport.leagues.flatMap((league) =>
        league.teams.map(({ team }) => ({ provider: "espn", provider_team_id: team.id, team: team.abbreviation, name: team.displayName })),
      ),
    ),
  }),
};

function playerRow(athlete: Athlete, team: string): Row {
  return {
    player_id: `espn:${athlete.id}`,
    team,
    name: athlete.displayName,
    position: athlete.position?.abbreviation ?? null,
    jersey: athlete.jersey ?? null,
    status: athlete.status?.type ?? null,
    birth_date: athlete.dateOfBirth ? athlete.dateOfBirth.slice(0, 10) : null,
  };
}

function rosterRequest(known: KnownTeam): FeedRequest {
  return {
    path: `/teams/${known.provider_team_id}/roster`,
    position: known.provider_team_id,
    parse: (payload) => ({
      players: validate(Roster, payload).athletes.flatMap((entry) =>
        "items" in entry ? entry.items.map((a) => playerRow(a, known.team)) : [playerRow(entry, known.team)],
      ),
    }),
  };
}

const compact = (date: string): string => date.replaceAll("-", "");
const scoreboard = (payload: unknown) => ({ games: validate(Scoreboard, payload).events.map(gameRow) });

export const espn: Record<string, Feed> = {
  live: {
    auth: "none",
    ticker: true,
    requests: (context) => [{ path: `/scoreboard?dates=${compact(context.today)}`, parse: scoreboard }],
  },
  schedule: {
    auth: "none",
    requests: (context) => [{ path: `/scoreboard?dates=${compact(context.today)}-${compact(addDays(context.today, 7))}`, parse: scoreboard }],
  },
  rosters: {
    auth: "none",
    // The team list is asked for on every run (usually a 304 by ETag); the rosters of
    // teams it adds are fetched from the next run on.
    requests: async (context) => [teamList, ...(await nextTeams(context)).map(rosterRequest)],
  },
};
