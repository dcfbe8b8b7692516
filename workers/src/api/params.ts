// Query parameters, checked before anything reaches SQL: a value is either valid for
// its field or the request is a 400. Values are bound as parameters in any case.
import { easternDate, isIsoDate, seasonOf } from "../shared/dates";
import { badRequest } from "../shared/respond";

const TEAM = /^[A-Za-z0-9 .&'()-]{1,40}$/;
const IDENTIFIER = /^[A-Za-z0-9:_.-]{1,64}$/;
// A season is written as a year: Number() alone would also read "0x7e9", "2e3" and "+2025".
const YEAR = /^\d{4}$/;
const FIRST_SEASON = 1869;
const LAST_SEASON = 2100;
// SQLite stops reading a pattern or a text at NUL; no parameter has a use for any control character.
const CONTROL = /\p{Cc}/u;
const COUNT = /^\d{1,6}$/;
/** The furthest a list can be paged into. */
export const MAX_OFFSET = 100_000;

export interface Page {
  limit: number;
  offset: number;
}

export class Params {
  readonly today: string;

  constructor(
    private readonly search: URLSearchParams,
    now: number,
  ) {
    this.today = easternDate(now);
  }

  /** The parameter as sent, refused if it holds a control character. */
  private get(name: string): string | null {
    const value = this.search.get(name);
    if (value !== null && CONTROL.test(value)) throw badRequest(`${name} holds a control character`);
    return value;
  }

  date(name: string, fallback: string): string {
    const value = this.get(name) ?? fallback;
    if (!isIsoDate(value)) throw badRequest(`${name} is a date, YYYY-MM-DD`);
    return value;
  }

  season(): number {
    const text = this.get("season");
    const value = text === null ? seasonOf(this.today) : YEAR.test(text) ? Number(text) : NaN;
    if (!Number.isInteger(value) || value < FIRST_SEASON || value > LAST_SEASON) {
      throw badRequest(`season is a year, ${FIRST_SEASON} to ${LAST_SEASON}`);
    }
    return value;
  }

  team(required: boolean): string | null {
    const value = this.get("team");
    if (value === null) {
      if (required) throw badRequest("team is required");
      return null;
    }
    if (!TEAM.test(value)) throw badRequest("team is 1 to 40 letters, digits, spaces or . & ' ( ) -");
    return value;
  }

  identifier(name: string, required: boolean): string | null {
    const value = this.get(name);
    if (value === null) {
      if (required) throw badRequest(`${name} is required`);
      return null;
    }
    if (!IDENTIFIER.test(value)) throw badRequest(`${name} is 1 to 64 letters, digits or : _ . -`);
    return value;
  }

  /** Free text, trimmed, of 1 to `maxLength` characters (code points). */
  text(name: string, maxLength: number): string {
    const value = (this.get(name) ?? "").trim();
    const length = [...value].length;
    if (length === 0 || length > maxLength) throw badRequest(`${name} is 1 to ${maxLength} characters`);
    return value;
  }

  /** `limit` (1 to `maxLimit`, `maxLimit` if absent) and `offset` (0 to MAX_OFFSET, 0 if absent). */
  page(maxLimit: number): Page {
    return { limit: this.count("limit", maxLimit, 1, maxLimit), offset: this.count("offset", 0, 0, MAX_OFFSET) };
  }

  private count(name: string, fallback: number, min: number, max: number): number {
    const text = this.get(name);
    const value = text === null ? fallback : COUNT.test(text) ? Number(text) : NaN;
    if (!(value >= min && value <= max)) throw badRequest(`${name} is a whole number, ${min} to ${max}`);
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
