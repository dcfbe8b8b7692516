"""A stack's policy config file (policies/<stack>.json), read the way the Pulumi CLI reads it.

The format is pulumi-policy's own (`--policy-pack-config`): `"all"` sets every policy's
enforcement level; a policy's key takes a level, or an object with `enforcementLevel` and
the policy's config properties. The CLI starts from each policy's own level (else the
pack's), applies `"all"`, then the policy's entry, and checks properties against the
policy's schema. This reader does the same, and is stricter where the CLI is silent: an
unknown policy name or property is an error here, not a setting that does nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from pulumi_policy import EnforcementLevel, Policy

from policies.framework import ConfigError, read_config
from policies.pack import PACK_ENFORCEMENT, WAIVED_FINDINGS
from policies.registry import RULES
from stacks.errors import InputError

ALL = "all"
_LEVEL_KEY = "enforcementLevel"
# The levels a file may set: no rule of this pack remediates.
_LEVELS = {level.value: level for level in EnforcementLevel if level is not EnforcementLevel.REMEDIATE}


@dataclass(frozen=True)
class PolicySettings:
    """One policy's resolved settings: its enforcement level and its config properties."""

    level: EnforcementLevel
    properties: Mapping[str, Any]


def _level(value: Any, file: str, key: str) -> EnforcementLevel:
    if not isinstance(value, str) or value not in _LEVELS:
        raise InputError(file, key, _LEVEL_KEY, f"{value!r} is not one of {', '.join(sorted(_LEVELS))}")
    return _LEVELS[value]


def parse_pack_config(text: str, file: str, policies: list[Policy]) -> dict[str, PolicySettings]:
    """Every policy's settings from the file's text; `file` names it in errors."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as err:
        raise InputError(file, "json", f"line {err.lineno}, column {err.colno}", err.msg) from None
    if not isinstance(document, dict):
        raise InputError(file, "json", "-", "must be an object of policy names")

    names = [policy.name for policy in policies]
    levels = {p.name: p.enforcement_level or PACK_ENFORCEMENT for p in policies}
    properties: dict[str, dict[str, Any]] = {name: {} for name in names}
    entries: dict[str, tuple[EnforcementLevel | None, dict[str, Any]]] = {}
    for key, value in document.items():
        if key != ALL and key not in levels:
            raise InputError(file, key, "-", "no policy of this name in the pack (policies/RULES.md lists them)")
        if isinstance(value, str):
            entries[key] = (_level(value, file, key), {})
        elif isinstance(value, dict):
            given = dict(value)
            level = _level(given.pop(_LEVEL_KEY), file, key) if _LEVEL_KEY in given else None
            entries[key] = (level, given)
        else:
            raise InputError(file, key, "-", "must be an enforcement level or an object")

    all_level, all_properties = entries.pop(ALL, (None, {}))
    if all_properties:
        raise InputError(file, ALL, ", ".join(sorted(all_properties)), "'all' takes only an enforcement level")
    if all_level is not None:
        levels = {name: all_level for name in names}
    for key, (level, given) in entries.items():
        if level is not None:
            levels[key] = level
        properties[key].update(given)

    rules = {rule.info.id: rule for rule in RULES}
    for name in names:
        if name in rules:
            try:
                read_config(name, rules[name].config, properties[name])
            except ConfigError as err:
                raise InputError(file, name, err.field, err.problem) from None
        elif properties[name]:
            raise InputError(file, name, ", ".join(sorted(properties[name])), "this policy takes no properties")
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
