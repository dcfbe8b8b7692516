"""The drift report, fed documents built to the shape of pulumi's preview digest (json.go)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from operations import drift
from tests.conftest import ROOT

PREFIX = "urn:pulumi:prod::blaze-infra::blaze:fleet:Fleet"
TYPES = {
    "script": ("blaze:worker:WorkerService", "cloudflare:index/workersScript:WorkersScript"),
    "d1": ("blaze:d1:Database", "cloudflare:index/d1Database:D1Database"),
    "bucket": ("blaze:r2:Bucket", "cloudflare:index/r2Bucket:R2Bucket"),
    "policy": ("blaze:alerting:Alerting", "cloudflare:index/notificationPolicy:NotificationPolicy"),
    "webhook": ("blaze:alerting:Alerting", "cloudflare:index/notificationPolicyWebhooks:NotificationPolicyWebhooks"),
}
SIGNED_SECRET = {drift.SECRET_SIG_KEY: drift.SECRET_SIG, "plaintext": '"hunter2-signed"'}


def urn(kind: str, name: str) -> str:
    component, typ = TYPES[kind]
    return f"{PREFIX}${component}${typ}::{name}"


def state(kind: str, name: str, outputs: dict[str, Any], inputs: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "urn": urn(kind, name), "custom": True, "type": TYPES[kind][1], "id": f"id-{name}",
        "inputs": inputs if inputs is not None else outputs, "outputs": outputs,
        "parent": f"{PREFIX}${TYPES[kind][0]}::{name}", "provider": "urn:pulumi:prod::blaze-infra::pulumi:providers:cloudflare::default",
    }


def step(op: str, kind: str, name: str, old: dict | None = None, new: dict | None = None, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"op": op, "urn": urn(kind, name), "provider": "urn:pulumi:prod::blaze-infra::pulumi:providers:cloudflare::default::0"}
    if old is not None:
        out["oldState"] = state(kind, name, old)
    if new is not None:
        out["newState"] = state(kind, name, new)
    out["detailedDiff"] = extra.pop("detailedDiff", None)
    out.update(extra)
    return out


def update(path: str, kind: str = "update", input_diff: bool = False) -> dict[str, dict[str, Any]]:
    return {path: {"kind": kind, "inputDiff": input_diff}}


# Steps that are not logical operations: the engine leaves them out of changeSummary.
NOT_COUNTED = {"create-replacement", "delete-replaced", "read-replacement", "discard-replaced", "import-replacement"}


def document(*steps: dict[str, Any], diagnostics: list | None = None, kind: str = "refresh") -> dict[str, Any]:
    """A digest as the pinned CLI prints it (tests/engine/test_drift_documents.py runs it).

    `refresh --preview-only` gives every resource and the stack a `refresh` step (counted as
    `same` when unchanged); `preview` gives the stack a `same` step. The CLI's changeSummary
    counts the stack too.
    """
    summary: dict[str, int] = {"same": 1}
    out = []
    for s in steps:
        if kind == "refresh" and s["op"] == "same":
            s = {**s, "op": "refresh"}
        counted = "same" if s["op"] == "refresh" else s["op"]
        if counted not in NOT_COUNTED:
            summary[counted] = summary.get(counted, 0) + 1
        out.append(s)
    stack = {"op": "refresh" if kind == "refresh" else "same",
             "urn": "urn:pulumi:prod::blaze-infra::pulumi:pulumi:Stack::blaze-infra-prod", "detailedDiff": None}
    return {
        "config": {"blaze-infra:accountId": "5c0f4e2d9a8b47c6b1e3d2f0a9c8b7e6", "blaze-infra:opsWebhookUrl": "[secret]"},
        "steps": [stack, *out], "diagnostics": diagnostics or [], "duration": 4_200_000_000, "changeSummary": summary,
    }


def script(content_sha: str = "a" * 64, secret: Any = "[secret]", date: str = "2025-01-01", modified: str = "2026-01-01T00:00:00Z") -> dict[str, Any]:
    return {
        "scriptName": "blaze-monitor", "contentSha256": content_sha, "compatibilityDate": date, "modifiedOn": modified,
        "bindings": [
            {"name": "ALERTS", "type": "kv_namespace", "namespaceId": "k1"},
            {"name": "WEBHOOK_SECRET", "type": "secret_text", "text": secret},
        ],
    }


CLEAN = document(
    step("same", "script", "blaze-monitor-script", old=script(), new=script()),
    step("same", "d1", "blaze-mlb-games", old={"name": "blaze-mlb-games"}, new={"name": "blaze-mlb-games"}),
)
DRIFTED = document(
    step("update", "script", "blaze-monitor-script", old=script(), new=script(content_sha="b" * 64, date="2025-06-01"),
         detailedDiff=update("contentSha256") | update("compatibilityDate"), diffReasons=["compatibilityDate", "contentSha256"]),
    step("same", "d1", "blaze-mlb-games", old={"name": "blaze-mlb-games"}, new={"name": "blaze-mlb-games"}),
)
DELETED = document(
    step("delete", "d1", "blaze-mlb-games", old={"name": "blaze-mlb-games", "uuid": "u-1"}),
    step("same", "script", "blaze-monitor-script", old=script(), new=script()),
)
NOISE_ONLY = document(
    step("update", "policy", "alerting-policy-certificates",
         old={"name": "blaze-certificates", "mechanisms": {"emails": [{"id": "oncall@blazesportsintel.com"}], "pagerduties": []},
              "modified": "2026-01-01T00:00:00Z"},
         new={"name": "blaze-certificates", "mechanisms": {"emails": [{"id": "oncall@blazesportsintel.com"}]},
              "modified": "2026-02-01T00:00:00Z"},
         detailedDiff=update("mechanisms.pagerduties", "delete") | update("modified")),
    step("update", "bucket", "blaze-media-bucket", old={"name": "blaze-media"}, new={"name": "blaze-media", "jurisdiction": "default"},
         detailedDiff=update("jurisdiction", "add")),
)
# Diffs the provider showed before #5522 (fixed in 5.8.0) and #5892 (5.8.3) were fixed.
FIXED_UPSTREAM = document(
    step("update", "script", "blaze-monitor-script", old=script(), new=script(secret=None, modified="2026-02-01T00:00:00Z"),
         detailedDiff=update("bindings[1].text", "delete") | update("modifiedOn")),
)
NOISE_AND_DRIFT = document(
    step("update", "script", "blaze-monitor-script", old=script(), new=script(content_sha="c" * 64, secret=None),
         detailedDiff=update("bindings[1].text") | update("contentSha256")),
)


def report_of(doc: dict[str, Any], source: str = "refresh") -> tuple[drift.Report, str]:
    report = drift.build_report(drift.load_document(json.dumps(doc), "doc.json"), source)
    return report, drift.render(report)


def run_cli(tmp_path: Path, content: str, *args: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "refresh.json"
    path.write_text(content)
    return subprocess.run([sys.executable, "-m", "operations.drift", str(path), *args], cwd=ROOT, capture_output=True, text=True, check=False)


def test_clean() -> None:
    report, text = report_of(CLEAN)
    assert not report.has_drift and report.checked == 2
    assert "**No drift** (2 resources checked)." in text and "Known provider noise" not in text


def test_drifted_lists_each_property_path_with_both_values() -> None:
    report, text = report_of(DRIFTED)
    assert report.has_drift
    assert [(r.name, [c.path for c in changes]) for r, changes in report.drifted] == [
        ("blaze-monitor-script", ["compatibilityDate", "contentSha256"]),
    ]
    assert "| property | change | in state | in the account |" in text
    assert f'| `contentSha256` | update | `"{"a" * 64}"` | `"{"b" * 64}"` |' in text
    assert '| `compatibilityDate` | update | `"2025-01-01"` | `"2025-06-01"` |' in text
    assert "blaze-mlb-games" not in text


def test_deleted_outside_pulumi() -> None:
    report, text = report_of(DELETED)
    assert [r.name for r in report.deleted] == ["blaze-mlb-games"] and report.has_drift
    assert "### Deleted outside Pulumi\n\n- `blaze-mlb-games` (cloudflare:index/d1Database:D1Database)" in text


def test_noise_only_is_not_drift_and_each_entry_names_its_upstream_issue_and_versions() -> None:
    report, text = report_of(NOISE_ONLY)
    assert not report.has_drift and report.drifted == []
    assert {issue: [(r.name, c.path) for r, c in entries] for issue, entries in report.noise.items()} == {
        7342: [("alerting-policy-certificates", "mechanisms.pagerduties"), ("alerting-policy-certificates", "modified")],
        5607: [("blaze-media-bucket", "jurisdiction")],
    }
    for issue, reported in ((7342, "5.23.0"), (5607, "5.5.0")):
        assert f"#### [terraform-provider-cloudflare#{issue}](https://github.com/cloudflare/terraform-provider-cloudflare/issues/{issue})" in text
        assert (f"Reported against terraform-provider-cloudflare {reported} (still open upstream); "
                "pulumi_cloudflare==6.23.1 bridges 5.19.1 or later.") in text


def test_diffs_of_issues_fixed_upstream_before_the_bridged_version_are_drift() -> None:
    # #5522 (fixed by #5775 in 5.8.0) and #5892 (5.8.3): the provider no longer shows these
    # diffs, so a changed modifiedOn or secret_text binding is someone else's deploy.
    report, text = report_of(FIXED_UPSTREAM)
    assert report.has_drift
    assert [(r.name, [c.path for c in changes]) for r, changes in report.drifted] == [
        ("blaze-monitor-script", ["bindings[1].text", "modifiedOn"]),
    ]
    assert 5522 not in report.noise and 5892 not in report.noise


def test_every_noise_entry_is_open_at_the_bridged_version_and_the_pin_is_the_one_checked() -> None:
    assert all(rule.applies_to(drift.BRIDGED_UPSTREAM) for rule in drift.NOISE)
    pins = (ROOT / "requirements.txt").read_text().split()
    assert drift.BRIDGED_FOR in pins, "pulumi_cloudflare changed: re-check operations/drift.py NOISE and BRIDGED_UPSTREAM"
    fixed = drift.NoiseRule(1, "fixed", frozenset(), lambda c, s: True, reported_on="5.3.0", fixed_in="5.8.0")
    assert not fixed.applies_to(drift.BRIDGED_UPSTREAM) and fixed.applies_to((5, 7, 9))


def test_noise_plus_real_drift_keeps_them_apart() -> None:
    doc = document(
        step("update", "script", "blaze-monitor-script", old=script(), new=script(content_sha="c" * 64),
             detailedDiff=update("contentSha256")),
        step("update", "bucket", "blaze-media-bucket", old={"name": "blaze-media"}, new={"name": "blaze-media", "jurisdiction": "default"},
             detailedDiff=update("jurisdiction", "add")),
    )
    report, text = report_of(doc)
    assert [[c.path for c in changes] for _, changes in report.drifted] == [["contentSha256"]]
    assert [c.path for _, c in report.noise[5607]] == ["jurisdiction"]
    drifted, noise = text.split("### Known provider noise")
    assert "contentSha256" in drifted and "jurisdiction" not in drifted
    assert "jurisdiction" in noise and "contentSha256" not in noise


def test_a_real_change_beside_a_quirks_property_is_still_drift() -> None:
    doc = document(
        step("update", "policy", "alerting-policy-incidents",
             old={"mechanisms": {"pagerduties": [{"id": "primary"}]}}, new={"mechanisms": {"pagerduties": []}},
             detailedDiff=update("mechanisms.pagerduties")),
        step("update", "bucket", "blaze-media-bucket", old={"jurisdiction": "default"}, new={"jurisdiction": "eu"},
             detailedDiff=update("jurisdiction")),
    )
    report, _ = report_of(doc)
    assert [r.name for r, _ in report.drifted] == ["alerting-policy-incidents", "blaze-media-bucket"] and not report.noise


def test_planned_replacements_from_a_preview_are_listed_once_with_their_reasons() -> None:
    old, new = {"name": "blaze-mlb-games"}, {"name": "blaze-mlb-games-v2"}
    doc = document(
        step("create-replacement", "d1", "blaze-mlb-games", old=old, new=new, replaceReasons=["name"], detailedDiff=update("name", "update-replace", True)),
        step("replace", "d1", "blaze-mlb-games", old=old, new=new, replaceReasons=["name"], detailedDiff=update("name", "update-replace", True)),
        step("delete-replaced", "d1", "blaze-mlb-games", old=old, new=new),
        kind="preview",
    )
    report, text = report_of(doc, "preview")
    assert [(r.name, reasons) for r, reasons, _ in report.replaced] == [("blaze-mlb-games", ["name"])] and report.checked == 1
    assert "Replaced because of: `name`" in text
    assert '| `name` | update-replace | `"blaze-mlb-games"` | `"blaze-mlb-games-v2"` |' in text
    assert "| property | change | in the account | in the code |" in text


def test_secrets_are_redacted_even_when_the_cli_showed_them() -> None:
    doc = document(
        step("update", "script", "blaze-monitor-script", old=script(secret="hunter2-old"), new=script(secret="hunter2-new", content_sha="d" * 64),
             detailedDiff=update("bindings[1]") | update("contentSha256")),
        step("update", "webhook", "alerting-webhook-ops",
             old={"name": "blaze-ops", "url": "https://hooks.example/hunter2-url", "secret": SIGNED_SECRET},
             new={"name": "blaze-ops", "url": "https://hooks.example/hunter2-url2", "secret": "hunter2-plain"},
             detailedDiff=update("url") | update("secret")),
    )
    report, text = report_of(doc)
    assert "hunter2" not in text
    assert '| `url` | update | `"[secret]"` | `"[secret]"` |' in text
    assert [c.path for _, changes in report.drifted for c in changes] == ["bindings[1]", "contentSha256", "secret", "url"]


def test_errors_from_the_run_mean_the_check_is_incomplete() -> None:
    doc = document(diagnostics=[
        {"urn": "", "message": "error: refusing to deploy 1 Worker\n  blaze-monitor: ...", "severity": "error"},
        {"message": "promotion override is set", "severity": "warning"},
    ])
    report, text = report_of(doc)
    assert report.has_drift and report.errors and report.warnings
    assert "### Errors (the check is incomplete)" in text and "- promotion override is set" in text


@pytest.mark.parametrize(
    ("content", "exit_code", "says"),
    [
        (json.dumps(CLEAN), 0, "**No drift**"),
        (json.dumps(NOISE_ONLY), 0, "Known provider noise"),
        (json.dumps(DRIFTED), 3, "**Drift found:**"),
        (json.dumps(DELETED), 3, "Deleted outside Pulumi"),
        (json.dumps(NOISE_AND_DRIFT), 3, "**Drift found:**"),
    ],
    ids=["clean", "noise only", "drifted", "deleted", "noise plus drift"],
)
def test_exit_codes_of_readable_documents(tmp_path: Path, content: str, exit_code: int, says: str) -> None:
    result = run_cli(tmp_path, content, "--out", str(tmp_path / "report.md"))
    assert result.returncode == exit_code, result.stderr
    assert says in result.stdout and says in (tmp_path / "report.md").read_text()


@pytest.mark.parametrize(
    ("content", "says"),
    [
        ("", "empty"),
        ("  \n", "empty"),
        (json.dumps(DRIFTED, indent=2)[:700], "not complete JSON"),
        ("[]", "not the JSON of"),
        ('{"resources": []}', "not the JSON of"),
        ('{"steps": {}}', "steps must be a list"),
        ('{"steps": [{"op": "update"}]}', "steps[0]: a step needs a string op and urn"),
        ('{"steps": [{"op": "update", "urn": "u", "detailedDiff": {"x": "update"}}]}', "steps[0].detailedDiff"),
        ('{"steps": [{"op": "update", "urn": "u", "oldState": []}]}', "steps[0].oldState: must be an object"),
        ('{"steps": [], "diagnostics": {}}', "diagnostics must be a list"),
    ],
    ids=["empty", "blank", "truncated", "a list", "a plan file", "steps not a list", "step without urn",
         "bad detailedDiff", "bad state", "bad diagnostics"],
)
def test_unusable_documents_exit_2_and_say_why(tmp_path: Path, content: str, says: str) -> None:
    result = run_cli(tmp_path, content)
    assert result.returncode == drift.EXIT_UNUSABLE
    assert says in result.stderr and result.stdout == ""


def test_a_missing_file_exits_2(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "operations.drift", str(tmp_path / "nope.json")], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == drift.EXIT_UNUSABLE and "cannot be read" in result.stderr


def test_property_paths_parse_like_pulumis() -> None:
    assert drift.parse_path('bindings[3].text') == ["bindings", 3, "text"]
    assert drift.parse_path('tags["a.b"].value') == ["tags", "a.b", "value"]
    assert drift.value_at({"tags": {"a.b": {"value": 1}}}, drift.parse_path('tags["a.b"].value')) == 1
    assert drift.value_at({"a": []}, ["a", 0]) is drift.ABSENT


def test_a_clean_preview_counts_what_its_change_summary_counts() -> None:
    # `pulumi preview --json` leaves unchanged resources out of `steps`: only the stack is there.
    doc = {"steps": [{"op": "same", "urn": "urn:pulumi:prod::blaze-infra::pulumi:pulumi:Stack::blaze-infra-prod"}],
           "changeSummary": {"same": 153}, "duration": 1}  # the CLI counts the stack too
    report, text = report_of(doc, "preview")
    assert report.checked == 152 and "**No drift** (152 resources checked)." in text


def test_changes_the_summary_counts_but_the_steps_do_not_detail_are_drift() -> None:
    # What the pinned CLI printed for a refresh that changed two resources' outputs only:
    # every step stays `refresh`, without a detailedDiff; only changeSummary says `update`.
    doc = document()
    doc["changeSummary"] = {"same": 1, "update": 2}
    report, text = report_of(doc)
    assert report.has_drift and report.undetailed == 2 and report.checked == 2
    assert "**Drift found:** 0 drifted, 0 deleted outside Pulumi, 0 missing, 0 to be replaced, 2 changed without detail" in text
    assert "run `pulumi refresh --preview-only` interactively to see them" in text


def test_the_kind_comes_from_the_document() -> None:
    assert drift.document_kind(CLEAN) == "refresh"
    assert drift.document_kind(document(kind="preview")) == "preview"
    assert drift.document_kind({"steps": [], "changeSummary": {}}) is None


@pytest.mark.parametrize(
    ("doc", "args", "says"),
    [
        (CLEAN, ["--source", "preview"], "the JSON of `pulumi refresh`, not of `pulumi preview` as --source says"),
        ({"steps": [], "changeSummary": {"same": 1}}, [], "give --source refresh|preview"),
    ],
    ids=["source contradicts the document", "no stack step and no source"],
)
def test_a_document_of_the_other_command_or_of_none_exits_2(tmp_path: Path, doc: dict, args: list[str], says: str) -> None:
    result = run_cli(tmp_path, json.dumps(doc), *args)
    assert result.returncode == 2 and says in result.stderr and result.stdout == ""


def test_a_preview_document_is_read_as_a_preview_without_being_told(tmp_path: Path) -> None:
    doc = document(step("update", "d1", "blaze-mlb-games", old={"name": "a"}, new={"name": "b"}, detailedDiff=update("name")), kind="preview")
    result = run_cli(tmp_path, json.dumps(doc))
    assert result.returncode == 3 and "(pulumi preview --refresh)" in result.stdout and "| in the account | in the code |" in result.stdout
