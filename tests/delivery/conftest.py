"""Delivery tests run the program with the environment the workflows control cleared."""

from __future__ import annotations

import pytest

from stacks.promotion import COMMIT_VARIABLE, GATE_VARIABLE


@pytest.fixture(autouse=True)
def workflow_environment_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(COMMIT_VARIABLE, raising=False)
    monkeypatch.delenv(GATE_VARIABLE, raising=False)
