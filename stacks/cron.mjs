// Cron expressions in Cloudflare's dialect, the one reader every part of the project uses
// (the catalog, the policy pack, the docs; Python talks to it through stacks/cron.py).
//
// Cloudflare's cron triggers take five fields, UTC, with "Quartz scheduler"-like
// extensions (developers.cloudflare.com/workers/configuration/cron-triggers/):
//   minute 0-59 (* , - /)   hour 0-23 (* , - /)   day of month 1-31 (* , - / L W)
//   month 1-12 or JAN-DEC (* , - /)   day of week 1-7 or SUN-SAT, 1 = SUNDAY (* , - / L #)
// so `0 17 * * 1` is 5 pm on Sundays and `mon-fri` is `2-6`. Vixie cron and croniter read
// the day of week as 0-7 with 0 and 7 = Sunday: the same text means another day there.
//
// The grammar is checked here, field by field, because croner (the maintained library
// that evaluates the schedules, set to Quartz weekday numbering) also takes forms
// Cloudflare does not: `?`, `+`, nicknames such as @daily, and day 8 as a Sunday.
// The semantics (which minutes a schedule fires on) are croner's.
//
// Protocol: one JSON request per line on stdin, {"id": n, "expr": "..."}; one reply per
// line on stdout, {"id": n, "ok": true, "schedule": {...}} or {"id": n, "ok": false,
// "error": "..."}.
import { createInterface } from "node:readline";
import { Cron } from "croner";

export const DAY_NAMES = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]; // 1..7
const MONTH_NAMES = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];

const FIELDS = [
  { name: "minute", min: 0, max: 59, names: [], extra: [] },
  { name: "hour", min: 0, max: 23, names: [], extra: [] },
  { name: "day of month", min: 1, max: 31, names: [], extra: ["L", "W"] },
  { name: "month", min: 1, max: 12, names: MONTH_NAMES, extra: [] },
  { name: "day of week", min: 1, max: 7, names: DAY_NAMES, extra: ["L", "#"] },
];

// A fixed start, so that answers depend on the expression only.
const START = new Date("2026-01-01T00:00:00Z");
const DAY_MS = 86_400_000;
const DAYS_SCANNED = 2 * 366; // every pattern of weekdays, month days and leap days recurs

class DialectError extends Error {}

function value(field, text) {
  const upper = text.toUpperCase();
  const named = field.names.indexOf(upper);
  if (named >= 0) return named + 1;
  if (!/^\d+$/.test(text)) {
    const known = field.names.length ? ` (numbers or ${field.names[0]}-${field.names.at(-1)})` : "";
    throw new DialectError(`${field.name}: ${JSON.stringify(text)} is not a value${known}`);
  }
  const number = Number(text);
  if (number < field.min || number > field.max) {
    const hint = field.name === "day of week" ? " (1 = SUN to 7 = SAT): write the day's name" : "";
    throw new DialectError(`${field.name}: ${number} is outside Cloudflare's ${field.min}-${field.max}${hint}`);
  }
  return number;
}

// One comma-separated item of a field: `*`, `a`, `a-b`, each optionally `/step`, or one of
// the field's extensions (day of month: L, LW, nW; day of week: dL, d#n).
function item(field, text) {
  if (field.name === "day of month" && /^(L|LW|\d+W)$/i.test(text)) {
    if (/^\d+W$/i.test(text)) value(field, text.slice(0, -1));
    return;
  }
  if (field.name === "day of week") {
    const last = /^([A-Za-z]{3}|\d+)L$/.exec(text);
    if (last) return void value(field, last[1]);
    const nth = /^([A-Za-z]{3}|\d+)#(\d+)$/.exec(text);
    if (nth) {
      value(field, nth[1]);
      if (Number(nth[2]) < 1 || Number(nth[2]) > 5) throw new DialectError(`${field.name}: #${nth[2]} is not 1-5`);
      return;
    }
  }
  const [range, step, ...rest] = text.split("/");
  if (rest.length || step === "" || (step !== undefined && !/^\d+$/.test(step)) || Number(step) === 0) {
    throw new DialectError(`${field.name}: ${JSON.stringify(text)} has a bad step`);
  }
  if (range === "*") return;
  const bounds = range.split("-");
  if (bounds.length > 2 || bounds.includes("")) throw new DialectError(`${field.name}: ${JSON.stringify(text)} is not a range`);
  const [low, high = low] = bounds.map((b) => value(field, b));
  if (high < low) throw new DialectError(`${field.name}: ${JSON.stringify(range)} runs backwards`);
}

/** Throws DialectError unless `expr` is in Cloudflare's grammar. */
export function checkDialect(expr) {
  const parts = expr.trim().split(/\s+/);
  if (parts.length !== 5) {
    throw new DialectError(`${JSON.stringify(expr)} is not a five-field cron expression (Cloudflare takes minute hour day month weekday)`);
  }
  parts.forEach((part, index) => {
    const field = FIELDS[index];
    for (const piece of part.split(",")) {
      if (piece === "") throw new DialectError(`${field.name}: an empty list item`);
      item(field, piece);
    }
  });
  const [, , dom, , dow] = parts;
  if (dom !== "*" && dow !== "*") {
    // Cloudflare does not document how the two combine (Vixie cron: either; Quartz:
    // refused), so a schedule that restricts both would mean what nobody can check.
    throw new DialectError("both day of month and day of week are restricted; Cloudflare does not document how they combine");
  }
  return parts;
}

function job(expr) {
  return new Cron(expr, { alternativeWeekdays: true, mode: "5-part", timezone: "UTC", paused: true });
}

// The shortest gap between two runs, in minutes; null when it runs at most once a day.
// The minutes and hours fire the same on every day the schedule runs (UTC has no DST), so
// one firing day gives the gaps within a day; the gap over midnight counts only when the
// schedule runs on two consecutive days.
function shortestGap(schedule, first, parts) {
  const times = [];
  for (let run = first; run && run.getTime() - first.getTime() < DAY_MS && run.getUTCDate() === first.getUTCDate(); run = schedule.nextRun(run)) {
    times.push(run.getUTCHours() * 60 + run.getUTCMinutes());
  }
  let shortest = Infinity;
  for (let i = 1; i < times.length; i++) shortest = Math.min(shortest, times[i] - times[i - 1]);
  const overnight = 1440 - times.at(-1) + times[0];
  // A gap of a day or more is reported as none, so only a shorter overnight gap needs the
  // scan of days (a once-a-day schedule never does).
  if (overnight < Math.min(shortest, 1440)) {
    const days = job(`0 0 ${parts[2]} ${parts[3]} ${parts[4]}`).nextRuns(DAYS_SCANNED, new Date(START.getTime() - 1));
    if (days.some((day, i) => i > 0 && day.getTime() - days[i - 1].getTime() === DAY_MS)) shortest = overnight;
  }
  return shortest < 1440 ? shortest : null;
}

export function evaluate(expr) {
  const parts = checkDialect(expr);
  let schedule;
  try {
    schedule = job(parts.join(" "));
  } catch (err) {
    throw new DialectError(String(err.message).replace(/^CronPattern: /, ""));
  }
  const runs = schedule.nextRuns(3, new Date(START.getTime() - 1));
  if (runs.length === 0) throw new DialectError(`${JSON.stringify(expr)} never fires (a date that does not exist)`);
  // Numbers in the day-of-week field, read Cloudflare's way (1 = SUN), for messages that
  // name the day a reader of Vixie cron would not expect.
  const numericDays = [...new Set((parts[4].match(/(?<![#/\d])\d+/g) ?? []).map(Number))].map((n) => [n, DAY_NAMES[n - 1]]);
  return {
    expression: parts.join(" "),
    nextRuns: runs.map((run) => run.toISOString()),
    shortestGapMinutes: shortestGap(schedule, runs[0], parts),
    numericDays,
  };
}

function serve() {
  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
  lines.on("line", (line) => {
    const { id, expr } = JSON.parse(line);
    let reply;
    try {
      reply = { id, ok: true, schedule: evaluate(String(expr)) };
    } catch (err) {
      if (!(err instanceof DialectError)) throw err;
      reply = { id, ok: false, error: err.message };
    }
    process.stdout.write(JSON.stringify(reply) + "\n");
  });
}

if (import.meta.url === `file://${process.argv[1]}`) serve();
