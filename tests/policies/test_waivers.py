"""Waivers: validated in the catalog, applied by the pack, and still printed with their reason."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from policies.check import render
from policies.framework import Waivers
from policies.pack import catalog_waivers, load_waivers
from stacks.catalog import BucketsFile, WorkersFile, load_catalog
from stacks.errors import InputError
from stacks.validation import validate
from tests.conftest import ROOT, Planned, ProjectCopy
from tests.policies.plans import check, editable, find

REASON = "Media is re-creatable from the upstream CDN; the bucket is rebuilt in drills"


def _workers_with(waivers: list[dict[str, Any]]) -> dict[str, Any]:
    raw = yaml.safe_load((ROOT / "stacks/catalog/workers.yaml").read_text())
    raw["workers"][0]["waivers"] = waivers
    return raw


@pytest.mark.parametrize(
    ("waivers", "problem"),
    [
        ([{"rule": "blaze-data-unused", "reason": "too short"}], "waivers.0.reason: a waiver reason needs at least 10"),
        ([{"rule": "blaze-data-unused", "reason": "TODO: explain this later"}], "waivers.0.reason: 'TODO: explain this later' is placeholder"),
        ([{"rule": "blaze-data-unused", "reason": "n/a for this worker, see ticket"}], "is placeholder text"),
        ([{"rule": "blaze-data-unused"}], "waivers.0.reason: Field required"),
        ([{"rule": "Blaze Data", "reason": REASON}], "waivers.0.rule: String should match pattern"),
        ([{"rule": "blaze-data-unused", "reason": REASON, "until": "2027"}], "waivers.0.until: unknown key"),
        ([{"rule": "blaze-data-unused", "reason": REASON}] * 2, "waivers: rule 'blaze-data-unused' is waived twice"),
    ],
    ids=["short reason", "todo", "n/a", "no reason", "not a rule id", "unknown key", "same rule twice"],
)
def test_a_bad_waiver_is_an_input_error_naming_file_entry_and_field(waivers: list[dict], problem: str) -> None:
    with pytest.raises(InputError) as caught:
        validate(WorkersFile, _workers_with(waivers), "stacks/catalog/workers.yaml")
    assert str(caught.value).startswith("stacks/catalog/workers.yaml: workers[blaze-storage]: ")
    assert problem in str(caught.value)


def test_a_good_waiver_is_kept_with_its_reason() -> None:
    workers = validate(WorkersFile, _workers_with([{"rule": "blaze-data-unused", "reason": f"  {REASON} "}]), "w.yaml")
    assert [(w.rule, w.reason) for w in workers.workers[0].waivers] == [("blaze-data-unused", REASON)]


def test_buckets_take_waivers_too() -> None:
    raw = yaml.safe_load((ROOT / "stacks/catalog/buckets.yaml").read_text())
    raw["buckets"][1]["waivers"] = [{"rule": "blaze-data-unused", "reason": "short"}]
    with pytest.raises(InputError, match=r"^stacks/catalog/buckets.yaml: buckets\[blaze-backups\]: waivers.0.reason"):
        validate(BucketsFile, raw, "stacks/catalog/buckets.yaml")


def test_the_shipped_catalog_waives_nothing() -> None:
    assert load_waivers(ROOT).all == ()


def _waive(project: ProjectCopy, rule: str, bucket: str = "blaze-media") -> None:
    def add(document: dict) -> None:
        entry = next(b for b in document["buckets"] if b["name"] == bucket)
        entry["waivers"] = [{"rule": rule, "reason": REASON}]

    project.edit_yaml("stacks/catalog/buckets.yaml", add)


def test_a_waiver_naming_no_rule_of_the_pack_is_an_input_error(project: ProjectCopy) -> None:
    _waive(project, "blaze-bucket-is-blue")
    with pytest.raises(InputError) as caught:
        catalog_waivers(load_catalog(project.root))
    assert str(caught.value).startswith(
        "stacks/catalog/buckets.yaml: buckets[blaze-media]: waivers.0.rule: no policy rule 'blaze-bucket-is-blue'"
    )


def test_the_migration_rule_cannot_be_waived_for_a_whole_entry(project: ProjectCopy) -> None:
    # A migration waives it in its own header; an entry's waiver would excuse every file.
    _waive(project, "blaze-d1-migration-data-loss")
    with pytest.raises(InputError) as caught:
        catalog_waivers(load_catalog(project.root))
    assert "waivers.0.rule: blaze-d1-migration-data-loss is waived in the migration itself" in str(caught.value)


def _unprotect(plan: dict, *names: str) -> dict:
    for name in names:
        find(plan, name)["options"]["protect"] = False
    return plan


def test_a_waived_finding_does_not_fail_the_check_and_is_printed_with_its_reason(
    planned: dict[str, Planned], project: ProjectCopy
) -> None:
    _waive(project, "blaze-data-protected")
    outcome = check(_unprotect(editable(planned["prod"].plan), "blaze-media-bucket"), "prod", load_waivers(project.root))
    assert outcome.passed and outcome.violations == []
    assert [(f.rule, f.urn.rsplit("::", 1)[1], f.waiver.reason) for f in outcome.waived] == [
        ("blaze-data-protected", "blaze-media-bucket", REASON)
    ]
    waived_lines = [line for line in render(outcome) if line.startswith("WAIVED")]
    assert waived_lines == [
        "WAIVED     [waived] blaze-data-protected on cloudflare:index/r2Bucket:R2Bucket::blaze-media-bucket: "
        "is not protected: a `pulumi destroy` or a removed catalog entry would delete its data "
        f"(waiver on stacks/catalog/buckets.yaml blaze-media: {REASON})"
    ]


def test_a_waiver_covers_only_its_own_entry_and_rule(planned: dict[str, Planned], project: ProjectCopy) -> None:
    _waive(project, "blaze-data-protected")
    plan = _unprotect(editable(planned["prod"].plan), "blaze-media-bucket", "blaze-backups-bucket")
    find(plan, "blaze-media-bucket")["inputs"]["name"] = "media"  # breaks naming, and so the storage binding
    outcome = check(plan, "prod", load_waivers(project.root))
    assert not outcome.passed
    assert sorted((v.rule, v.urn.rsplit("::", 1)[1]) for v in outcome.violations) == [
        ("blaze-binding-same-stack", "blaze-storage-script"),
        ("blaze-data-protected", "blaze-backups-bucket"),
        ("blaze-naming-stack-pattern", "blaze-media-bucket"),
    ]
    assert [f.urn.rsplit("::", 1)[1] for f in outcome.waived] == ["blaze-media-bucket"]


def test_no_waivers_means_an_empty_lookup() -> None:
    assert Waivers().covering("blaze-data-protected", "urn:pulumi:prod::blaze-infra::blaze:r2:Bucket::blaze-media") is None
