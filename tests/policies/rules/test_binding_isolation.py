"""blaze-binding-same-stack: bindings to this stack's resources pass; others are reported."""

from __future__ import annotations

from pulumi_policy import PolicyResource
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, unknown_checking_proxy

from policies import resource_types as types
from policies.rules.binding_isolation import RULE
from tests.policies.sdk import resource, validate_stack

DB_ID = "4f717f07-142c-93b4-0086-725836c8def8"
FOREIGN_ID = "00000000-0000-4000-8000-000000000000"


KV_ID = "5c1a0e4e0c9a4d3f8e1b2a3c4d5e6f70"


def fleet(
    bindings: list[dict], *, d1_outputs: dict | None = None, kv_outputs: dict | None = None, depend_on_d1: bool = True
) -> list[PolicyResource]:
    """A stack of one database, namespace, bucket and two Workers; ids known unless overridden."""
    database = resource(
        types.D1_DATABASE, "blaze-media-database", {"name": "blaze-media", **({"uuid": DB_ID, "id": DB_ID} | (d1_outputs or {}))}
    )
    namespace = resource(types.KV_NAMESPACE, "blaze-cache-namespace", {"title": "blaze-cache", **({"id": KV_ID} | (kv_outputs or {}))})
    bucket = resource(types.R2_BUCKET, "blaze-media-bucket", {"name": "blaze-media"})
    teams = resource(types.WORKERS_SCRIPT, "blaze-teams-script", {"scriptName": "blaze-teams", "bindings": []})
    deps = [namespace, bucket, teams] + ([database] if depend_on_d1 else [])
    gateway = resource(
        types.WORKERS_SCRIPT, "blaze-gateway-script", {"scriptName": "blaze-gateway", "bindings": bindings},
        dependencies=deps,
    )
    return [database, namespace, bucket, teams, gateway]


def first_deploy(bindings: list[dict], **options: bool) -> list[PolicyResource]:
    """The same stack in the preview that creates it, as the analyzer hands it over.

    Ids the provider assigns are the engine's unknown-value sentinel, and every property
    is read through pulumi_policy's own unknown-checking proxy, as in AnalyzeStack.
    """
    stack = fleet(bindings, d1_outputs={"uuid": UNKNOWN_STRING_VALUE, "id": UNKNOWN_STRING_VALUE},
                  kv_outputs={"id": UNKNOWN_STRING_VALUE}, **options)
    for r in stack:
        r.props = unknown_checking_proxy(dict(r.props))
    return stack


OWN = [
    {"name": "DB", "type": "d1", "id": DB_ID},
    {"name": "CACHE", "type": "kv_namespace", "namespaceId": KV_ID},
    {"name": "MEDIA", "type": "r2_bucket", "bucketName": "blaze-media"},
    {"name": "TEAMS", "type": "service", "service": "blaze-teams"},
    {"name": "SPORT", "type": "plain_text", "text": "mlb"},
]
# The same bindings before the database and the namespace exist: ids not known yet.
OWN_UNKNOWN = [
    {**b, "id": UNKNOWN_STRING_VALUE} if b["type"] == "d1"
    else {**b, "namespaceId": UNKNOWN_STRING_VALUE} if b["type"] == "kv_namespace" else b
    for b in OWN
]


def test_passing_bindings_to_the_stacks_own_resources() -> None:
    assert validate_stack(RULE, fleet(OWN)) == []


def test_passing_in_the_first_deploy_when_the_ids_come_from_the_stacks_resources() -> None:
    assert validate_stack(RULE, first_deploy(OWN_UNKNOWN)) == []


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
    found = validate_stack(RULE, fleet(bindings))
    assert len(found) == 1 and f"d1 binding DB points at id '{FOREIGN_ID}'" in found[0][0]


def test_violating_a_foreign_id_in_place_of_the_workers_own_in_a_first_deploy() -> None:
    # The Worker still depends on its database, so counting dependencies alone passed this.
    bindings = [{**b, "id": FOREIGN_ID} if b["type"] == "d1" else b for b in OWN_UNKNOWN]
    found = validate_stack(RULE, first_deploy(bindings))
    assert [m for m, _ in found] == [
        f"Worker blaze-gateway: d1 binding DB points at id '{FOREIGN_ID}', which is not the id of a D1Database "
        "of this stack: an id was written in rather than taken from a resource",
    ]


def test_violating_a_foreign_kv_id_in_a_first_deploy() -> None:
    bindings = [{**b, "namespaceId": "0123456789abcdef0123456789abcdef"} if b["type"] == "kv_namespace" else b for b in OWN_UNKNOWN]
    found = validate_stack(RULE, first_deploy(bindings))
    assert len(found) == 1 and "kv_namespace binding CACHE points at id '0123456789abcdef0123456789abcdef'" in found[0][0]


def test_violating_a_foreign_kv_id_when_the_ids_are_known() -> None:
    bindings = [{**b, "namespaceId": "0123456789abcdef0123456789abcdef"} if b["type"] == "kv_namespace" else b for b in OWN]
    found = validate_stack(RULE, fleet(bindings))
    assert len(found) == 1 and "not the id of a WorkersKvNamespace of this stack" in found[0][0]


def test_violating_an_unknown_id_from_no_resource_of_the_stack() -> None:
    found = validate_stack(RULE, first_deploy(OWN_UNKNOWN, depend_on_d1=False))
    assert [m for m, _ in found] == [
        "Worker blaze-gateway: 1 d1 bindings (DB) have ids not known yet, but the Worker depends on only 0 "
        "D1Database resources of this stack still to be created: an id comes from somewhere else",
    ]
