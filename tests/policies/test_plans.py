"""The pack over both stacks' whole plans: the shipped fleet passes; each rule catches its own break."""

from __future__ import annotations

from typing import Any, Callable

import pytest
from pulumi_policy import EnforcementLevel

from policies import resource_types as types
from policies.registry import RULE_IDS
from tests.conftest import STACKS, Planned
from tests.policies.plans import check, editable, find

Plan = dict[str, Any]


@pytest.mark.parametrize("stack", STACKS)
def test_the_shipped_fleet_passes_with_no_finding(planned: dict[str, Planned], stack: str) -> None:
    outcome = check(editable(planned[stack].plan), stack)
    assert outcome.passed
    assert [(v.rule, v.urn, v.message) for v in outcome.violations] == []
    assert outcome.waived == []


def _rename_database(plan: Plan) -> None:
    find(plan, "blaze-odds-database")["inputs"]["name"] = "odds"


def _bind_another_stacks_bucket(plan: Plan) -> None:
    find(plan, "blaze-storage-script")["inputs"]["bindings"].append(
        {"name": "STAGING_MEDIA", "type": "r2_bucket", "bucketName": "blaze-media-staging"}
    )


def _open_cors_to_http(plan: Plan) -> None:
    find(plan, "blaze-media-cors")["inputs"]["rules"][0]["allowed"]["origins"].append("http://blazesportsintel.com")


def _plain_text_token(plan: Plan) -> None:
    find(plan, "blaze-storage-script")["inputs"]["bindings"].append(
        {"name": "SIGNING_KEY", "type": "plain_text", "text": "not-so-secret"}
    )


def _cron_every_minute(plan: Plan) -> None:
    find(plan, "blaze-monitor-crons")["inputs"]["schedules"][0]["cron"] = "* * * * *"


def _future_compatibility_date(plan: Plan) -> None:
    find(plan, "blaze-gateway-script")["inputs"]["compatibilityDate"] = "2030-01-01"


def _unprotect_database(plan: Plan) -> None:
    find(plan, "blaze-odds-database")["options"]["protect"] = False


def _logs_off(plan: Plan) -> None:
    find(plan, "blaze-gateway-script")["inputs"]["observability"]["logs"]["enabled"] = False


def _disable_alert_policies(plan: Plan) -> None:
    for resource in plan["resources"]:
        if resource["type"] == types.NOTIFICATION_POLICY:
            resource["inputs"]["enabled"] = False


def _inline_code(plan: Plan) -> None:
    find(plan, "blaze-gateway-script")["inputs"]["content"] = "export default { fetch() {} }"


def _too_many_cron_triggers(plan: Plan) -> None:
    template = find(plan, "blaze-backup-crons")
    for index in range(100):
        extra = editable(template)
        extra["name"] = f"blaze-backup-extra-{index}-crons"
        extra["urn"] = template["urn"].replace("::blaze-backup-crons", f"::{extra['name']}")
        plan["resources"].append(extra)


def _unbound_namespace(plan: Plan) -> None:
    spare = editable(find(plan, "blaze-mlb-cache-namespace"))
    spare["name"] = "blaze-spare-cache-namespace"
    spare["urn"] = spare["urn"].replace("::blaze-mlb-cache-namespace", "::blaze-spare-cache-namespace")
    spare["inputs"]["title"] = "blaze-spare-cache"
    plan["resources"].append(spare)


def _stale_migration_files(plan: Plan) -> None:
    # A plan of other migration files than the checkout's: the rule judges only what it can read.
    files = find(plan, "blaze-odds-migrations")["inputs"]["migrations"]
    files[next(iter(files))] = "0" * 64


# One break per rule, each made to violate that rule and no other.
MUTATIONS: dict[str, Callable[[Plan], None]] = {
    "blaze-naming-stack-pattern": _rename_database,
    "blaze-binding-same-stack": _bind_another_stacks_bucket,
    "blaze-r2-cors-restricted": _open_cors_to_http,
    "blaze-worker-no-plaintext-secrets": _plain_text_token,
    "blaze-worker-cron-limits": _cron_every_minute,
    "blaze-worker-compatibility-date": _future_compatibility_date,
    "blaze-data-protected": _unprotect_database,
    "blaze-worker-observability": _logs_off,
    "blaze-cron-alert-route": _disable_alert_policies,
    "blaze-worker-bundle-digest": _inline_code,
    "blaze-account-limits": _too_many_cron_triggers,
    "blaze-data-unused": _unbound_namespace,
    "blaze-d1-migration-data-loss": _stale_migration_files,
}


def test_every_rule_has_a_mutated_plan() -> None:
    assert set(MUTATIONS) == RULE_IDS


@pytest.mark.parametrize("rule", sorted(MUTATIONS))
def test_a_mutated_prod_plan_fails_on_exactly_the_rule_it_breaks(planned: dict[str, Planned], rule: str) -> None:
    plan = editable(planned["prod"].plan)
    MUTATIONS[rule](plan)
    outcome = check(plan, "prod")
    assert {v.rule for v in outcome.violations} == {rule}, [(v.rule, v.message) for v in outcome.violations]
    expected = EnforcementLevel.ADVISORY if rule == "blaze-data-unused" else EnforcementLevel.MANDATORY
    assert {v.level for v in outcome.violations} == {expected}
    assert outcome.passed is (expected is EnforcementLevel.ADVISORY)


@pytest.mark.parametrize(("kind", "key", "resource"), [("d1", "id", "blaze-odds-database"), ("kv_namespace", "namespaceId", "blaze-odds-cache-namespace")])
def test_a_prod_worker_bound_to_stagings_id_fails_though_its_dependencies_stay(
    planned: dict[str, Planned], kind: str, key: str, resource: str
) -> None:
    # The plan records the ids its mocks assign, so the pack compares bindings by value,
    # as it does over a refreshed stack: staging's id pasted over prod's own is caught.
    plan = editable(planned["prod"].plan)
    staging_id = find(planned["staging"].plan, resource)["id"]
    own_id = find(plan, resource)["id"]
    assert staging_id and own_id and staging_id != own_id
    script = find(plan, "blaze-odds-script")
    pasted = [b for b in script["inputs"]["bindings"] if b["type"] == kind and b[key] == own_id]
    assert pasted, f"blaze-odds binds no {kind} {own_id}"
    pasted[0][key] = staging_id
    outcome = check(plan, "prod")
    assert [(v.rule, v.message.split(": ", 1)[1]) for v in outcome.violations] == [
        ("blaze-binding-same-stack", f"{kind} binding {pasted[0]['name']} points at id '{staging_id}', which is not the id of a "
         f"{'D1Database' if kind == 'd1' else 'WorkersKvNamespace'} of this stack: an id was written in rather than taken from a resource"),
    ]
