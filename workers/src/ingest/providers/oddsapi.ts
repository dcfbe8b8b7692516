// The Odds API (api.the-odds-api.com/v4): upcoming events of every sport with each
// bookmaker's head-to-head, spread and total lines in decimal odds.
import * as z from "zod/mini";
import type { Row } from "../../shared/db";
import { validate, type Feed } from "./common";

// The provider's sport keys for the fleet's sports; others keep their own key.
const SPORTS: Record<string, string> = {
  baseball_mlb: "mlb",
  americanfootball_nfl: "nfl",
  basketball_nba: "nba",
  americanfootball_ncaaf: "ncaaf",
  basketball_ncaab: "ncaab",
  baseball_ncaa: "cbase",
};

const Outcome = z.lazy(() => z.object({ name: z.string().check(z.minLength(1)), price: z.number(), point: z.optional(z.number()) }));
const Event = z.lazy(() => z.object({
  id: z.string().check(z.minLength(1)),
  sport_key: z.string().check(z.minLength(1)),
  commence_time: z.string().check(z.minLength(1)),
  home_team: z.string().check(z.minLength(1)),
  away_team: z.string().check(z.minLength(1)),
  bookmakers: z.array(z.object({ key: z.string().check(z.minLength(1)), markets: z.array(z.object({ key: z.string().check(z.minLength(1)), outcomes: z.array(Outcome) })) })),
}));

export const oddsApi: Record<string, Feed> = {
  odds: {
    auth: "api-key-query",
    requests: () => [
      {
        path: "/sports/upcoming/odds?regions=us&markets=h2h,spreads,totals&oddsFormat=decimal",
        parse: (payload) => {
          const events = validate(z.array(Event), payload);
          const lines: Row[] = events.flatMap((e) =>
            e.bookmakers.flatMap((b) =>
              b.markets.flatMap((m) =>
                m.outcomes.map((o) => ({ event_id: e.id, bookmaker: b.key, market: m.key, outcome: o.name, price: o.price, point: o.point ?? null })),
              ),
            ),
          );
          return {
            odds_events: events.map((e) => ({
              event_id: e.id,
              sport: SPORTS[e.sport_key] ?? e.sport_key,
              commence_time: e.commence_time,
              home_team: e.home_team,
              away_team: e.away_team,
            })),
            odds_lines: lines,
          };
        },
      },
    ],
  },
};
