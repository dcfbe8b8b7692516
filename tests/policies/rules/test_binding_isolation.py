"""blaze-binding-same-stack: bindings to this stack's resources pass; others are reported."""

from __future__ import annotations

from pulumi_policy import PolicyResource

from policies import resource_types as types
from policies.rules.binding_isolation import RULE
from tests.policies.sdk import resource, validate_stack

DB_ID = "4f717f07-142c-93b4-0086-725836c8def8"
FOREIGN_ID = "00000000-0000-4000-8000-000000000000"


def fleet(bindings: list[dict], *, d1_outputs: dict | None = None, depend_on_d1: bool = True) -> list[PolicyResource]:
    database = resource(types.D1_DATABASE, "blaze-media-database", {"name": "blaze-media", **(d1_outputs or {})})
    namespace = resource(types.KV_NAMESPACE, "blaze-cache-namespace", {"title": "blaze-cache"})
    bucket = resource(types.R2_BUCKET, "blaze-media-bucket", {"name": "blaze-media"})
    teams = resource(types.WORKERS_SCRIPT, "blaze-teams-script", {"scriptName": "blaze-teams", "bindings": []})
    deps = [namespace, bucket, teams] + ([database] if depend_on_d1 else [])
    gateway = resource(
        types.WORKERS_SCRIPT, "blaze-gateway-script", {"scriptName": "blaze-gateway", "bindings": bindings},
        dependencies=deps,
    )
    return [database, namespace, bucket, teams, gateway]


OWN = [
    {"name": "DB", "type": "d1", "id": DB_ID},
    {"name": "CACHE", "type": "kv_namespace", "namespaceId": "kv-id-1"},
    {"name": "MEDIA", "type": "r2_bucket", "bucketName": "blaze-media"},
    {"name": "TEAMS", "type": "service", "service": "blaze-teams"},
    {"name": "SPORT", "type": "plain_text", "text": "mlb"},
]


def test_passing_bindings_to_the_stacks_own_resources() -> None:
    assert validate_stack(RULE, fleet(OWN)) == []


def test_passing_when_the_state_shows_d1_ids_and_they_match() -> None:
    assert validate_stack(RULE, fleet(OWN, d1_outputs={"uuid": DB_ID})) == []


def test_violating_service_binding_to_another_stacks_worker() -> None:
    found = validate_stack(RULE, fleet([*OWN, {"name": "ODDS", "type": "service", "service": "blaze-odds-staging"}]))
    assert [(message.split(":")[1].strip(), urn.rsplit("::", 1)[1]) for message, urn in found] == [
        ("service binding ODDS points at 'blaze-odds-staging', which is not a WorkersScript of this stack",
         "blaze-gateway-script"),
    ]


def test_violating_r2_binding_to_a_bucket_of_another_stack() -> None:
    found = validate_stack(RULE, fleet([*OWN, {"name": "OLD", "type": "r2_bucket", "bucketName": "blaze-media-staging"}]))
    assert len(found) == 1 and "r2_bucket binding OLD points at 'blaze-media-staging'" in found[0][0]


def test_violating_d1_id_not_among_the_ids_the_state_shows() -> None:
    bindings = [{"name": "DB", "type": "d1", "id": FOREIGN_ID}]
    found = validate_stack(RULE, fleet(bindings, d1_outputs={"uuid": DB_ID}))
    assert len(found) == 1 and f"d1 binding DB points at id '{FOREIGN_ID}'" in found[0][0]


def test_violating_d1_id_written_in_without_a_d1_dependency() -> None:
    found = validate_stack(RULE, fleet([{"name": "DB", "type": "d1", "id": FOREIGN_ID}], depend_on_d1=False))
    assert len(found) == 1 and "depends on only 0 D1Database resources" in found[0][0]
