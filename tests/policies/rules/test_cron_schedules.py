"""blaze-worker-cron-limits: few, not-too-frequent schedules pass; others are reported."""

from __future__ import annotations

import pytest

from policies import resource_types as types
from policies.rules.cron_schedules import RULE
from tests.policies.sdk import validate_resource

PROD = {"maxSchedulesPerWorker": 3, "minIntervalMinutes": 2}
STAGING = {"maxSchedulesPerWorker": 3, "minIntervalMinutes": 5}


def trigger(*crons: str) -> dict:
    return {"scriptName": "blaze-monitor", "schedules": [{"cron": cron} for cron in crons]}


PASSING = [
    ("every two minutes in prod", trigger("*/2 * * * *"), PROD),
    ("three schedules", trigger("*/5 * * * *", "0 6 * * *", "0 11 * * 2"), STAGING),
]
VIOLATING = [
    ("every two minutes in staging", trigger("*/2 * * * *"), STAGING, "runs every 2 minutes"),
    ("every minute", trigger("* * * * *"), PROD, "runs every 1 minutes"),
    ("four schedules", trigger("0 1 * * *", "0 2 * * *", "0 3 * * *", "0 4 * * *"), PROD, "has 4 cron schedules"),
    ("not five fields", trigger("0 0 * * * *"), PROD, "not a five-field cron expression"),
    ("Sunday as 0", trigger("0 6 * * 0"), PROD, "not in Cloudflare's cron dialect: day of week: 0 is outside Cloudflare's 1-7"),
    ("a croner-only form", trigger("0 6 * * ?"), PROD, "not in Cloudflare's cron dialect"),
    ("close across midnight", trigger("0 0,23 * * *"), {**PROD, "minIntervalMinutes": 90}, "runs every 60 minutes"),
]


@pytest.mark.parametrize(("props", "config"), [c[1:] for c in PASSING], ids=[c[0] for c in PASSING])
def test_passing(props: dict, config: dict) -> None:
    assert validate_resource(RULE, types.WORKERS_CRON_TRIGGER, props, config) == []


@pytest.mark.parametrize(("props", "config", "expected"), [c[1:] for c in VIOLATING], ids=[c[0] for c in VIOLATING])
def test_violating(props: dict, config: dict, expected: str) -> None:
    messages = validate_resource(RULE, types.WORKERS_CRON_TRIGGER, props, config)
    assert len(messages) == 1 and expected in messages[0], messages
