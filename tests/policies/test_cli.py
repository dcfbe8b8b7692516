"""`python -m policies.check`: what it prints, and its exit codes for passes, failures and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from policies.check import EXIT_BAD_CONFIG, EXIT_BAD_PLAN, EXIT_PASSED, EXIT_VIOLATIONS, main
from tests.conftest import Planned
from tests.policies.plans import editable, find

PINNED = ["--today", "2026-09-01"]


def write(tmp_path: Path, document: object, name: str = "plan.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(document))
    return path


def test_the_shipped_prod_plan_passes(planned: dict[str, Planned], tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["prod", "--plan", str(write(tmp_path, planned["prod"].plan)), *PINNED]) == EXIT_PASSED
    out = capsys.readouterr().out
    assert "policy check of stack prod: " in out and "passed: 0 mandatory violation(s), 0 advisory, 0 waived" in out


def test_a_mandatory_violation_fails_and_is_printed_with_rule_resource_level_and_message(
    planned: dict[str, Planned], tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    plan = editable(planned["prod"].plan)
    find(plan, "blaze-odds-database")["options"]["protect"] = False
    assert main(["prod", "--plan", str(write(tmp_path, plan)), *PINNED]) == EXIT_VIOLATIONS
    out = capsys.readouterr().out
    assert (
        "MANDATORY  blaze-data-protected  cloudflare:index/d1Database:D1Database::blaze-odds-database\n"
        "           is not protected: a `pulumi destroy` or a removed catalog entry would delete its data\n"
    ) in out
    assert "FAILED: 1 mandatory violation(s), 0 advisory, 0 waived" in out


def test_advisories_alone_pass(planned: dict[str, Planned], tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    plan = editable(planned["staging"].plan)
    find(plan, "blaze-gateway-script")["inputs"]["observability"]["enabled"] = False  # advisory in staging
    assert main(["staging", "--plan", str(write(tmp_path, plan)), *PINNED]) == EXIT_PASSED
    out = capsys.readouterr().out
    assert "ADVISORY   blaze-worker-observability  cloudflare:index/workersScript:WorkersScript::blaze-gateway-script" in out
    assert "passed: 0 mandatory violation(s), 1 advisory, 0 waived" in out


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "cannot read"),
        (b"\x89PNG\r\n", "is not JSON"),
        (b'{"stack": "prod", "resources": [', "is not JSON"),
        (b"[]", "is not a plan file: the document: Input should be a valid dictionary"),
        (b'{"stack": "prod", "resources": [], "outputs": {}}', "is not a plan file: resources: List should have at least 1 item"),
        (b'{"stack": "prod", "resources": [{"type": "x"}], "outputs": {}}', "is not a plan file: resources.0.name: Field required"),
    ],
    ids=["missing", "binary", "truncated", "not an object", "no resources", "resource without fields"],
)
def test_an_unreadable_or_malformed_plan_never_passes(
    tmp_path: Path, capsys: pytest.CaptureFixture, content: bytes | None, expected: str
) -> None:
    path = tmp_path / "plan.json"
    if content is not None:
        path.write_bytes(content)
    assert main(["prod", "--plan", str(path), *PINNED]) == EXIT_BAD_PLAN
    err = capsys.readouterr().err
    assert expected in err and "nothing was checked" in err, err


def test_the_plan_of_another_stack_is_refused(planned: dict[str, Planned], tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["prod", "--plan", str(write(tmp_path, planned["staging"].plan)), *PINNED]) == EXIT_BAD_PLAN
    assert "is the plan of stack 'staging', not 'prod'" in capsys.readouterr().err


def test_a_wrong_policy_config_is_refused(planned: dict[str, Planned], tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    config = write(tmp_path, {"all": "mandatory", "blaze-no-such-rule": "advisory"}, "policy.json")
    plan = write(tmp_path, planned["prod"].plan)
    assert main(["prod", "--plan", str(plan), "--config", str(config), *PINNED]) == EXIT_BAD_CONFIG
    assert "blaze-no-such-rule: -: no policy of this name in the pack" in capsys.readouterr().err
