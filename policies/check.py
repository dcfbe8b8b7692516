"""Run the policy pack offline over a plan file: `python -m policies.check <stack> [--plan FILE]`.

The pack is the one `pulumi preview --policy-pack policies` runs (policies/pack.py), with the
stack's policy config (policies/<stack>.json) and the catalog's waivers, over the plan that
`python -m local.plan <stack>` wrote (build/plan/<stack>.json unless --plan names another).
Every finding is printed with its rule id, resource, level and message; a waived finding
is printed too, marked waived, with its waiver's reason.

Exit codes: 0 no mandatory violation (advisories may be printed); 1 at least one mandatory
violation; 3 the plan file cannot be read or is not a plan of this stack (nothing was
checked); 4 the policy config or a catalog waiver is wrong (nothing was checked).
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from pulumi_policy import (
    EnforcementLevel,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Secret,
    StackValidationArgs,
    StackValidationPolicy,
)
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from policies.config import PolicySettings, read_pack_config
from policies.framework import ObservedOptions, RunContext, WaivedFinding, resource_label
from policies.pack import WaivedFindingsReport, load_waivers, pack_policies, waived_message
from stacks import PROJECT_ROOT, InputError
from stacks.stack_file import REDACTED

EXIT_PASSED = 0
EXIT_VIOLATIONS = 1
EXIT_BAD_PLAN = 3
EXIT_BAD_CONFIG = 4


class PlanFileError(Exception):
    """The plan file cannot be read, or is not the plan of the stack being checked."""


class _PlanModel(BaseModel):
    # Only what the check reads is required; keys the plan format may gain are ignored.
    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)


class PlanOptions(_PlanModel):
    protect: bool
    retainOnDelete: bool  # noqa: N815 - the plan file's own key
    dependsOn: list[str]  # noqa: N815


class PlanResource(_PlanModel):
    type: str = Field(min_length=1)
    name: str = Field(min_length=1)
    urn: str = Field(pattern=r"^urn:pulumi:[^:]+::[^:]+::[^:]+(:[^:]+)*(\$[^:]+(:[^:]+)*)*::.+$")
    parent: str
    id: str = ""  # plans written before ids were recorded have none
    inputs: dict[str, Any]
    options: PlanOptions


class PlanDocument(_PlanModel):
    stack: str
    resources: list[PlanResource] = Field(min_length=1)
    outputs: dict[str, Any]


def read_plan(path: Path, stack: str) -> PlanDocument:
    try:
        document = json.loads(path.read_bytes())
    except OSError as err:
        raise PlanFileError(f"cannot read {path}: {err.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise PlanFileError(f"{path} is not JSON: {err}") from None
    try:
        plan = PlanDocument.model_validate(document)
    except ValidationError as err:
        first = err.errors(include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"]) or "the document"
        raise PlanFileError(f"{path} is not a plan file: {where}: {first['msg']}") from None
    if plan.stack != stack:
        raise PlanFileError(f"{path} is the plan of stack {plan.stack!r}, not {stack!r}")
    return plan


def _with_secrets(value: Any) -> Any:
    """Plan inputs with each redacted secret as a `pulumi_policy.Secret`, how the pack sees secrets."""
    if value == REDACTED:
        return Secret(REDACTED)
    if isinstance(value, dict):
        return {key: _with_secrets(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_with_secrets(item) for item in value]
    return value


def _options(resource: PlanResource) -> ObservedOptions:
    return ObservedOptions(
        protect=resource.options.protect,
        retain_on_delete=resource.options.retainOnDelete,
        parent=resource.parent or None,
    )


def _props(resource: PlanResource) -> dict[str, Any]:
    """What the analyzer shows of a resource whose state exists: its inputs and its `id`.

    The mocks assign every id, so the offline plan is the case of a refreshed stack, where
    the ids of the stack's databases and namespaces are known and bindings can be compared
    with them by value.
    """
    props = _with_secrets(resource.inputs)
    return {**props, "id": resource.id} if resource.id else props


def _stack_resources(plan: PlanDocument) -> list[PolicyResource]:
    """The plan's resources linked to their parents and dependencies, as the analyzer links them."""
    resources = {
        r.urn: PolicyResource(r.type, _props(r), r.urn, r.name, _options(r), None, None, [], {})
        for r in plan.resources
    }
    for r in plan.resources:
        resources[r.urn].parent = resources.get(r.parent)
        resources[r.urn].dependencies = [resources[urn] for urn in r.options.dependsOn if urn in resources]
    return list(resources.values())


@dataclass(frozen=True)
class Violation:
    rule: str
    urn: Optional[str]
    level: EnforcementLevel
    message: str


@dataclass
class Outcome:
    """What one check found: violations by level, and the findings the catalog waives."""

    violations: list[Violation] = field(default_factory=list)
    waived: list[WaivedFinding] = field(default_factory=list)

    def at(self, level: EnforcementLevel) -> list[Violation]:
        return [v for v in self.violations if v.level is level]

    @property
    def passed(self) -> bool:
        return not self.at(EnforcementLevel.MANDATORY)


def _collector(outcome: Outcome, rule: str, level: EnforcementLevel, default_urn: Optional[str]) -> ReportViolation:
    # Like the analyzer, a resource policy's violation is about the resource it judged.
    def report(message: str, urn: Optional[str] = None) -> None:
        outcome.violations.append(Violation(rule, urn or default_urn, level, message))

    return report


def check_plan(plan: PlanDocument, settings: dict[str, PolicySettings], context: RunContext) -> Outcome:
    """Run every enabled policy of the pack over the plan, as the engine would over a preview."""
    outcome = Outcome()
    resources = _stack_resources(plan)
    for policy in pack_policies(context):
        setting = settings[policy.name]
        # Offline, waived findings come from the ledger directly, with their waiver.
        if setting.level is EnforcementLevel.DISABLED or isinstance(policy, WaivedFindingsReport):
            continue
        config = dict(setting.properties)
        if isinstance(policy, ResourceValidationPolicy):
            for r in resources:
                args = ResourceValidationArgs(r.resource_type, r.props, r.urn, r.name, r.opts, None, config)
                policy.validate(args, _collector(outcome, policy.name, setting.level, r.urn))
        elif isinstance(policy, StackValidationPolicy):
            policy.validate(StackValidationArgs(resources, config), _collector(outcome, policy.name, setting.level, None))
    outcome.violations.sort(key=lambda v: (v.level is not EnforcementLevel.MANDATORY, v.rule, v.urn or ""))
    outcome.waived = context.ledger.findings()
    return outcome


def render(outcome: Outcome) -> list[str]:
    lines = []
    for violation in outcome.violations:
        where = resource_label(violation.urn) if violation.urn else "(stack)"
        lines.append(f"{violation.level.value.upper():<10} {violation.rule}  {where}\n           {violation.message}")
    for finding in outcome.waived:
        lines.append(f"{'WAIVED':<10} {waived_message(finding.rule, finding.urn, finding.message, finding.waiver)}")
    mandatory = len(outcome.at(EnforcementLevel.MANDATORY))
    advisory = len(outcome.at(EnforcementLevel.ADVISORY))
    verdict = "passed" if outcome.passed else "FAILED"
    lines.append(
        f"{verdict}: {mandatory} mandatory violation(s), {advisory} advisory, {len(outcome.waived)} waived"
    )
    return lines


def _shown(path: Path) -> str:
    return str(path.relative_to(PROJECT_ROOT) if path.is_relative_to(PROJECT_ROOT) else path)


def _date(text: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a YYYY-MM-DD date") from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("stack", help="stack name; reads policies/<stack>.json")
    parser.add_argument("--plan", type=Path, help="plan file (default build/plan/<stack>.json)")
    parser.add_argument("--config", type=Path, help="policy config (default policies/<stack>.json)")
    parser.add_argument("--today", type=_date, help="the date to judge compatibility dates against (default: today)")
    args = parser.parse_args(argv)

    plan_path = args.plan or PROJECT_ROOT / "build" / "plan" / f"{args.stack}.json"
    config_path = args.config or PROJECT_ROOT / "policies" / f"{args.stack}.json"
    config_file = _shown(config_path)
    context_kwargs = {"today": (lambda: args.today)} if args.today else {}
    try:
        context = RunContext(waivers=load_waivers(PROJECT_ROOT), **context_kwargs)
        settings = read_pack_config(config_path, config_file, pack_policies(context))
    except InputError as err:
        print(f"error: {err}; nothing was checked", file=sys.stderr)
        return EXIT_BAD_CONFIG
    try:
        plan = read_plan(plan_path, args.stack)
    except PlanFileError as err:
        print(f"error: {err}; nothing was checked (write a plan with: make plan STACK={args.stack})", file=sys.stderr)
        return EXIT_BAD_PLAN

    outcome = check_plan(plan, settings, context)
    print(f"policy check of stack {args.stack}: {_shown(plan_path)} ({len(plan.resources)} resources), config {config_file}")
    print("\n".join(render(outcome)))
    return EXIT_PASSED if outcome.passed else EXIT_VIOLATIONS


if __name__ == "__main__":
    sys.exit(main())
