// Open-Meteo's forecast API (api.open-meteo.com/v1/forecast), keyless: the temperature,
// wind and precipitation forecast at each upcoming game's venue for the hour it starts.
// Venues come from the venues table (SportsDataIO's stadiums, by the names games carry);
// a game whose venue has no coordinates there gets no forecast. Several venues go into
// one request as comma-separated coordinates, and Open-Meteo answers a list in the order
// asked (a single object when asked for one).
import * as z from "zod/mini";
import { addDays, instantOf } from "../../shared/dates";
import type { Row } from "../../shared/db";
import { PayloadError, validate, type Feed, type FeedContext, type FeedRequest } from "./common";

/** Today and the two days after it (US Eastern dates, as games.game_date). */
const FORECAST_DAYS = 3;
/** Venues per request, so a URL stays short; a day's MLB slate fits in two. */
const VENUES_PER_REQUEST = 25;
const HOUR_MS = 3_600_000;

const Series = z.lazy(() => z.array(z.nullable(z.number())));
const Location = z.lazy(() => z.object({
  hourly: z.object({
    time: z.array(z.int()),
    temperature_2m: Series,
    wind_speed_10m: Series,
    precipitation: Series,
  }),
}));
type Location = z.infer<typeof Location>;

interface UpcomingGame {
  gameId: string;
  /** The start of the hour the game starts in, epoch ms. */
  hour: number;
}

interface Venue {
  latitude: number;
  longitude: number;
  games: UpcomingGame[];
}

async function upcomingVenues(context: FeedContext): Promise<Venue[]> {
  const rows = await context.db.all<{ game_id: string; start_time: string; latitude: number; longitude: number }>({
    sql: `SELECT g.game_id, g.start_time, v.latitude, v.longitude
          FROM games g JOIN venues v ON v.venue = g.venue
          WHERE g.game_date BETWEEN ? AND ? AND g.status = 'scheduled' AND g.start_time IS NOT NULL
          ORDER BY g.game_id`,
    params: [context.today, addDays(context.today, FORECAST_DAYS - 1)],
  });
  const venues = new Map<string, Venue>();
  for (const row of rows) {
    const start = instantOf(row.start_time);
    if (!Number.isFinite(start)) continue;
    const key = `${row.latitude},${row.longitude}`;
    const venue = venues.get(key) ?? { latitude: row.latitude, longitude: row.longitude, games: [] };
    venue.games.push({ gameId: row.game_id, hour: Math.floor(start / HOUR_MS) * HOUR_MS });
    venues.set(key, venue);
  }
  return [...venues.values()];
}

const utcDate = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

function forecastRequest(venues: Venue[]): FeedRequest {
  const hours = venues.flatMap((v) => v.games.map((g) => g.hour));
  const query = new URLSearchParams({
    latitude: venues.map((v) => v.latitude).join(","),
    longitude: venues.map((v) => v.longitude).join(","),
    hourly: "temperature_2m,wind_speed_10m,precipitation",
    temperature_unit: "celsius",
    wind_speed_unit: "kmh",
    precipitation_unit: "mm",
    timeformat: "unixtime",
    timezone: "GMT",
    start_date: utcDate(Math.min(...hours)),
    end_date: utcDate(Math.max(...hours)),
  });
  return {
    path: `/forecast?${query}`,
    parse: (payload) => {
      // Told apart before validating, so an error names the path inside the list.
      const locations = Array.isArray(payload) ? validate(z.array(Location), payload) : [validate(Location, payload)];
      if (locations.length !== venues.length) {
        throw new PayloadError(`invalid upstream payload: ${locations.length} forecasts for ${venues.length} venues`);
      }
      return { game_weather: venues.flatMap((venue, i) => venue.games.map((game) => weatherRow(game, locations[i]!, i))) };
    },
  };
}

function weatherRow(game: UpcomingGame, location: Location, index: number): Row {
  const { time, temperature_2m, wind_speed_10m, precipitation } = location.hourly;
  if ([temperature_2m, wind_speed_10m, precipitation].some((series) => series.length !== time.length)) {
    throw new PayloadError(`invalid upstream payload at ${index}.hourly: series of different lengths`);
  }
  const at = time.indexOf(game.hour / 1000);
  if (at < 0) throw new PayloadError(`invalid upstream payload at ${index}.hourly: no forecast for game ${game.gameId}'s hour`);
  return {
    game_id: game.gameId,
    temperature_c: temperature_2m[at] ?? null,
    wind_kph: wind_speed_10m[at] ?? null,
    precipitation_mm: precipitation[at] ?? null,
    observed_at: new Date(game.hour).toISOString(),
  };
}

export const openMeteo: Record<string, Feed> = {
  weather: {
    auth: "none",
    requests: async (context) => {
      const venues = await upcomingVenues(context);
      const requests: FeedRequest[] = [];
      for (let start = 0; start < venues.length; start += VENUES_PER_REQUEST) {
        requests.push(forecastRequest(venues.slice(start, start + VENUES_PER_REQUEST)));
      }
      return requests;
    },
  },
};
