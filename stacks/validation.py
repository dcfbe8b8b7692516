"""Shared pieces of validation: strict base model, name rules, pydantic errors as InputError."""

from __future__ import annotations

import re
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError

from stacks.errors import InputError

# ECMAScript reserved words: a binding is `env.NAME`, but wrangler and the Workers
# runtime also expose bindings as module-scope names in some formats, so keep them out.
_JS_RESERVED = frozenset(
    """break case catch class const continue debugger default delete do else enum export
    extends false finally for function if implements import in instanceof interface let new
    null package private protected public return static super switch this throw true try
    typeof var void while with yield await""".split()
)
_JS_IDENTIFIER = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]*$")
_RESOURCE_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_CONFIG_KEY = re.compile(r"^[a-zA-Z][a-zA-Z0-9]*$")


def _js_identifier(value: str) -> str:
    if not _JS_IDENTIFIER.match(value):
        raise ValueError(f"{value!r} is not a valid JavaScript identifier")
    if value in _JS_RESERVED:
        raise ValueError(f"{value!r} is a reserved word in JavaScript")
    return value


def _resource_name(value: str) -> str:
    # The strictest of the Cloudflare rules this fleet meets: R2 bucket names
    # (3-63 chars, lowercase letters, digits, hyphens, no leading/trailing hyphen).
    if len(value) < 3 or not _RESOURCE_NAME.match(value):
        raise ValueError(
            f"{value!r} must be 3-63 lowercase letters, digits or hyphens, "
            "starting and ending with a letter or digit"
        )
    return value


def _config_key(value: str) -> str:
    if not _CONFIG_KEY.match(value):
        raise ValueError(f"{value!r} is not a camelCase config key name (letters and digits)")
    return value


BindingName = Annotated[str, AfterValidator(_js_identifier)]
ResourceName = Annotated[str, AfterValidator(_resource_name)]
ConfigKey = Annotated[str, AfterValidator(_config_key)]


class Strict(BaseModel):
    """Every model of the catalog and the stack settings: unknown keys and wrong types fail."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


M = TypeVar("M", bound=BaseModel)


def _entry_and_field(loc: tuple[Any, ...], raw: Any) -> tuple[str, str]:
    """Turn a pydantic location into (entry, field), naming list items by their `name`."""
    if not loc:
        return "-", "-"
    head, rest = loc[0], list(loc[1:])
    entry = str(head)
    node = raw.get(head) if isinstance(raw, dict) else None
    if rest and isinstance(rest[0], int) and isinstance(node, list):
        index = rest.pop(0)
        item = node[index] if index < len(node) else None
        label = item.get("name") if isinstance(item, dict) else None
        entry = f"{head}[{label}]" if isinstance(label, str) else f"{head}[{index}]"
    elif rest and isinstance(node, dict) and isinstance(node.get(rest[0]), dict):
        entry = f"{head}.{rest.pop(0)}"
    field = ".".join(str(part) for part in rest if part != "[key]") or "-"
    return entry, field


def validate(model: type[M], raw: Any, file: str) -> M:
    """Validate `raw` against `model`, raising one InputError for the first problem."""
    try:
        return model.model_validate(raw)
    except ValidationError as err:
        first = err.errors(include_url=False)[0]
        entry, field = _entry_and_field(tuple(first["loc"]), raw)
        problem = first["msg"].removeprefix("Value error, ")
        if first["type"] == "extra_forbidden":
            problem = "unknown key (allowed keys are the model's fields; check the spelling)"
        raise InputError(file, entry, field, problem) from None
