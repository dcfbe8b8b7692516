"""Reading YAML strictly: a key written twice is an error, not a silent overwrite."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from stacks.errors import InputError


class _StrictLoader(yaml.CSafeLoader):
    """libyaml's safe loader, refusing duplicate mapping keys (PyYAML keeps the last one)."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"key {key!r} appears twice (first on line {seen[key] + 1})",
                key_node.start_mark,
            )
        seen[key] = key_node.start_mark.line
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load_yaml(path: Path, display: str) -> Any:
    """Parse one YAML file; `display` is the path shown in errors (relative to the project)."""
    try:
        text = path.read_bytes()
    except OSError as err:
        raise InputError(display, "file", "-", f"cannot be read: {err.strerror}") from None
    return parse_yaml(text, display)


def parse_yaml(text: bytes, display: str) -> Any:
    try:
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "-"
        raise InputError(display, "yaml", where, str(err.problem)) from None
