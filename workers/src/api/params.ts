// Query parameters, checked before anything reaches SQL: a value is either valid for
// its field or the request is a 400. Values are bound as parameters in any case.
import { easternDate, isIsoDate, seasonOf } from "../shared/dates";
import { badRequest } from "../shared/respond";

const TEAM = /^[A-Za-z0-9 .&'()-]{1,40}$/;
const IDENTIFIER = /^[A-Za-z0-9:_.-]{1,64}$/;
const FIRST_SEASON = 1869;
const LAST_SEASON = 2100;

export class Params {
  readonly today: string;

  constructor(
    private readonly search: URLSearchParams,
    now: number,
  ) {
    this.today = easternDate(now);
  }

  date(name: string, fallback: string): string {
    const value = this.search.get(name) ?? fallback;
    if (!isIsoDate(value)) throw badRequest(`${name} is a date, YYYY-MM-DD`);
    return value;
  }

  season(): number {
    const text = this.search.get("season");
    const value = text === null ? seasonOf(this.today) : Number(text);
    if (!Number.isInteger(value) || value < FIRST_SEASON || value > LAST_SEASON) {
      throw badRequest(`season is a year, ${FIRST_SEASON} to ${LAST_SEASON}`);
    }
    return value;
  }

  team(required: boolean): string | null {
    const value = this.search.get("team");
    if (value === null) {
      if (required) throw badRequest("team is required");
      return null;
    }
    if (!TEAM.test(value)) throw badRequest("team is 1 to 40 letters, digits, spaces or . & ' ( ) -");
    return value;
  }

  word(name: string, allowed: readonly string[], fallback: string): string {
    const value = this.search.get(name) ?? fallback;
    if (!allowed.includes(value)) throw badRequest(`${name} is one of ${allowed.join(", ")}`);
    return value;
  }

  identifier(name: string, required: boolean): string | null {
    const value = this.search.get(name);
    if (value === null) {
      if (required) throw badRequest(`${name} is required`);
      return null;
    }
    if (!IDENTIFIER.test(value)) throw badRequest(`${name} is 1 to 64 letters, digits or : _ . -`);
    return value;
  }

  text(name: string, maxLength: number): string {
    const value = (this.search.get(name) ?? "").trim();
    if (value.length === 0 || value.length > maxLength) throw badRequest(`${name} is 1 to ${maxLength} characters`);
    return value;
  }
}

/** A path identifier (a game, player, event or team id), or a 400. */
export function pathIdentifier(value: string): string {
  let decoded: string;
  try {
    decoded = decodeURIComponent(value);
  } catch {
    throw badRequest("the id is not valid percent-encoding");
  }
  if (!IDENTIFIER.test(decoded)) throw badRequest("the id is 1 to 64 letters, digits or : _ . -");
  return decoded;
}
