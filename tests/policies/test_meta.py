"""The pack's bookkeeping: complete metadata, unique ids, every rule registered and documented."""

from __future__ import annotations

import re

import pytest
import yaml
from pulumi_policy import Severity

from policies import rules_doc
from policies.framework import ResourceRule, StackRule
from policies.pack import WAIVED_FINDINGS
from policies.registry import RETIRED_IDS, RULE_IDS, RULES
from tests.policies.plans import PACK_DIR

RULE_ID = re.compile(r"^blaze(-[a-z0-9]+)+$")


@pytest.mark.parametrize("rule", RULES, ids=[rule.info.id for rule in RULES])
def test_every_rule_has_complete_metadata(rule: ResourceRule | StackRule) -> None:
    info = rule.info
    assert RULE_ID.match(info.id), info.id
    assert info.title and info.remediation and info.tags, info.id
    assert info.description.endswith(".") and "\n" not in info.description, info.id
    assert isinstance(info.severity, Severity), info.id
    assert re.match(r"^https://[a-z0-9.-]+\.(com|org)/\S*$", info.docs), info.id
    if isinstance(rule, ResourceRule):
        assert rule.resource_types, info.id


def test_ids_are_unique_and_never_reuse_a_retired_one() -> None:
    ids = [rule.info.id for rule in RULES]
    assert len(ids) == len(set(ids)) == len(RULE_IDS)
    assert RULE_IDS.isdisjoint(RETIRED_IDS | {WAIVED_FINDINGS})


def test_every_module_in_the_rules_folder_is_registered_and_holds_one_rule() -> None:
    modules = {path.stem for path in (PACK_DIR / "rules").glob("*.py") if path.stem != "__init__"}
    registered = {rule.check.__module__.rsplit(".", 1)[1] for rule in RULES}
    assert registered == modules
    for module in modules:
        source = (PACK_DIR / "rules" / f"{module}.py").read_text()
        assert source.count("\nRULE = ") == 1, module


def test_rules_md_has_a_current_row_for_every_rule() -> None:
    document = rules_doc.RULES_MD.read_text(encoding="utf-8")
    assert rules_doc.rendered(document) == document, "RULES.md is stale: run .venv/bin/python -m policies.rules_doc"
    rows = [line for line in document.splitlines() if line.startswith("| `blaze-")]
    assert [row.split("`")[1] for row in rows] == [rule.info.id for rule in RULES]


def test_only_the_entry_point_constructs_the_policy_pack() -> None:
    # PolicyPack(...) starts the analyzer and never returns: anywhere else it would hang an import.
    constructing = {
        path.relative_to(PACK_DIR).as_posix()
        for path in PACK_DIR.rglob("*.py")
        if "venv" not in path.parts and "PolicyPack(" in path.read_text()
    }
    assert constructing == {"__main__.py"}


def test_the_pack_runs_in_the_projects_virtualenv() -> None:
    # `pulumi preview --policy-pack policies` creates no virtualenv for a pack given by
    # path; tests/engine checks with the SDK's own toolchain code that this one resolves.
    project = yaml.safe_load((PACK_DIR / "PulumiPolicy.yaml").read_text())
    assert project["runtime"] == {"name": "python", "options": {"virtualenv": "../.venv"}}
    assert re.match(r"^\d+\.\d+\.\d+$", project["version"])
    assert "pulumi_policy" in (PACK_DIR.parent / "requirements-dev.txt").read_text()
