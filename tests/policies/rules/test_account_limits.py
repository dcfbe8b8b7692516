"""blaze-account-limits: counts at the configured limits pass; one more is reported."""

from __future__ import annotations

import pytest
from pulumi_policy import PolicyResource

from policies import resource_types as types
from policies.rules.account_limits import RULE
from tests.policies.sdk import resource, validate_stack

LIMITS = {"maxWorkers": 2, "maxD1Databases": 1, "maxKvNamespaces": 1, "maxR2Buckets": 1, "maxCronTriggers": 3}


def stack(workers: int = 2, databases: int = 1, namespaces: int = 1, buckets: int = 1, crons: int = 3) -> list[PolicyResource]:
    resources = [resource(types.WORKERS_SCRIPT, f"w{i}", {"scriptName": f"blaze-w{i}"}) for i in range(workers)]
    resources += [resource(types.D1_DATABASE, f"d{i}", {"name": f"blaze-d{i}"}) for i in range(databases)]
    resources += [resource(types.KV_NAMESPACE, f"k{i}", {"title": f"blaze-k{i}"}) for i in range(namespaces)]
    resources += [resource(types.R2_BUCKET, f"b{i}", {"name": f"blaze-b{i}"}) for i in range(buckets)]
    resources.append(
        resource(types.WORKERS_CRON_TRIGGER, "w0-crons", {"schedules": [{"cron": f"{i} * * * *"} for i in range(crons)]})
    )
    return resources


def test_passing_at_every_limit() -> None:
    assert validate_stack(RULE, stack(), LIMITS) == []


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        ({"workers": 3}, "3 Workers, over its limit of 2"),
        ({"databases": 2}, "2 D1 databases, over its limit of 1"),
        ({"namespaces": 2}, "2 KV namespaces, over its limit of 1"),
        ({"buckets": 2}, "2 R2 buckets, over its limit of 1"),
        ({"crons": 4}, "4 cron triggers, over its limit of 3"),
    ],
    ids=["workers", "d1", "kv", "r2", "crons"],
)
def test_violating(counts: dict, expected: str) -> None:
    found = validate_stack(RULE, stack(**counts), LIMITS)
    assert [(expected in message, urn) for message, urn in found] == [(True, None)], found


def test_the_limits_are_required_config() -> None:
    with pytest.raises(ValueError, match="blaze-account-limits: policy config maxWorkers: Field required"):
        validate_stack(RULE, stack(), {k: v for k, v in LIMITS.items() if k != "maxWorkers"})
