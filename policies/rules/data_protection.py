"""Data (D1, KV, R2) is protected from deletion and retained when dropped from the program."""

from __future__ import annotations

from typing import Iterator

from pulumi_policy import ResourceValidationArgs, Severity

from policies import resource_types as types
from policies.framework import NoConfig, ResourceRule, RuleInfo, RunContext, observed


def check(args: ResourceValidationArgs, config: NoConfig, context: RunContext) -> Iterator[str]:
    if not args.opts.protect:
        yield "is not protected: a `pulumi destroy` or a removed catalog entry would delete its data"
    options = observed(args.opts)
    if options is not None and not options.retain_on_delete:
        yield "is not retained on delete: dropping it from the program would delete it in the account"


RULE = ResourceRule(
    info=RuleInfo(
        id="blaze-data-protected",
        title="Data is protected and retained",
        description="Every D1 database, KV namespace and R2 bucket is protected and retained on delete.",
        severity=Severity.CRITICAL,
        remediation=(
            "Set protectData: true in the stack's Pulumi.<stack>.yaml; components/data.py then sets protect "
            "and retain_on_delete on every data resource."
        ),
        docs="https://www.pulumi.com/docs/iac/concepts/options/retainondelete/",
        tags=("data", "durability"),
    ),
    config=NoConfig,
    resource_types=types.DATA,
    check=check,
)
