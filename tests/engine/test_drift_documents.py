"""The drift report over JSON the real CLI prints, not documents written to its shape.

No Python language host is served here (README "The real engine"), but the YAML one is:
with it the pinned CLI runs a real program on a local backend, and `pulumi refresh
--preview-only --json` and `pulumi preview [--refresh] --json` print their real digests.
The program uses the one resource the engine serves itself, a StackReference, so changing
the referenced stack's output is drift that a refresh sees. Each document is fed to the
documented command, `python -m operations.drift FILE`.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from operations import drift
from tests.conftest import ROOT
from tests.engine.conftest import ORGANIZATION, Cli

SOURCE_PROGRAM = """\
name: drift-source
runtime: yaml
config:
  value:
    type: string
outputs:
  value: ${value}
"""
WATCHER_PROGRAM = f"""\
name: drift-watcher
runtime: yaml
resources:
  first:
    type: pulumi:pulumi:StackReference
    properties:
      name: {ORGANIZATION}/drift-source/live
  second:
    type: pulumi:pulumi:StackReference
    properties:
      name: {ORGANIZATION}/drift-source/live
outputs:
  seen: ${{first.outputs["value"]}}
"""


@pytest.fixture(scope="module")
def programs(binaries: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> tuple[Cli, Cli]:
    """The source stack and the watcher stack, both deployed with the real CLI."""
    base = tmp_path_factory.mktemp("drift-documents")
    state, home = base / "state", base / "home"
    state.mkdir()
    plugins = binaries["pulumi-language-yaml"].parent
    clis = []
    for name, program, stack in (("source", SOURCE_PROGRAM, "live"), ("watcher", WATCHER_PROGRAM, "watch")):
        (base / name).mkdir()
        (base / name / "Pulumi.yaml").write_text(program)
        cli = Cli(binaries["pulumi"], base / name, home, state, plugins)
        cli.run("stack", "init", stack)
        clis.append(cli)
    source, watcher = clis
    source.run("config", "set", "value", "v1")
    source.run("up", "--yes")
    watcher.run("up", "--yes")
    return source, watcher


def report(tmp_path: Path, document: str, *args: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "document.json"
    path.write_text(document)
    return subprocess.run([sys.executable, "-m", "operations.drift", str(path), *args], cwd=ROOT, capture_output=True, text=True, check=False)


def test_a_clean_refresh_and_a_clean_preview_report_no_drift_and_say_which_they_are(programs: tuple[Cli, Cli], tmp_path: Path) -> None:
    _, watcher = programs
    refreshed = watcher.run("refresh", "--preview-only", "--json").stdout
    previewed = watcher.run("preview", "--json").stdout
    both = watcher.run("preview", "--refresh", "--json").stdout
    assert drift.document_kind(json.loads(refreshed)) == "refresh"
    assert drift.document_kind(json.loads(previewed)) == "preview"
    assert drift.document_kind(json.loads(both)) == "preview"
    for document, title in ((refreshed, "pulumi refresh --preview-only"), (previewed, "pulumi preview --refresh"), (both, "pulumi preview --refresh")):
        done = report(tmp_path, document)
        assert done.returncode == 0, done.stdout + done.stderr
        assert f"## Drift report: `watch` ({title})" in done.stdout and "**No drift**" in done.stdout
    # The refresh counts both references (the CLI counts the stack too; the report does not).
    assert "**No drift** (2 resources checked)." in report(tmp_path, refreshed).stdout


def test_a_refresh_that_finds_changed_outputs_is_drift_though_its_steps_show_no_detail(programs: tuple[Cli, Cli], tmp_path: Path) -> None:
    source, watcher = programs
    source.run("config", "set", "value", "v2")
    source.run("up", "--yes")
    try:
        document = watcher.run("refresh", "--preview-only", "--json").stdout
        parsed = json.loads(document)
        # What the CLI prints for it: every step still `refresh`, the change only counted.
        assert {s["op"] for s in parsed["steps"]} == {"refresh"} and parsed["changeSummary"].get("update") == 2
        done = report(tmp_path, document)
        assert done.returncode == drift.EXIT_DRIFT, done.stdout + done.stderr
        assert "2 changed without detail" in done.stdout
        wrong = report(tmp_path, document, "--source", "preview")
        assert wrong.returncode == drift.EXIT_UNUSABLE and "the JSON of `pulumi refresh`" in wrong.stderr
    finally:
        source.run("config", "set", "value", "v1")
        source.run("up", "--yes")
