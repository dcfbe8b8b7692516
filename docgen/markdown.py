"""What the plan diff and the drift report share: the absent-value marker and table cells."""

from __future__ import annotations

import json
from typing import Any

MAX_CELL_CHARS = 200


class _Absent:
    """A property one side does not have (distinct from a value of null)."""

    def __repr__(self) -> str:
        return "(absent)"


ABSENT: Any = _Absent()


def code_cell(value: Any) -> str:
    """A value as inline Markdown code that is safe inside a table cell."""
    text = "(absent)" if value is ABSENT else json.dumps(value, ensure_ascii=False, sort_keys=True)
    if len(text) > MAX_CELL_CHARS:
        text = text[: MAX_CELL_CHARS - 1] + "…"
    text = text.replace("|", "\\|").replace("\n", " ")
    return f"`` {text} ``" if "`" in text else f"`{text}`"
