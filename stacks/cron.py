"""Cron expressions in Cloudflare's dialect (day of week 1-7 with 1 = SUN, or SUN-SAT).

Every reader of a cron in the project goes through `schedule()`: the catalog, the policy
pack and the docs. The dialect itself lives in `stacks/cron.mjs` (its grammar, checked
field by field, and croner set to Quartz weekday numbering for what a schedule means);
this module keeps one Node process of it per Python process and caches its answers, so
a plan's seventy schedules cost one process start and a round trip each.
"""

from __future__ import annotations

import atexit
import functools
import threading
from dataclasses import dataclass
from pathlib import Path

from cron_descriptor import ExpressionDescriptor, Options

from toolchain.node import JsonLinesProcess

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "stacks" / "cron.mjs"
DAY_NAMES = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")  # Cloudflare's 1..7


class CronError(ValueError):
    """The expression is outside Cloudflare's dialect, or never fires."""


@dataclass(frozen=True)
class Schedule:
    expression: str
    next_runs: tuple[str, ...]  # the first three runs from 2026-01-01T00:00Z, ISO 8601 UTC
    shortest_gap_minutes: int | None  # None: it runs at most once a day
    numeric_days: tuple[tuple[int, str], ...]  # day-of-week numbers and the day each means


class _Evaluator:
    """One `node stacks/cron.mjs`, one request at a time."""

    def __init__(self) -> None:
        croner = ROOT / "node_modules" / "croner" / "package.json"
        if not croner.is_file():
            raise RuntimeError("croner is not installed in node_modules: run `make setup` (npm ci)")
        self._node = JsonLinesProcess(SCRIPT, ROOT)

    def ask(self, expression: str) -> dict[str, object]:
        return self._node.request(f"reading {expression!r}", expr=expression)

    def close(self) -> None:
        self._node.close(timeout=10)


_evaluator: _Evaluator | None = None
_evaluator_lock = threading.Lock()


def _shared() -> _Evaluator:
    global _evaluator
    with _evaluator_lock:
        if _evaluator is None:
            _evaluator = _Evaluator()
            atexit.register(_evaluator.close)
        return _evaluator


@functools.lru_cache(maxsize=1024)
def schedule(expression: str) -> Schedule:
    """The schedule `expression` means to Cloudflare; CronError if Cloudflare would refuse it."""
    reply = _shared().ask(expression)
    if not reply["ok"]:
        raise CronError(str(reply["error"]))
    found = reply["schedule"]
    assert isinstance(found, dict)
    return Schedule(
        expression=found["expression"],
        next_runs=tuple(found["nextRuns"]),
        shortest_gap_minutes=found["shortestGapMinutes"],
        numeric_days=tuple((int(n), str(name)) for n, name in found["numericDays"]),
    )


def day_names_required(expression: str) -> str:
    """The catalog's convention on top of the dialect: days of the week by name.

    A number there reads as another day in Vixie cron and croniter (0/7 = Sunday) than in
    Cloudflare (1 = Sunday), so the catalog says the day: returns the expression, or raises
    CronError naming the day Cloudflare would take and the name to write.
    """
    found = schedule(expression)
    if found.numeric_days:
        readings = "; ".join(
            f"{n} is {name} here ({DAY_NAMES[n % 7]} in Vixie cron): write {name}, or {DAY_NAMES[n % 7]} if that day is meant"
            for n, name in found.numeric_days
        )
        raise CronError(f"{expression!r} gives the day of week as a number; Cloudflare counts 1 = SUN to 7 = SAT, so {readings}")
    return expression


def describe(expression: str) -> str:
    """The schedule in words ("At 11:00, only on Tuesday"), read in Cloudflare's dialect.

    cron-descriptor is told the day of week counts from 1 = SUN (Quartz), as Cloudflare
    does; the expression is checked against the dialect first.
    """
    schedule(expression)
    options = Options()
    options.day_of_week_start_index_zero = False
    options.use_24hour_time_format = True
    options.verbose = False
    return ExpressionDescriptor(expression, options).get_description()
