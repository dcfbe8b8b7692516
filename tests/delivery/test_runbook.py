"""docs/RUNBOOK.md: every command it gives exists in this repository or in the Pulumi CLI."""

from __future__ import annotations

import re

import pytest

from tests.conftest import ROOT

RUNBOOK = ROOT / "docs" / "RUNBOOK.md"
# The Pulumi CLI commands (pulumi.com/docs/iac/cli/commands) the runbook may use.
PULUMI_COMMANDS = {"login", "stack", "config", "preview", "up", "import", "refresh", "state"}
SECTIONS = [
    "First deploy (an empty account)",
    "Adopting an existing account (the live prod names)",
    "Deploy",
    "Promote (staging to prod)",
    "Roll back one Worker",
    "Respond to drift",
    "Rotate a secret",
    "Add a Worker",
    "Add a database and its migrations",
]


def commands() -> list[str]:
    blocks = re.findall(r"```sh\n(.*?)```", RUNBOOK.read_text(), flags=re.DOTALL)
    lines = [line.split("#", 1)[0].strip() for block in blocks for line in block.splitlines()]
    return [line for line in lines if line]


def test_the_runbook_covers_every_task() -> None:
    headings = re.findall(r"^## (.+)$", RUNBOOK.read_text(), flags=re.MULTILINE)
    assert [h for h in headings if h in SECTIONS] == SECTIONS


def test_every_command_is_a_make_target_a_module_here_or_a_pulumi_command() -> None:
    targets = set(re.findall(r"^([a-z][a-z0-9-]*):", (ROOT / "Makefile").read_text(), flags=re.MULTILINE))
    seen = set()
    for line in commands():
        words = re.sub(r"^(\w+=(\$\([^)]*\)|\S+)\s+)+", "", line).split()  # drop VAR=value prefixes
        tool = words[0]
        seen.add(tool)
        if tool == "make":
            assert words[1] in targets, line
        elif tool == ".venv/bin/python":
            module = words[2]
            assert (ROOT / (module.replace(".", "/") + ".py")).is_file(), line
        elif tool == "pulumi":
            assert words[1] in PULUMI_COMMANDS, line
        else:
            assert tool in {"git", "export"}, f"not a command of this repository or of the Pulumi CLI: {line}"
    assert {"make", "pulumi", ".venv/bin/python"} <= seen


@pytest.mark.parametrize("path", ["policies", "policies/staging.json", "policies/prod.json", "workers/src/monitor"])
def test_paths_the_runbook_and_workflows_name_exist(path: str) -> None:
    assert (ROOT / path).exists()
