// Every feed an ingestion Worker can run, by the catalog's PROVIDER and FEED vars.
import type { Feed } from "./providers/common";
import { nflverse, savant } from "./providers/csvstats";
import { espn } from "./providers/espn";
import { ncaa } from "./providers/ncaa";
import { oddsApi } from "./providers/oddsapi";
import { openMeteo } from "./providers/openmeteo";
import { cfbd, kenpom } from "./providers/ratings";
import { sportsdataio } from "./providers/sportsdataio";

const FEEDS: Record<string, Record<string, Feed>> = {
  sportsdataio,
  espn,
  "the-odds-api": oddsApi,
  cfbd,
  kenpom,
  savant,
  nflverse,
  "open-meteo": openMeteo,
  ncaa,
};

export function feedFor(provider: string, feed: string): Feed | null {
  return FEEDS[provider]?.[feed] ?? null;
}
