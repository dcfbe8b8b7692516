"""Cron triggers: few per Worker, in Cloudflare's dialect, and none more frequent than the stack allows."""

from __future__ import annotations

from typing import Annotated, Iterator

from pulumi_policy import ResourceValidationArgs, Severity
from pydantic import Field

from policies import resource_types as types
from policies.framework import ResourceRule, RuleConfig, RuleInfo, RunContext, fields, items, plain
from stacks import cron

_DAY_MINUTES = 24 * 60


class Config(RuleConfig):
    max_schedules_per_worker: Annotated[
        int, Field(ge=1, description="Most cron schedules one Worker may carry")
    ]
    min_interval_minutes: Annotated[
        int, Field(ge=1, le=_DAY_MINUTES, description="Shortest time allowed between two runs of one schedule")
    ]


def check(args: ResourceValidationArgs, config: Config, context: RunContext) -> Iterator[str]:
    worker = plain(args.props.get("scriptName"))
    schedules = [str(plain(fields(s).get("cron"))) for s in items(args.props.get("schedules"))]
    if len(schedules) > config.max_schedules_per_worker:
        yield f"Worker {worker} has {len(schedules)} cron schedules, more than {config.max_schedules_per_worker}"
    for schedule in schedules:
        # Read as Cloudflare reads it (1 = SUN); the same reader as the catalog's.
        try:
            interval = cron.schedule(schedule).shortest_gap_minutes
        except cron.CronError as err:
            yield f"Worker {worker}: {schedule!r} is not in Cloudflare's cron dialect: {err}"
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
        description="A Worker carries at most the configured number of cron schedules, each in Cloudflare's dialect (day of week 1-7, 1 = SUN) and none more frequent than the stack's minimum interval.",
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
