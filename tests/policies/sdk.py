"""Real pulumi_policy argument objects for the rules' tests, and a report that records findings."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any, Mapping, Optional

from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    StackValidationArgs,
)

from policies.framework import ObservedOptions, ResourceRule, RunContext, StackRule, Waivers

# The day the tests judge compatibility dates against: never the machine's clock.
PINNED_TODAY = datetime.date(2026, 9, 1)
STACK = "test"
PROJECT = "blaze-infra"


def urn(resource_type: str, name: str, parent_type: str = "blaze:fleet:Fleet") -> str:
    return f"urn:pulumi:{STACK}::{PROJECT}::{parent_type}${resource_type}::{name}"


def context(waivers: Waivers | None = None) -> RunContext:
    return RunContext(waivers=waivers or Waivers(), today=lambda: PINNED_TODAY)


def engine_options(protect: bool = False, parent: Optional[str] = None) -> PolicyResourceOptions:
    """Options as the engine sends them: no retainOnDelete, secrets already unwrapped."""
    return PolicyResourceOptions(protect, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], parent)


def plan_options(protect: bool = False, retain_on_delete: bool = False, parent: Optional[str] = None) -> ObservedOptions:
    return ObservedOptions(protect=protect, retain_on_delete=retain_on_delete, parent=parent)


@dataclass
class Recorder:
    """A report_violation that keeps what the policy reported."""

    found: list[tuple[str, Optional[str]]] = field(default_factory=list)

    def __call__(self, message: str, urn: Optional[str] = None) -> None:
        self.found.append((message, urn))

    @property
    def messages(self) -> list[str]:
        return [message for message, _ in self.found]


def validate_resource(
    rule: ResourceRule[Any],
    resource_type: str,
    props: Mapping[str, Any],
    config: Mapping[str, Any] | None = None,
    *,
    name: str = "subject",
    opts: PolicyResourceOptions | None = None,
    run: RunContext | None = None,
) -> list[str]:
    """What the rule's policy reports for one resource, called the way the analyzer calls it."""
    recorder = Recorder()
    args = ResourceValidationArgs(
        resource_type, props, urn(resource_type, name), name, opts or plan_options(), None, dict(config or {})
    )
    rule.policy(run or context()).validate(args, recorder)
    return recorder.messages


def resource(
    resource_type: str,
    name: str,
    props: Mapping[str, Any],
    *,
    opts: PolicyResourceOptions | None = None,
    dependencies: list[PolicyResource] | None = None,
) -> PolicyResource:
    return PolicyResource(
        resource_type, props, urn(resource_type, name), name, opts or plan_options(), None, None,
        list(dependencies or []), {},
    )


def validate_stack(
    rule: StackRule[Any],
    resources: list[PolicyResource],
    config: Mapping[str, Any] | None = None,
    run: RunContext | None = None,
) -> list[tuple[str, Optional[str]]]:
    """What the rule's policy reports over a stack: (message, urn) pairs."""
    recorder = Recorder()
    rule.policy(run or context()).validate(StackValidationArgs(resources, dict(config or {})), recorder)
    return recorder.found
