"""How a rule becomes a pulumi-policy policy: metadata, config, findings and waivers.

A rule is a pure function over one resource (or the whole stack) that yields what is
wrong. This module wraps it in a real `pulumi_policy` policy class, so `pulumi preview
--policy-pack policies` and the offline runner (`policies/check.py`) run the same objects
with the same config and the same waivers.
"""

from __future__ import annotations

import datetime
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Callable, Generic, Iterable, Iterator, Optional, TypeVar

from pulumi_policy import (
    PolicyConfigSchema,
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Secret,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)
from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic.alias_generators import to_camel


@dataclass(frozen=True)
class RuleInfo:
    """What a rule is, for people: shown by `pulumi preview`, Pulumi Cloud and RULES.md."""

    id: str  # stable and never reused, even after the rule is removed
    title: str
    description: str  # one line: what must hold
    severity: Severity
    remediation: str
    docs: str  # a page that explains the underlying Cloudflare or Pulumi behaviour
    tags: tuple[str, ...]


class RuleConfig(BaseModel):
    """A rule's policy config: the camelCase keys of its entry in policies/<stack>.json.

    Unknown keys fail. Not strict: the engine passes numbers through protobuf as floats.
    """

    model_config = ConfigDict(
        extra="forbid", frozen=True, alias_generator=to_camel, validate_by_name=False, validate_by_alias=True
    )


class NoConfig(RuleConfig):
    """For rules that take no settings beyond their enforcement level."""


C = TypeVar("C", bound=RuleConfig)


def config_schema(model: type[RuleConfig]) -> Optional[PolicyConfigSchema]:
    """The JSON schema the Pulumi CLI validates policies/<stack>.json against, from the model."""
    schema = model.model_json_schema(by_alias=True)
    properties = {
        key: {k: v for k, v in spec.items() if k != "title"} for key, spec in schema.get("properties", {}).items()
    }
    if not properties:
        return None
    return PolicyConfigSchema(properties=properties, required=schema.get("required") or None)


class ConfigError(ValueError):
    """A rule's policy config does not fit its model (missing, mistyped or unknown property)."""

    def __init__(self, rule: str, field: str, problem: str) -> None:
        self.rule = rule
        self.field = field
        self.problem = problem
        super().__init__(f"{rule}: policy config {field}: {problem} (policies/<stack>.json sets it under {rule!r})")


def read_config(rule_id: str, model: type[C], given: Mapping[str, Any]) -> C:
    try:
        return model.model_validate(dict(given))
    except ValidationError as err:
        first = err.errors(include_url=False)[0]
        problem = "unknown property (check the spelling)" if first["type"] == "extra_forbidden" else first["msg"]
        raise ConfigError(rule_id, ".".join(str(part) for part in first["loc"]) or "-", problem) from None


class ObservedOptions(PolicyResourceOptions):
    """Resource options as the offline plan records them, with what the engine does not send.

    The Pulumi engine gives a policy pack neither `retainOnDelete` (absent from its
    AnalyzerResourceOptions) nor which values are secrets (pulumi-policy unwraps them before
    `validate`). The plan file keeps both: with these options, props carry every secret
    value as a `pulumi_policy.Secret`, so a plain value is known to be plain.
    """

    def __init__(self, *, protect: bool, retain_on_delete: bool, parent: Optional[str]) -> None:
        super().__init__(
            protect=protect,
            ignore_changes=[],
            delete_before_replace=None,
            aliases=[],
            custom_timeouts=PolicyCustomTimeouts(0, 0, 0),
            additional_secret_outputs=[],
            parent=parent,
        )
        self.retain_on_delete = retain_on_delete


def observed(opts: PolicyResourceOptions) -> Optional[ObservedOptions]:
    """The plan's extra facts, or None when they cannot be known (a run inside the engine)."""
    return opts if isinstance(opts, ObservedOptions) else None


def items(value: Any) -> list[Any]:
    """A list property as a list; the engine hands lists over as read-only proxies."""
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        return list(value)
    return []


def fields(value: Any) -> Mapping[str, Any]:
    """An object property as a mapping (empty when absent)."""
    return value if isinstance(value, Mapping) else {}


def is_secret(value: Any) -> bool:
    return isinstance(value, Secret)


def plain(value: Any) -> Any:
    """The value itself, whether or not it is marked secret."""
    return value.value if isinstance(value, Secret) else value


def resource_label(urn: str) -> str:
    """`type::name` from a URN: unique within a stack, and short enough to read."""
    _, _, type_chain, name = urn.split("::", 3)
    return f"{type_chain.rsplit('$', 1)[-1]}::{name}"


@dataclass(frozen=True)
class Finding:
    """One thing a stack rule found wrong; `urn` is None when it concerns the stack as a whole."""

    message: str
    urn: Optional[str] = None


@dataclass(frozen=True)
class Waiver:
    """A catalog entry's waiver: this rule does not apply to this entry's resources, because `reason`."""

    rule: str
    component_type: str  # the component that builds the entry, e.g. blaze:worker:WorkerService
    entry: str  # the catalog name, which is also the component's resource name
    reason: str
    file: str


@dataclass(frozen=True)
class WaivedFinding:
    rule: str
    urn: str
    message: str
    waiver: Waiver


class WaivedLedger:
    """Findings waived during this run, kept to be printed: a waiver hides nothing.

    Analyze calls arrive on the analyzer's worker threads, hence the lock; a set, because
    `pulumi up` may analyze the same resource in its preview and its update.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._found: set[WaivedFinding] = set()

    def record(self, finding: WaivedFinding) -> None:
        with self._lock:
            self._found.add(finding)

    def findings(self) -> list[WaivedFinding]:
        with self._lock:
            return sorted(self._found, key=lambda f: (f.rule, f.urn, f.message))


class Waivers:
    """Every waiver of the catalog, looked up by rule and by the finding's parent component."""

    def __init__(self, waivers: Iterable[Waiver] = ()) -> None:
        self.all = tuple(waivers)
        self._by_key = {(w.rule, w.component_type, w.entry): w for w in self.all}

    def covering(self, rule: str, parent_urn: Optional[str]) -> Optional[Waiver]:
        if not parent_urn:
            return None
        _, _, type_chain, name = parent_urn.split("::", 3)
        return self._by_key.get((rule, type_chain.rsplit("$", 1)[-1], name))


@dataclass
class RunContext:
    """What every policy of one run shares: the catalog's waivers, the ledger and the clock.

    The clock is read by the compatibility-date rule only; tests and `--today` pin it.
    """

    waivers: Waivers = field(default_factory=Waivers)
    ledger: WaivedLedger = field(default_factory=WaivedLedger)
    today: Callable[[], datetime.date] = datetime.date.today

    def report(
        self, rule: str, urn: Optional[str], message: str, parent_urn: Optional[str], report_violation: ReportViolation
    ) -> None:
        waiver = self.waivers.covering(rule, parent_urn)
        if waiver is not None and urn is not None:
            self.ledger.record(WaivedFinding(rule, urn, message, waiver))
        else:
            report_violation(message, urn)


def _policy_fields(info: RuleInfo, config: type[RuleConfig]) -> dict[str, Any]:
    return {
        "name": info.id,
        "description": info.description,
        "display_name": info.title,
        "severity": info.severity,
        "remediation_steps": info.remediation,
        "url": info.docs,
        "tags": list(info.tags),
        "config_schema": config_schema(config),
    }


ResourceCheck = Callable[[ResourceValidationArgs, C, RunContext], Iterable[str]]
StackCheck = Callable[[StackValidationArgs, C, RunContext], Iterable[Finding]]


@dataclass(frozen=True)
class ResourceRule(Generic[C]):
    """A rule judged one resource at a time, for the resource types it names."""

    info: RuleInfo
    config: type[C]
    resource_types: tuple[str, ...]
    check: ResourceCheck[C]

    def policy(self, context: RunContext) -> ResourceValidationPolicy:
        return _ResourcePolicy(self, context)


@dataclass(frozen=True)
class StackRule(Generic[C]):
    """A rule judged over every resource of the stack at once."""

    info: RuleInfo
    config: type[C]
    check: StackCheck[C]

    def policy(self, context: RunContext) -> StackValidationPolicy:
        return _StackPolicy(self, context)


Rule = ResourceRule[Any] | StackRule[Any]


class _ResourcePolicy(ResourceValidationPolicy):
    def __init__(self, rule: ResourceRule[Any], context: RunContext) -> None:
        super().__init__(**_policy_fields(rule.info, rule.config))
        self.rule = rule
        self._context = context

    def validate(self, args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if args.resource_type not in self.rule.resource_types:
            return
        config = read_config(self.rule.info.id, self.rule.config, args.get_config())
        for message in self.rule.check(args, config, self._context):
            self._context.report(self.rule.info.id, args.urn, message, args.opts.parent, report_violation)


class _StackPolicy(StackValidationPolicy):
    def __init__(self, rule: StackRule[Any], context: RunContext) -> None:
        super().__init__(**_policy_fields(rule.info, rule.config))
        self.rule = rule
        self._context = context

    def validate(self, args: StackValidationArgs, report_violation: ReportViolation) -> None:
        config = read_config(self.rule.info.id, self.rule.config, args.get_config())
        parents = {resource.urn: resource.opts.parent for resource in args.resources}
        for finding in self.rule.check(args, config, self._context):
            self._context.report(
                self.rule.info.id, finding.urn, finding.message, parents.get(finding.urn or ""), report_violation
            )


def of_type(resources: Iterable[PolicyResource], *types: str) -> Iterator[PolicyResource]:
    return (r for r in resources if r.resource_type in types)
