"""Every Cloudflare resource's own name follows the stack's naming pattern."""

from __future__ import annotations

import re
from typing import Annotated, Iterator

from pulumi_policy import ResourceValidationArgs, Severity
from pydantic import AfterValidator, Field

from policies import resource_types as types
from policies.framework import ResourceRule, RuleConfig, RuleInfo, RunContext, plain

def _regex(value: str) -> str:
    try:
        re.compile(value)
    except re.error as err:
        raise ValueError(f"{value!r} is not a regular expression: {err}") from None
    return value


class Config(RuleConfig):
    name_pattern: Annotated[
        str,
        AfterValidator(_regex),
        Field(description="Regular expression (Python syntax) that every resource name of the stack matches in full"),
    ]


def check(args: ResourceValidationArgs, config: Config, context: RunContext) -> Iterator[str]:
    key = types.NAME_INPUTS[args.resource_type]
    name = plain(args.props.get(key))
    if not isinstance(name, str) or re.fullmatch(config.name_pattern, name) is None:
        yield f"{key} {name!r} does not match the stack's name pattern {config.name_pattern}"


RULE = ResourceRule(
    info=RuleInfo(
        id="blaze-naming-stack-pattern",
        title="Names follow the stack's pattern",
        description="Every Cloudflare resource's name matches its stack's naming pattern.",
        severity=Severity.MEDIUM,
        remediation=(
            "Derive the name from the catalog name with the stack's namePattern (Settings.physical_name) "
            "instead of writing it by hand; staging and prod share one account, so a prod-style name in "
            "staging would collide with or overwrite the live resource."
        ),
        docs="https://www.pulumi.com/docs/iac/concepts/resources/names/",
        tags=("naming", "isolation"),
    ),
    config=Config,
    resource_types=tuple(types.NAME_INPUTS),
    check=check,
)
