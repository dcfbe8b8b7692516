"""Delivery tests run the program with the environment the workflows control cleared."""

from __future__ import annotations

import pytest

from delivery.promotion import COMMIT_VARIABLE, GATE_VARIABLE
from tests.conftest import ProjectCopy

MONITOR_SOURCE = "workers/src/monitor/index.ts"


@pytest.fixture(autouse=True)
def workflow_environment_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(COMMIT_VARIABLE, raising=False)
    monkeypatch.delenv(GATE_VARIABLE, raising=False)


def change_monitor_code(project: ProjectCopy) -> None:
    """Change what the monitor Worker does (the only Worker of its family)."""
    # A comment would not do: esbuild drops comments, so the bundle and its digest stay.
    path = project.root / MONITOR_SOURCE
    text = path.read_text()
    assert 'text(env, "REPORT_CRON")' in text
    path.write_text(text.replace('text(env, "REPORT_CRON")', 'text(env, "REPORT_CRON_PATCHED")'))
