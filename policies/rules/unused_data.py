"""A D1 database, KV namespace or bucket that no Worker binds is reported."""

from __future__ import annotations

from typing import Iterator

from pulumi_policy import Severity, StackValidationArgs

from policies import resource_types as types
from policies.framework import Finding, NoConfig, RuleInfo, RunContext, StackRule, of_type, plain

_KIND = {types.D1_DATABASE: "D1 database", types.KV_NAMESPACE: "KV namespace", types.R2_BUCKET: "R2 bucket"}


def check(args: StackValidationArgs, config: NoConfig, context: RunContext) -> Iterator[Finding]:
    resources = list(args.resources)
    # A binding takes its target's id or name output, so the Worker depends on the target.
    bound = {dep.urn for script in of_type(resources, types.WORKERS_SCRIPT) for dep in script.dependencies}
    for resource in of_type(resources, *types.DATA):
        if resource.urn not in bound:
            yield Finding(
                f"{_KIND[resource.resource_type]} {plain(resource.props.get(types.NAME_INPUTS[resource.resource_type]))} is bound by no Worker: it costs and holds data "
                "that nothing serves",
                resource.urn,
            )


RULE = StackRule(
    info=RuleInfo(
        id="blaze-data-unused",
        title="No unused data resources",
        description="Every D1 database, KV namespace and R2 bucket is bound by at least one Worker.",
        severity=Severity.LOW,
        remediation=(
            "Bind it from the Worker that needs it in stacks/catalog/workers.yaml, or remove its catalog entry "
            "once its data is exported (prod keeps it in the account: it is retained on delete)."
        ),
        docs="https://developers.cloudflare.com/workers/runtime-apis/bindings/",
        tags=("data", "cost", "hygiene"),
    ),
    config=NoConfig,
    check=check,
)
