"""A stack file, `Pulumi.<stack>.yaml`, read as the engine passes it to the program.

The offline plan, the real engine's workspace, the docs, the local runtime, the D1 restore
and the adoption of an account all read a stack's file; none of them may decrypt it, so an
encrypted value is kept as REDACTED and named a secret.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stacks import PROJECT_ROOT
from stacks.errors import InputError
from stacks.settings import NAMESPACE, Settings, setting_keys
from stacks.yamlfile import load_yaml

PROJECT = "blaze-infra"
# How a secret reads wherever this project writes one down: stack files, plans, findings.
REDACTED = "[secret]"


@dataclass
class StackConfig:
    """A stack file as the engine passes it to the program: strings, JSON for objects."""

    values: dict[str, str]
    secret_keys: list[str]


def _config_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value)


def _has_secure(value: Any) -> bool:
    if isinstance(value, dict):
        return "secure" in value or any(_has_secure(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_secure(v) for v in value)
    return False


def read_stack_config(path: Path, display: str) -> StackConfig:
    """Parse a Pulumi.<stack>.yaml; encrypted values become redacted secrets, never decrypted."""
    document = load_yaml(path, display) or {}
    if not isinstance(document, dict) or not isinstance(document.get("config", {}), dict):
        raise InputError(display, "config", "-", "must be a mapping of config keys")
    values: dict[str, str] = {}
    secrets: list[str] = []
    for key, value in (document.get("config") or {}).items():
        full = key if ":" in key else f"{PROJECT}:{key}"
        if isinstance(value, dict) and set(value) == {"secure"}:
            values[full] = REDACTED
            secrets.append(full)
        elif _has_secure(value):
            raise InputError(display, full, "-", "secure values nested in an object are not supported; use a top-level key")
        else:
            values[full] = _config_text(value)
    return StackConfig(values=values, secret_keys=sorted(secrets))


def stack_settings(stack: str, root: Path = PROJECT_ROOT) -> Settings:
    """A stack's settings from its Pulumi.<stack>.yaml, validated by the program's own model
    (encrypted values stay redacted): what the local tools and the docs read of a stack."""
    path = root / f"Pulumi.{stack}.yaml"
    if not path.exists():
        raise InputError(path.name, "-", "-", "no such stack file")
    values = read_stack_config(path, path.name).values
    raw: dict[str, Any] = {}
    for key in setting_keys():
        text = values.get(f"{NAMESPACE}:{key}")
        if text is not None:
            try:
                raw[key] = json.loads(text)
            except json.JSONDecodeError:
                raw[key] = text
    return Settings.model_validate(raw)
