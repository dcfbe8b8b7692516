"""Cron triggers: few per Worker, and none more frequent than the stack allows."""

from __future__ import annotations

import datetime
from itertools import pairwise
from typing import Annotated, Iterator

from croniter import CroniterBadCronError, CroniterBadDateError, CroniterError, croniter
from pulumi_policy import ResourceValidationArgs, Severity
from pydantic import Field

from policies import resource_types as types
from policies.framework import ResourceRule, RuleConfig, RuleInfo, RunContext, fields, items, plain

_DAY_MINUTES = 24 * 60
# Two years from a fixed day: every pattern of days (weekdays, month days, leap days) recurs.
_DAYS_START = datetime.datetime(2024, 1, 1)
_DAYS_SCANNED = 2 * 366


class Config(RuleConfig):
    max_schedules_per_worker: Annotated[
        int, Field(ge=1, description="Most cron schedules one Worker may carry")
    ]
    min_interval_minutes: Annotated[
        int, Field(ge=1, le=_DAY_MINUTES, description="Shortest time allowed between two runs of one schedule")
    ]


def _fires_on_consecutive_days(day_of_month: str, month: str, day_of_week: str) -> bool:
    if day_of_month == "*" and day_of_week == "*":
        return True  # every day of the months it runs in
    days = croniter(f"0 0 {day_of_month} {month} {day_of_week}", _DAYS_START)
    try:
        previous = days.get_next(datetime.datetime)
        for _ in range(_DAYS_SCANNED):
            current = days.get_next(datetime.datetime)
            if current - previous == datetime.timedelta(days=1):
                return True
            previous = current
    except CroniterBadDateError:
        return False  # a date that never comes, such as 31 February
    return False


def shortest_interval_minutes(expression: str) -> int | None:
    """The shortest gap between two runs of a five-field schedule; None if it runs at most daily.

    Computed from the expanded fields rather than by iterating runs: a schedule like
    `*/2 * * * *` runs 720 times a day, too many to walk through on every check.
    """
    _, _, day_of_month, month, day_of_week = expression.split()
    minutes, hours = croniter(expression).expanded[:2]
    minutes = range(60) if minutes == ["*"] else minutes
    hours = range(24) if hours == ["*"] else hours
    times = sorted(h * 60 + m for h in hours for m in minutes)
    shortest = min((later - earlier for earlier, later in pairwise(times)), default=_DAY_MINUTES)
    overnight = _DAY_MINUTES - times[-1] + times[0]  # last run of a day to the first of the next
    if overnight < shortest and _fires_on_consecutive_days(day_of_month, month, day_of_week):
        shortest = overnight
    return shortest if shortest < _DAY_MINUTES else None


def check(args: ResourceValidationArgs, config: Config, context: RunContext) -> Iterator[str]:
    worker = plain(args.props.get("scriptName"))
    schedules = [str(plain(fields(s).get("cron"))) for s in items(args.props.get("schedules"))]
    if len(schedules) > config.max_schedules_per_worker:
        yield f"Worker {worker} has {len(schedules)} cron schedules, more than {config.max_schedules_per_worker}"
    for schedule in schedules:
        if len(schedule.split()) != 5 or not croniter.is_valid(schedule):
            yield f"Worker {worker}: {schedule!r} is not a five-field cron expression"
            continue
        try:
            interval = shortest_interval_minutes(schedule)
        except (CroniterBadCronError, CroniterError) as err:
            yield f"Worker {worker}: {schedule!r} cannot be evaluated: {err}"
            continue
        if interval is not None and interval < config.min_interval_minutes:
            yield (
                f"Worker {worker}: {schedule!r} runs every {interval} minutes at its most frequent, "
                f"more often than this stack's minimum of {config.min_interval_minutes}"
            )


RULE = ResourceRule(
    info=RuleInfo(
        id="blaze-worker-cron-limits",
        title="Cron schedules are few and not too frequent",
        description="A Worker carries at most the configured number of cron schedules, none more frequent than the stack's minimum interval.",
        severity=Severity.MEDIUM,
        remediation=(
            "Merge schedules or slow them down in stacks/catalog/workers.yaml, or list the Worker under "
            "disabledCrons in Pulumi.<stack>.yaml for a stack that should not run it."
        ),
        docs="https://developers.cloudflare.com/workers/configuration/cron-triggers/",
        tags=("crons", "limits", "cost"),
    ),
    config=Config,
    resource_types=(types.WORKERS_CRON_TRIGGER,),
    check=check,
)
