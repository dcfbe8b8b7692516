"""Both plans' Cloudflare inputs, checked by the Cloudflare provider's own schemas and validators."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Callable

import pytest

from engine import provider_schema
from tests.conftest import ROOT, STACKS, Planned


@pytest.fixture(scope="session")
def schemas(binaries: dict[str, Path]) -> dict[str, Any]:
    return provider_schema.load_schemas(binaries["schemacheck"])


def check(resources: list[dict[str, Any]], schemas: dict[str, Any], binaries: dict[str, Path]) -> list[str]:
    return [str(f) for f in provider_schema.check(resources, schemas, binaries["schemacheck"], ROOT)]


@pytest.mark.parametrize("stack", STACKS)
def test_every_cloudflare_input_of_the_plan_is_accepted_by_the_provider(
    stack: str, planned: dict[str, Planned], schemas: dict[str, Any], binaries: dict[str, Path]
) -> None:
    resources = planned[stack].plan["resources"]
    cloudflare = [r for r in resources if r["type"].startswith("cloudflare:")]
    assert {provider_schema.terraform_type(r["type"]) for r in cloudflare} == set(schemas), "a type the check does not cover"
    assert check(resources, schemas, binaries) == []


def _first(resources: list[dict[str, Any]], short: str) -> dict[str, Any]:
    return copy.deepcopy(next(r for r in resources if r["type"].endswith(f":{short}")))


def _set(short: str, key: str, value: Any) -> Callable[[list[dict[str, Any]]], dict[str, Any]]:
    def edit(resources: list[dict[str, Any]]) -> dict[str, Any]:
        resource = _first(resources, short)
        resource["inputs"][key] = value
        return resource

    return edit


def _drop(short: str, key: str) -> Callable[[list[dict[str, Any]]], dict[str, Any]]:
    def edit(resources: list[dict[str, Any]]) -> dict[str, Any]:
        resource = _first(resources, short)
        del resource["inputs"][key]
        return resource

    return edit


def _binding(key: str, value: Any) -> Callable[[list[dict[str, Any]]], dict[str, Any]]:
    def edit(resources: list[dict[str, Any]]) -> dict[str, Any]:
        resource = _first(resources, "WorkersScript")
        resource["inputs"]["bindings"][0][key] = value
        return resource

    return edit


# Numbered violations: each input the SDK takes as it is (it checks no enumeration, file or
# computed attribute), and the message the provider's own code gives for it.
VIOLATIONS = [
    ("1-content-file-does-not-match-its-sha256", _set("WorkersScript", "contentSha256", "0" * 64),
     'AttributeName("content_sha256"): SHA-256 Hash Mismatch: The provided SHA-256 hash'),
    ("2-bucket-location-outside-the-enumeration", _set("R2Bucket", "location", "moon"),
     'AttributeName("location"): Invalid Attribute Value Match: Attribute location value must be one of: ["apac"'),
    ("3-alert-type-the-provider-does-not-know", _set("NotificationPolicy", "alertType", "workers_alert"),
     'AttributeName("alert_type"): Invalid Attribute Value Match'),
    ("4-property-the-resource-does-not-have", _set("D1Database", "primaryRegion", "weur"),
     "primaryRegion: not an attribute of the resource (no 'primary_region'"),
    ("5-output-set-as-an-input", _set("D1Database", "uuid", "6f1c0e52-0000-4000-8000-000000000000"),
     "uuid: 'uuid' is computed by the provider, not an input"),
    ("6-required-input-missing", _drop("WorkersKvNamespace", "title"), "title: required by the provider, missing"),
    ("7-value-of-the-wrong-type", _set("WorkersCronTrigger", "schedules", "*/5 * * * *"),
     "schedules: a list of objects is expected, not str"),
    ("8-nested-property-misspelt", _binding("bucket", "blaze-backups"), "bindings[0].bucket: not an attribute of the resource"),
]


@pytest.mark.parametrize(("edit", "expected"), [v[1:] for v in VIOLATIONS], ids=[v[0] for v in VIOLATIONS])
def test_an_input_the_provider_refuses_is_named_with_the_providers_message(
    edit: Callable[[list[dict[str, Any]]], dict[str, Any]], expected: str,
    planned: dict[str, Planned], schemas: dict[str, Any], binaries: dict[str, Path],
) -> None:
    broken = edit(planned["staging"].plan["resources"])
    findings = check([broken], schemas, binaries)
    assert len(findings) == 1 and findings[0].startswith(broken["urn"] + ": "), findings
    assert expected in findings[0], findings[0]
