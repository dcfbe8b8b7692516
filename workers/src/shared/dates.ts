// Calendar dates as the leagues use them: a game's date is its date in US Eastern time,
// so a 10 pm Pacific game belongs to the day it started on the East Coast.

const EASTERN = new Intl.DateTimeFormat("en-CA", { timeZone: "America/New_York", year: "numeric", month: "2-digit", day: "2-digit" });
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

export function easternDate(ms: number): string {
  return EASTERN.format(new Date(ms));
}

export function isIsoDate(value: string): boolean {
  const match = ISO_DATE.exec(value);
  if (!match) return false;
  const date = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().startsWith(value);
}

export function addDays(date: string, days: number): string {
  const moved = new Date(`${date}T00:00:00Z`);
  moved.setUTCDate(moved.getUTCDate() + days);
  return moved.toISOString().slice(0, 10);
}

export function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);
}

/** The season a date belongs to, by calendar year of the date. */
export function seasonOf(date: string): number {
  return Number(date.slice(0, 4));
}

const EASTERN_PARTS = new Intl.DateTimeFormat("en-US", {
  timeZone: "America/New_York",
  hourCycle: "h23",
  year: "numeric",
  month: "2-digit",
  day: "2-digit",
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
});

/** How far US Eastern wall-clock time is ahead of UTC at `ms` (negative: behind). */
function easternOffsetMs(ms: number): number {
  const part = Object.fromEntries(EASTERN_PARTS.formatToParts(new Date(ms)).map((p) => [p.type, Number(p.value)]));
  const wall = Date.UTC(part["year"]!, part["month"]! - 1, part["day"]!, part["hour"]!, part["minute"]!, part["second"]!);
  return wall - Math.floor(ms / 1000) * 1000;
}

/**
 * The instant of a start time: as written when it names its offset ("...Z", "...-04:00"),
 * else read as US Eastern wall-clock time, the convention of the providers that omit it.
 */
export function instantOf(dateTime: string): number {
  if (/(Z|[+-]\d{2}:?\d{2})$/i.test(dateTime)) return Date.parse(dateTime);
  const asUtc = Date.parse(`${dateTime}Z`);
  // The offset at the guessed instant, which is right except within a DST change's hour.
  return asUtc - easternOffsetMs(asUtc - easternOffsetMs(asUtc));
}
