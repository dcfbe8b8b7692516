// Cache tags: the read APIs tag what they cache with these, ingestion invalidates with
// the same functions, so the two can never disagree on a tag's spelling.
//
// A tag is `<family>:<value>`: the family names a kind of view (a sport's games by date,
// its single games, its rosters) and the value which one. A value never holds ':', so a
// tag's family is everything before its last ':'. Invalidating a whole family is how a run
// that changes too many tags stays within KV's operations per invocation (cache.ts).

/** A tag component: lowercase letters, digits, '.', '-', anything else as '_'. */
function part(value: string | number): string {
  return String(value).toLowerCase().replace(/[^a-z0-9.-]+/g, "_");
}

// A sport's tags that have no value of their own (one per sport) take this one.
const ALL = "all";

export const tag = {
  gamesOn: (sport: string, date: string): string => `${part(sport)}:games:${part(date)}`,
  teamGames: (sport: string, team: string): string => `${part(sport)}:games:team:${part(team)}`,
  game: (sport: string, gameId: string): string => `${part(sport)}:game:${part(gameId)}`,
  standings: (sport: string, season: number): string => `${part(sport)}:standings:${season}`,
  ratings: (sport: string, season: number): string => `${part(sport)}:ratings:${season}`,
  roster: (sport: string, team: string): string => `${part(sport)}:roster:${part(team)}`,
  player: (sport: string, playerId: string): string => `${part(sport)}:player:${part(playerId)}`,
  stats: (sport: string, season: number): string => `${part(sport)}:stats:${season}`,
  analytics: (sport: string): string => `${part(sport)}:analytics:${ALL}`,
  odds: (sport: string): string => `odds:${part(sport)}`,
  oddsEvent: (eventId: string): string => `odds:event:${part(eventId)}`,
  teams: (sport: string): string => `teams:${part(sport)}`,
  search: (): string => `search:${ALL}`,
};

/** The family of a tag made by `tag`: every view of the same kind. */
export function familyOf(tagged: string): string {
  return tagged.slice(0, tagged.lastIndexOf(":"));
}
