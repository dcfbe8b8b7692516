"""blaze-cron-alert-route: scheduled Workers need a routed alert policy of a covering type."""

from __future__ import annotations

import pytest
from pulumi_policy import PolicyResource

from policies import resource_types as types
from policies.rules.cron_alerting import RULE
from tests.policies.sdk import resource, validate_stack

CONFIG = {"alertTypes": ["incident_alert"]}
ROUTED = {"emails": [{"id": "oncall@blazesportsintel.com"}]}


def stack(*policies: dict, schedules: list[dict] | None = None) -> list[PolicyResource]:
    trigger = resource(
        types.WORKERS_CRON_TRIGGER, "blaze-backup-crons",
        {"scriptName": "blaze-backup", "schedules": [{"cron": "30 3 * * *"}] if schedules is None else schedules},
    )
    alerts = [resource(types.NOTIFICATION_POLICY, f"alerting-policy-{i}", props) for i, props in enumerate(policies)]
    return [trigger, *alerts]


def test_passing_with_a_routed_incident_policy() -> None:
    assert validate_stack(RULE, stack({"alertType": "incident_alert", "enabled": True, "mechanisms": ROUTED}), CONFIG) == []


def test_passing_when_no_worker_runs_on_a_cron() -> None:
    assert validate_stack(RULE, stack(schedules=[]), CONFIG) == []


@pytest.mark.parametrize(
    "policy",
    [
        {"alertType": "dos_attack_l7", "enabled": True, "mechanisms": ROUTED},
        {"alertType": "incident_alert", "enabled": False, "mechanisms": ROUTED},
        {"alertType": "incident_alert", "enabled": True, "mechanisms": {}},
    ],
    ids=["other alert type", "disabled", "routed nowhere"],
)
def test_violating(policy: dict) -> None:
    found = validate_stack(RULE, stack(policy), CONFIG)
    assert len(found) == 1
    message, urn = found[0]
    assert "Worker blaze-backup runs on a cron" in message and urn.endswith("::blaze-backup-crons")
