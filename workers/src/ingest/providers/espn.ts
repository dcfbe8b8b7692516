// ESPN's site API (site.api.espn.com/apis/site/v2/sports/...): the scoreboard, public
// and keyless. Competitors carry home/away, the team's abbreviation and a score string.
import * as z from "zod/mini";
import { addDays, easternDate } from "../../shared/dates";
import type { Row } from "../../shared/db";
import { PayloadError, validate, type Feed } from "./common";

const Competitor = z.object({
  homeAway: z.enum(["home", "away"]),
  team: z.object({ abbreviation: z.string().check(z.minLength(1)) }),
  score: z.optional(z.string()),
});

const Event = z.object({
  id: z.string().check(z.minLength(1)),
  date: z.string().check(z.regex(/^\d{4}-\d{2}-\d{2}T/)),
  season: z.object({ year: z.int() }),
  status: z.object({ type: z.object({ state: z.enum(["pre", "in", "post"]), completed: z.boolean(), name: z.string() }) }),
  competitions: z
    .array(z.object({ venue: z.optional(z.object({ fullName: z.string() })), competitors: z.array(Competitor).check(z.length(2)) }))
    .check(z.minLength(1)),
});
type Event = z.infer<typeof Event>;

const Scoreboard = z.object({ events: z.array(Event) });

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
};
