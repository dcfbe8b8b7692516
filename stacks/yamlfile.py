"""Reading YAML strictly: a key written twice is an error, not a silent overwrite."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError

from stacks.errors import InputError


def _loader() -> YAML:
    # ruamel.yaml's safe loader refuses a duplicate key (PyYAML keeps the last one), and with
    # ruamel.yaml.clib installed it parses in C. YAML 1.1 is how these files have always been
    # read (`yes` is true, `0755` octal); ruamel's default, 1.2, would read them otherwise.
    yaml = YAML(typ="safe")
    yaml.version = (1, 1)
    return yaml


def load_yaml(path: Path, display: str) -> Any:
    """Parse one YAML file; `display` is the path shown in errors (relative to the project)."""
    try:
        text = path.read_bytes()
    except OSError as err:
        raise InputError(display, "file", "-", f"cannot be read: {err.strerror}") from None
    return parse_yaml(text, display)


def parse_yaml(text: bytes, display: str) -> Any:
    try:
        return _loader().load(text)
    except MarkedYAMLError as err:
        mark = err.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "-"
        # A duplicate key's message goes on with both values, which may be whole mappings.
        problem = str(err.problem).split(" with value ", 1)[0]
        raise InputError(display, "yaml", where, problem) from None
