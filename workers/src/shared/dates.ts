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
