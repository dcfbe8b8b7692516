"""The Workers' bundles: deterministic, rebuilt only when inputs change, one digest per family."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from stacks.catalog import load_catalog
from tests.conftest import ROOT, ProjectCopy
from workers import bundle
from workers.bundle import BundleError, build_bundles

ENTRIES = {family: spec.entry for family, spec in load_catalog(ROOT).families.items()}


def outputs(root: Path) -> dict[str, bytes]:
    return {family: (root / bundle.OUT_DIR / f"{family}.js").read_bytes() for family in ENTRIES}


def test_two_cold_builds_are_byte_identical(project: ProjectCopy) -> None:
    first = build_bundles(project.root, ENTRIES)
    first_bytes = outputs(project.root)
    bundle.clean(project.root)
    second = build_bundles(project.root, ENTRIES)
    assert outputs(project.root) == first_bytes
    assert first == second
    # The repository's own build, in another folder (as on another machine), is the same too.
    build_bundles(ROOT, ENTRIES)
    assert outputs(ROOT) == first_bytes
    assert {b.content_file for b in first.values()} == {f"build/workers/{f}.js" for f in ENTRIES}


def test_an_unchanged_tree_does_not_run_esbuild(project: ProjectCopy, monkeypatch: pytest.MonkeyPatch) -> None:
    built = build_bundles(project.root, ENTRIES)

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("esbuild ran although nothing changed")

    monkeypatch.setattr(subprocess, "run", refuse)
    assert build_bundles(project.root, ENTRIES) == built


def test_a_tampered_bundle_is_rebuilt(project: ProjectCopy) -> None:
    built = build_bundles(project.root, ENTRIES)
    target = project.root / bundle.OUT_DIR / "monitor.js"
    target.write_text("export default {};\n")
    assert build_bundles(project.root, ENTRIES) == built
    assert target.read_text() != "export default {};\n"


def test_changing_one_entry_changes_only_its_familys_digest(project: ProjectCopy) -> None:
    before = build_bundles(project.root, ENTRIES)
    source = project.root / "workers/src/monitor/index.ts"
    source.write_text(source.read_text() + "\nexport const revision = 2;\n")
    after = build_bundles(project.root, ENTRIES)
    changed = {family for family in ENTRIES if before[family].sha256 != after[family].sha256}
    assert changed == {"monitor"}


def test_changing_shared_code_changes_every_family_that_imports_it(project: ProjectCopy) -> None:
    before = build_bundles(project.root, ENTRIES)
    shared = project.root / "workers/src/shared/respond.ts"
    shared.write_text(shared.read_text().replace("application/json; charset=utf-8", "application/json"))
    after = build_bundles(project.root, ENTRIES)
    importers = {
        family
        for family, entry in ENTRIES.items()
        if "shared/respond" in (project.root / entry).read_text()
    }
    changed = {family for family in ENTRIES if before[family].sha256 != after[family].sha256}
    assert importers and changed == importers


def test_a_syntax_error_fails_the_build_and_keeps_the_last_good_bundle(project: ProjectCopy) -> None:
    before = build_bundles(project.root, ENTRIES)
    good = outputs(project.root)
    (project.root / "workers/src/api/index.ts").write_text("export default {\n")
    with pytest.raises(BundleError, match="esbuild failed"):
        build_bundles(project.root, ENTRIES)
    assert outputs(project.root) == good
    assert json.loads((project.root / bundle.OUT_DIR / bundle.STAMP).read_text())["outputs"]["api"] == before["api"].sha256


def test_a_missing_esbuild_says_how_to_install_it(project: ProjectCopy) -> None:
    (project.root / "node_modules").unlink()
    with pytest.raises(BundleError, match=r"esbuild 0\.28\.2 is not installed.*make setup"):
        build_bundles(project.root, ENTRIES)
