"""A stack's policy config file (policies/<stack>.json), read the way the Pulumi CLI reads it.

The format is pulumi-policy's own (`--policy-pack-config`): `"all"` sets every policy's
enforcement level; a policy's key takes a level, or an object with `enforcementLevel` and
the policy's config properties. The CLI starts from each policy's own level (else the
pack's), applies `"all"`, then the policy's entry, and checks properties against the
policy's schema. This reader does the same, validating with jsonschema against the schema
each policy emits (`config_schema`, which the CLI checks with its own JSON Schema
validator), and is stricter where the CLI is silent: an unknown policy name or property
is an error here, not a setting that does nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from jsonschema import Draft7Validator
from jsonschema.exceptions import ValidationError, best_match
from pulumi_policy import EnforcementLevel, Policy

from policies.framework import ConfigError, read_config
from policies.pack import PACK_ENFORCEMENT, WAIVED_FINDINGS
from policies.registry import RULES
from stacks.errors import InputError

ALL = "all"
_LEVEL_KEY = "enforcementLevel"
# The levels a file may set: no rule of this pack remediates.
_LEVELS = {level.value: level for level in EnforcementLevel if level is not EnforcementLevel.REMEDIATE}
_LEVEL = {"enum": sorted(_LEVELS)}


@dataclass(frozen=True)
class PolicySettings:
    """One policy's resolved settings: its enforcement level and its config properties."""

    level: EnforcementLevel
    properties: Mapping[str, Any]


def file_schema(policies: list[Policy]) -> dict[str, Any]:
    """The file's shape: keys `all` or a policy's name, each a level or an object with one."""

    def entry(properties: bool) -> dict[str, Any]:
        given = {"properties": {_LEVEL_KEY: _LEVEL}} | ({} if properties else {"additionalProperties": False})
        return {"type": ["string", "object"], "if": {"type": "string"}, "then": _LEVEL, "else": given}

    names = [policy.name for policy in policies]
    return {
        "type": "object",
        "propertyNames": {"enum": [ALL, *names]},
        "properties": {ALL: entry(properties=False), **{name: entry(properties=True) for name in names}},
    }


def properties_schema(policy: Policy) -> dict[str, Any]:
    """What the CLI checks a policy's properties against, and no property the policy does not name.

    The CLI wraps the emitted `config_schema` the same way (pkg/resource/analyzer/config.go,
    convertSchema), without `additionalProperties`, and checks `{}` when the file has no entry.
    """
    schema: dict[str, Any] = {"type": "object", "additionalProperties": False}
    if policy.config_schema is not None:
        schema["properties"] = policy.config_schema.properties
        if policy.config_schema.required:
            schema["required"] = policy.config_schema.required
    return schema


def _file_error(file: str, err: ValidationError) -> InputError:
    if err.schema_path[0] == "propertyNames":
        return InputError(file, err.instance, "-", "no policy of this name in the pack (policies/RULES.md lists them)")
    if not err.absolute_path:
        return InputError(file, "json", "-", "must be an object of policy names")
    key = err.absolute_path[0]
    if err.validator == "type":
        return InputError(file, key, "-", "must be an enforcement level or an object")
    if err.validator == "additionalProperties":  # only `all` refuses properties
        extra = sorted(set(err.instance) - {_LEVEL_KEY})
        return InputError(file, ALL, ", ".join(extra), "'all' takes only an enforcement level")
    return InputError(file, key, _LEVEL_KEY, f"{err.instance!r} is not one of {', '.join(sorted(_LEVELS))}")


def _properties_error(file: str, name: str, schema: Mapping[str, Any], err: ValidationError) -> InputError:
    if err.validator == "additionalProperties" and not err.absolute_path:
        named = schema.get("properties", {})
        problem = "unknown property (check the spelling)" if named else "this policy takes no properties"
        return InputError(file, name, ", ".join(sorted(set(err.instance) - set(named))), problem)
    field = list(err.absolute_path)
    if err.validator == "required":
        field.append(next(p for p in err.validator_value if p not in err.instance))
    return InputError(file, name, ".".join(map(str, field)) or "-", err.message)


def parse_pack_config(text: str, file: str, policies: list[Policy]) -> dict[str, PolicySettings]:
    """Every policy's settings from the file's text; `file` names it in errors."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as err:
        raise InputError(file, "json", f"line {err.lineno}, column {err.colno}", err.msg) from None
    # Draft 7, the newest the CLI's validator (gojsonschema) implements.
    error = best_match(Draft7Validator(file_schema(policies)).iter_errors(document))
    if error is not None:
        raise _file_error(file, error)

    names = [policy.name for policy in policies]
    levels = {p.name: p.enforcement_level or PACK_ENFORCEMENT for p in policies}
    properties: dict[str, dict[str, Any]] = {name: {} for name in names}
    entries = {key: {_LEVEL_KEY: value} if isinstance(value, str) else dict(value) for key, value in document.items()}
    all_level = entries.pop(ALL, {}).get(_LEVEL_KEY)
    if all_level is not None:
        levels = {name: _LEVELS[all_level] for name in names}
    for key, given in entries.items():
        if _LEVEL_KEY in given:
            levels[key] = _LEVELS[given.pop(_LEVEL_KEY)]
        properties[key].update(given)

    rules = {rule.info.id: rule for rule in RULES}
    for policy in policies:
        schema = properties_schema(policy)
        error = best_match(Draft7Validator(schema).iter_errors(properties[policy.name]))
        if error is not None:
            raise _properties_error(file, policy.name, schema, error)
        if policy.name in rules:
            # The rule's own model checks what a schema cannot say (a pattern that must compile).
            try:
                read_config(policy.name, rules[policy.name].config, properties[policy.name])
            except ConfigError as err:
                raise InputError(file, policy.name, err.field, err.problem) from None
    if levels[WAIVED_FINDINGS] is not EnforcementLevel.ADVISORY:
        raise InputError(
            file, WAIVED_FINDINGS, _LEVEL_KEY,
            "must be 'advisory': waived findings are printed, never enforced (set it after 'all')",
        )
    return {name: PolicySettings(levels[name], properties[name]) for name in names}


def read_pack_config(path: Path, file: str, policies: list[Policy]) -> dict[str, PolicySettings]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(file, "file", "-", f"cannot be read: {getattr(err, 'strerror', None) or err}") from None
    return parse_pack_config(text, file, policies)
