"""blaze-worker-observability: Workers with logs on pass; dark Workers are reported."""

from __future__ import annotations

import pytest

from policies import resource_types as types
from policies.rules.observability import RULE
from tests.policies.sdk import validate_resource


def script(enabled: bool = True, logs: bool = True, rate: float = 0.25) -> dict:
    return {
        "scriptName": "blaze-x",
        "observability": {"enabled": enabled, "headSamplingRate": rate, "logs": {"enabled": logs, "headSamplingRate": rate}},
    }


def test_passing() -> None:
    assert validate_resource(RULE, types.WORKERS_SCRIPT, script()) == []


@pytest.mark.parametrize(
    ("props", "expected"),
    [
        (script(enabled=False), ["has observability off"]),
        (script(logs=False), ["has observability on but its logs off"]),
        ({"scriptName": "blaze-x"}, ["has observability off"]),
        (script(rate=0), ["observability.headSamplingRate is 0", "observability.logs.headSamplingRate is 0"]),
    ],
    ids=["off", "logs off", "absent", "zero sampling"],
)
def test_violating(props: dict, expected: list[str]) -> None:
    messages = validate_resource(RULE, types.WORKERS_SCRIPT, props)
    assert len(messages) == len(expected) and all(e in m for e, m in zip(expected, messages, strict=True)), messages
