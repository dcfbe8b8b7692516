"""blaze-worker-compatibility-date: judged against the pinned day, never the machine's clock."""

from __future__ import annotations

import pytest

from policies import resource_types as types
from policies.rules.compatibility_date import RULE
from tests.policies.sdk import PINNED_TODAY, validate_resource

CONFIG = {"maxAgeDays": 365}

PASSING = [
    ("today", PINNED_TODAY.isoformat()),
    ("a year ago to the day", "2025-09-01"),
]
VIOLATING = [
    ("tomorrow", "2026-09-02", "is in the future (today is 2026-09-01)"),
    ("a year and a day ago", "2025-08-31", "is 366 days old, more than 365"),
    ("missing", None, "sets no compatibilityDate"),
    ("not a date", "2026-13-01", "is not a YYYY-MM-DD date"),
]


@pytest.mark.parametrize("date", [c[1] for c in PASSING], ids=[c[0] for c in PASSING])
def test_passing(date: str) -> None:
    assert validate_resource(RULE, types.WORKERS_SCRIPT, {"compatibilityDate": date}, CONFIG) == []


@pytest.mark.parametrize(("date", "expected"), [c[1:] for c in VIOLATING], ids=[c[0] for c in VIOLATING])
def test_violating(date: str | None, expected: str) -> None:
    props = {} if date is None else {"compatibilityDate": date}
    messages = validate_resource(RULE, types.WORKERS_SCRIPT, props, CONFIG)
    assert len(messages) == 1 and expected in messages[0], messages
