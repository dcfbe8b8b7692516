// Team rating systems: CollegeFootballData's SP+ and recruiting (Bearer key) and KenPom's
// efficiency ratings (Bearer key).
import * as z from "zod/mini";
import { validate, type Feed } from "./common";

const SpPlus = z.lazy(() => z.object({
  year: z.int(),
  team: z.string().check(z.minLength(1)),
  conference: z.optional(z.nullable(z.string())),
  rating: z.number(),
  ranking: z.optional(z.nullable(z.int())),
}));

const Recruit = z.lazy(() => z.object({
  id: z.union([z.string().check(z.minLength(1)), z.int()]),
  name: z.string().check(z.minLength(1)),
  position: z.optional(z.nullable(z.string())),
  committedTo: z.optional(z.nullable(z.string())),
  stars: z.optional(z.nullable(z.int())),
  rating: z.optional(z.nullable(z.number())),
  ranking: z.optional(z.nullable(z.int())),
  year: z.int(),
}));

const KenPomTeam = z.lazy(() => z.looseObject({
  Season: z.int(),
  TeamName: z.string().check(z.minLength(1)),
  AdjEM: z.number(),
  RankAdjEM: z.int(),
  ConfShort: z.optional(z.nullable(z.string())),
}));

export const cfbd: Record<string, Feed> = {
  cfbd: {
    auth: "bearer",
    requests: (context) => [
      {
        path: `/ratings/sp?year=${context.season}`,
        parse: (payload) => ({
          team_ratings: validate(z.array(SpPlus), payload).map((r) => ({
            season: r.year,
            team: r.team,
            system: "sp+",
            rating: r.rating,
            rank: r.ranking ?? null,
            details: JSON.stringify({ conference: r.conference ?? null }),
          })),
        }),
      },
    ],
  },
  recruiting: {
    auth: "bearer",
    requests: (context) => [
      {
        path: `/recruiting/players?year=${context.season}&classification=HighSchool`,
        parse: (payload) => {
          const recruits = validate(z.array(Recruit), payload);
          return {
            players: recruits.map((r) => ({
              player_id: `recruit:${r.id}`,
              team: r.committedTo ?? null,
              name: r.name,
              position: r.position ?? null,
              jersey: null,
              status: "recruit",
              birth_date: null,
            })),
            player_stats: recruits.map((r) => ({
              player_id: `recruit:${r.id}`,
              season: r.year,
              category: "recruiting",
              stats: JSON.stringify({ stars: r.stars ?? null, rating: r.rating ?? null, ranking: r.ranking ?? null }),
            })),
          };
        },
      },
    ],
  },
};

export const kenpom: Record<string, Feed> = {
  kenpom: {
    auth: "bearer",
    requests: (context) => [
      {
        path: `/ratings?y=${context.season}`,
        parse: (payload) => ({
          team_ratings: validate(z.array(KenPomTeam), payload).map(({ Season, TeamName, AdjEM, RankAdjEM, ConfShort, ...rest }) => ({
            season: Season,
            team: TeamName,
            system: "kenpom",
            rating: AdjEM,
            rank: RankAdjEM,
            details: JSON.stringify({ conference: ConfShort ?? null, ...Object.fromEntries(Object.entries(rest).filter(([, v]) => typeof v === "number")) }),
          })),
        }),
      },
    ],
  },
};
