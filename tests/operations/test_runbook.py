"""docs/RUNBOOK.md: every command it gives exists in this repository, the Pulumi CLI or wrangler."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

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
    "A feed sends garbage",
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
        elif tool == "npx":
            assert words[1] == "wrangler", line
        else:
            assert tool in {"git", "export"}, f"not a command of this repository, the Pulumi CLI or wrangler: {line}"
    assert {"make", "pulumi", ".venv/bin/python"} <= seen


def test_every_wrangler_command_is_one_the_pinned_wrangler_has() -> None:
    # The command's words: those before its first option or quoted argument (`r2 object get`).
    used = {" ".join(re.match(r"npx wrangler ((?:[a-z0-9][a-z0-9-]* ?)+)", line)[1].split()[:3])
            for line in commands() if line.startswith("npx wrangler ")}
    assert used, "the runbook reads the ingestion ledger and archive with wrangler"
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}", "WRANGLER_SEND_METRICS": "false"}
    for command in sorted(used):
        words = command.split()
        done = subprocess.run([str(ROOT / "node_modules" / ".bin" / "wrangler"), *words, "--help"],
                              cwd=ROOT, env=env, capture_output=True, text=True, check=False, timeout=120)
        # Wrangler answers an unknown command with its group's help, so the help's first line
        # (`wrangler d1 execute <database>`) must name our words, or take them as arguments.
        usage = done.stdout.splitlines()[0].split()[1:] if done.stdout else []
        named = [word for word in usage if not word.startswith(("<", "["))]
        arguments = len(usage) - len(named)
        assert done.returncode == 0 and words[: len(named)] == named and len(named) + arguments >= len(words), (command, done.stdout[:300])


@pytest.mark.parametrize("path", ["policies", "policies/staging.json", "policies/prod.json", "workers/src/monitor"])
def test_paths_the_runbook_and_workflows_name_exist(path: str) -> None:
    assert (ROOT / path).exists()
