"""The pack through pulumi-policy's own analyzer service, as `pulumi preview --policy-pack` drives it.

Configure receives a stack's policy config the way the CLI sends it; Analyze and
AnalyzeStack receive resources as protobuf structs. This tests registration, config
delivery and waivers, not only the rule functions.
"""

from __future__ import annotations

import os
import select
import subprocess
import sys
from typing import Any, Mapping

import grpc
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime import proto
from pulumi_policy import EnforcementLevel
from pulumi_policy.policy import _PolicyAnalyzerServicer

from policies import resource_types as types
from policies.config import PolicySettings, read_pack_config
from policies.framework import RunContext, Waiver, Waivers
from policies.pack import PACK_ENFORCEMENT, PACK_NAME, WAIVED_FINDINGS, pack_policies
from policies.registry import RULE_IDS, RULES
from tests.policies.plans import PACK_DIR
from tests.policies.sdk import context

_LEVELS = {
    EnforcementLevel.ADVISORY: proto.ADVISORY,
    EnforcementLevel.MANDATORY: proto.MANDATORY,
    EnforcementLevel.DISABLED: proto.DISABLED,
}
STACK_URN = "urn:pulumi:prod::blaze-infra::pulumi:pulumi:Stack::blaze-infra-prod"
BUCKET_PARENT = "urn:pulumi:prod::blaze-infra::blaze:fleet:Fleet$blaze:r2:Bucket::blaze-media"


def _struct(values: Mapping[str, Any]) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(dict(values))
    return struct


def analyzer(stack: str, run: RunContext, **overrides: dict[str, Any]) -> _PolicyAnalyzerServicer:
    """The SDK's analyzer service over the pack, configured with the stack's policy config file."""
    policies = pack_policies(run)
    service = _PolicyAnalyzerServicer(PACK_NAME, "0.1.0", policies, PACK_ENFORCEMENT)
    settings = read_pack_config(PACK_DIR / f"{stack}.json", f"policies/{stack}.json", policies)
    for name, properties in overrides.items():
        settings[name] = PolicySettings(settings[name].level, {**settings[name].properties, **properties})
    request = proto.ConfigureAnalyzerRequest()
    for name, setting in settings.items():
        request.policyConfig[name].CopyFrom(
            proto.PolicyConfig(enforcementLevel=_LEVELS[setting.level], properties=_struct(setting.properties))
        )
    service.Configure(request, None)
    return service


def bucket_request(name: str, protect: bool) -> proto.AnalyzeRequest:
    return proto.AnalyzeRequest(
        type=types.R2_BUCKET,
        urn=f"urn:pulumi:prod::blaze-infra::blaze:r2:Bucket${types.R2_BUCKET}::blaze-media-bucket",
        name="blaze-media-bucket",
        properties=_struct({"accountId": "5c0f4e2d9a8b47c6b1e3d2f0a9c8b7e6", "name": name}),
        options=proto.AnalyzerResourceOptions(protect=protect, parent=BUCKET_PARENT),
    )


def diagnostics(response: proto.AnalyzeResponse) -> list[tuple[str, int, str]]:
    return [(d.policyName, d.enforcementLevel, d.message) for d in response.diagnostics]


def test_the_analyzer_lists_every_rule_with_its_metadata_and_config_schema() -> None:
    info = _PolicyAnalyzerServicer(PACK_NAME, "0.1.0", pack_policies(context()), PACK_ENFORCEMENT).GetAnalyzerInfo(
        empty_pb2.Empty(), None
    )
    policies = {p.name: p for p in info.policies}
    assert set(policies) == RULE_IDS | {WAIVED_FINDINGS}
    for rule in RULES:
        listed = policies[rule.info.id]
        assert (listed.description, listed.remediation_steps, listed.url) == (
            rule.info.description, rule.info.remediation, rule.info.docs,
        ), rule.info.id
        assert listed.enforcementLevel == proto.ADVISORY, rule.info.id
        assert list(listed.configSchema.required) == [f.alias for f in rule.config.model_fields.values()], rule.info.id


def test_a_resource_rule_is_judged_with_the_stacks_config() -> None:
    # A prod-style bucket name: right for prod's pattern, wrong for staging's.
    assert diagnostics(analyzer("prod", context()).Analyze(bucket_request("blaze-media", protect=True), None)) == []
    found = diagnostics(analyzer("staging", context()).Analyze(bucket_request("blaze-media", protect=True), None))
    assert [(name, level) for name, level, _ in found] == [("blaze-naming-stack-pattern", proto.MANDATORY)]
    assert "does not match the stack's name pattern ^blaze(-[a-z0-9]+)+-staging$" in found[0][2]


def test_a_disabled_rule_does_not_run() -> None:
    # blaze-data-protected is disabled in staging and mandatory in prod.
    unprotected = bucket_request("blaze-media-staging", protect=False)
    assert diagnostics(analyzer("staging", context()).Analyze(unprotected, None)) == []
    prod = diagnostics(analyzer("prod", context()).Analyze(bucket_request("blaze-media", protect=False), None))
    assert [(name, level) for name, level, _ in prod] == [("blaze-data-protected", proto.MANDATORY)]


def _stack_resource(typ: str, name: str, props: Mapping[str, Any]) -> proto.AnalyzerResource:
    return proto.AnalyzerResource(
        type=typ, name=name, urn=f"urn:pulumi:prod::blaze-infra::{typ}::{name}", properties=_struct(props),
        options=proto.AnalyzerResourceOptions(), parent=STACK_URN,
    )


def test_a_stack_rule_is_judged_with_the_stacks_config() -> None:
    scripts = [_stack_resource(types.WORKERS_SCRIPT, f"w{i}", {"scriptName": f"blaze-w{i}"}) for i in range(2)]
    request = proto.AnalyzeStackRequest(resources=scripts)
    assert diagnostics(analyzer("prod", context()).AnalyzeStack(request, None)) == []
    found = diagnostics(analyzer("prod", context(), **{"blaze-account-limits": {"maxWorkers": 1}}).AnalyzeStack(request, None))
    assert [(name, level) for name, level, _ in found] == [("blaze-account-limits", proto.MANDATORY)]
    assert "the stack declares 2 Workers, over its limit of 1" in found[0][2]


def test_a_waived_finding_blocks_nothing_and_is_reported_as_advisory_with_its_reason() -> None:
    reason = "Exported nightly to a second account; recreating it is part of the drill"
    waiver = Waiver("blaze-data-protected", "blaze:r2:Bucket", "blaze-media", reason, "stacks/catalog/buckets.yaml")
    service = analyzer("prod", context(Waivers([waiver])))
    assert diagnostics(service.Analyze(bucket_request("blaze-media", protect=False), None)) == []
    found = diagnostics(service.AnalyzeStack(proto.AnalyzeStackRequest(resources=[]), None))
    assert [(name, level) for name, level, _ in found] == [(WAIVED_FINDINGS, proto.ADVISORY)]
    assert "[waived] blaze-data-protected on cloudflare:index/r2Bucket:R2Bucket::blaze-media-bucket" in found[0][2]
    assert reason in found[0][2]


def test_the_packs_entry_point_starts_the_analyzer_the_way_the_engine_runs_it() -> None:
    # The engine runs `python -m pulumi.policy <engine> .` in the pack folder; the pack
    # prints the port of its analyzer and serves until stopped.
    process = subprocess.Popen(
        [sys.executable, "-m", "pulumi.policy", "127.0.0.1:0", "."],
        cwd=PACK_DIR, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("PULUMI_")},
    )
    try:
        ready, _, _ = select.select([process.stdout], [], [], 60)
        assert ready, "the pack printed no port within 60 s"
        port = process.stdout.readline().strip()
        assert port.isdigit(), process.stderr.read() if process.poll() is not None else port
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            info = proto.AnalyzerStub(channel).GetAnalyzerInfo(empty_pb2.Empty(), timeout=30)
        assert info.name == PACK_NAME
        assert {p.name for p in info.policies} == RULE_IDS | {WAIVED_FINDINGS}
    finally:
        process.terminate()
        process.wait(timeout=30)
        process.stdout.close()
        process.stderr.close()
