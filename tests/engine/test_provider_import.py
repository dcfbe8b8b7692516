"""`make adopt`'s import ids, imported by the Cloudflare provider's own import code.

The import file is written by operations/adopt.main against the loopback account
(local/cloudflare_api/); each Cloudflare entry's id then goes to `schemacheck import`, the
Terraform provider's ImportState for its type (what `pulumi import --file` runs through the
bridge), pointed at the same loopback API. The provider must parse every id, ask the API for
exactly the declared resource, and get back a state that names it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

import pytest

from engine import provider_import
from engine.provider_schema import snake, terraform_type
from local.cloudflare_api import TOKEN, Account, CloudflareApi, Request
from local.cloudflare_api.hand_made import live_account
from tests.conftest import Planned
from tests.operations.accounts import adopted_import_file, project_with_plans

# The attribute of each imported state that names the resource as the plan declares it.
NAMED_BY = {
    "cloudflare_workers_script": "script_name",
    "cloudflare_workers_cron_trigger": "script_name",
    "cloudflare_d1_database": "name",
    "cloudflare_workers_kv_namespace": "title",
    "cloudflare_r2_bucket": "name",
    "cloudflare_workers_route": "pattern",
    "cloudflare_workers_custom_domain": "hostname",
    "cloudflare_notification_policy": "name",
    "cloudflare_notification_policy_webhooks": "name",
}


def _named(items: list[Any], attribute: str, value: str) -> Any:
    return next(item for item in items if getattr(item, attribute) == value)


def _route_path(account: Account, pattern: str) -> str:
    zone = next(z for z in account.zones if any(r.pattern == pattern for r in z.routes))
    return f"/zones/{zone.id}/workers/routes/{_named(zone.routes, 'pattern', pattern).id}"


# The one GET each type's ImportState must send for the declared resource, found in the live
# account by its name (not from the import id, which is what is being checked).
ASKED_FOR: dict[str, Callable[[Account, str], str]] = {
    "cloudflare_workers_script": lambda a, name: f"/accounts/{a.id}/workers/scripts/{name}",
    "cloudflare_workers_cron_trigger": lambda a, name: f"/accounts/{a.id}/workers/scripts/{name}/schedules",
    "cloudflare_d1_database": lambda a, name: f"/accounts/{a.id}/d1/database/{_named(a.databases, 'name', name).uuid}",
    "cloudflare_workers_kv_namespace": lambda a, title: f"/accounts/{a.id}/storage/kv/namespaces/{_named(a.namespaces, 'title', title).id}",
    "cloudflare_r2_bucket": lambda a, name: f"/accounts/{a.id}/r2/buckets/{name}",
    "cloudflare_workers_route": _route_path,
    "cloudflare_workers_custom_domain": lambda a, host: f"/accounts/{a.id}/workers/domains/{_named(a.domains, 'hostname', host).id}",
    "cloudflare_notification_policy": lambda a, name: f"/accounts/{a.id}/alerting/v3/policies/{_named(a.policies, 'name', name).id}",
    "cloudflare_notification_policy_webhooks":
        lambda a, name: f"/accounts/{a.id}/alerting/v3/destinations/webhooks/{_named(a.webhooks, 'name', name).id}",
}


@dataclass
class Adopted:
    api: CloudflareApi
    account: Account
    document: dict[str, Any]
    declared: dict[tuple[str, str], Mapping[str, Any]]  # (type token, import id) -> the plan's inputs


@pytest.fixture(scope="module")
def adopted(planned: dict[str, Planned], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Adopted]:
    account = live_account(planned)
    resources = planned["prod"].plan["resources"]
    inputs = {(r["type"], r["name"]): r["inputs"] for r in resources}
    assert len(inputs) == len(resources), "a type and name the plan repeats"
    with CloudflareApi(account) as api:
        document = adopted_import_file(api, project_with_plans(planned, tmp_path_factory.mktemp("adopt")))
        declared = {(e["type"], e["id"]): inputs[(e["type"], e.get("logicalName", e["name"]))] for e in document["resources"] if "id" in e}
        yield Adopted(api, account, document, declared)


def import_through_the_provider(adopted: Adopted, entries: list[tuple[str, str]], schemacheck: Path,
                                ) -> tuple[list[provider_import.Imported], list[Request]]:
    """The provider's answers, and the requests it sent to the loopback API."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CLOUDFLARE_")}
    environment |= {"CLOUDFLARE_BASE_URL": adopted.api.base_url, "CLOUDFLARE_API_TOKEN": TOKEN}
    start = len(adopted.api.requests)
    answers = provider_import.import_states(entries, schemacheck, environment)
    return answers, adopted.api.requests[start:]


def name_in_plan(inputs: Mapping[str, Any], attribute: str) -> Any:
    return next(value for key, value in inputs.items() if snake(key) == attribute)


def test_the_provider_imports_every_resource_of_the_file_and_reads_exactly_it(adopted: Adopted, binaries: dict[str, Path]) -> None:
    entries = provider_import.cloudflare_entries(adopted.document)
    assert {terraform_type(token) for token, _ in entries} == set(NAMED_BY), "a type the check does not cover"
    answers, sent = import_through_the_provider(adopted, entries, binaries["schemacheck"])
    expected_paths = []
    for (token, import_id), answer in zip(entries, answers):
        assert answer.errors == (), str(answer)
        attribute = NAMED_BY[answer.type]
        declared_name = name_in_plan(adopted.declared[(token, import_id)], attribute)
        assert answer.state is not None and answer.state[attribute] == declared_name, (str(answer), answer.state)
        expected_paths.append("/client/v4" + ASKED_FOR[answer.type](adopted.account, declared_name))
    assert sorted((r.method, r.path) for r in sent) == sorted(("GET", p) for p in expected_paths)
    buckets = [r for r in sent if "/r2/buckets/" in r.path]
    assert buckets and all(r.headers.get("cf-r2-jurisdiction") == "default" for r in buckets)


def _first(entries: list[tuple[str, str]], short: str) -> tuple[str, str]:
    return next(e for e in entries if e[0].endswith(f":{short}"))


def test_a_script_and_its_cron_triggers_are_imported_with_only_what_their_id_names(
    adopted: Adopted, binaries: dict[str, Path],
) -> None:
    # Found here, not bent into the fake: the script's ImportState JSON-decodes the Download
    # Worker answer, which is the script's own text (the reference: "not JSON encoded"), and
    # finds no field in it; the cron trigger's `schedules` are tagged no_refresh, which the
    # provider's decoder skips (its Read too). Both succeed with the state the id gives.
    entries = provider_import.cloudflare_entries(adopted.document)
    [script, crons], sent = import_through_the_provider(
        adopted, [_first(entries, "WorkersScript"), _first(entries, "WorkersCronTrigger")], binaries["schemacheck"])
    assert script.errors == () and script.state is not None
    assert {k for k, v in script.state.items() if v is not None} == {"id", "account_id", "script_name"}
    assert sent[0].path.endswith(f"/workers/scripts/{script.state['script_name']}")
    assert sent[0].headers["accept"] == "application/javascript"  # it asked for the script's text
    assert crons.errors == () and crons.state is not None and crons.state["schedules"] is None
    live = next(s for s in adopted.account.scripts if s.name == crons.state["script_name"])
    assert live.crons, "the script has cron triggers live, which the import does not record"


def _swap(import_id: str) -> str:
    account, namespace = import_id.split("/")
    return f"{namespace}/{account}"


def _jurisdiction(jurisdiction: str) -> Callable[[str], str]:
    return lambda import_id: import_id.rsplit("/", 1)[0] + jurisdiction


# Ids the provider must not import: (what is wrong, the type, how the id is broken, the error,
# what the provider then asks for: (path below /client/v4 from the broken id's segments,
# cf-r2-jurisdiction), or None when it asks for nothing).
BROKEN_IDS = [
    ("1-namespace-id-and-account-id-swapped", "WorkersKvNamespace", _swap,
     "failed to make http request", lambda s: (f"/accounts/{s[0]}/storage/kv/namespaces/{s[1]}", None)),
    ("2-bucket-id-without-its-jurisdiction", "R2Bucket", _jurisdiction(""),
     'invalid ID: expected urlencoded segments "<account_id>/<bucket_name>/<jurisdiction>"', None),
    ("3-bucket-in-another-jurisdiction", "R2Bucket", _jurisdiction("/eu"),
     "failed to make http request", lambda s: (f"/accounts/{s[0]}/r2/buckets/{s[1]}", "eu")),
]


@pytest.mark.parametrize(("short", "break_id", "error", "asked"), [b[1:] for b in BROKEN_IDS], ids=[b[0] for b in BROKEN_IDS])
def test_an_id_in_another_form_is_refused_by_the_provider(
    adopted: Adopted, binaries: dict[str, Path], short: str, break_id: Callable[[str], str], error: str,
    asked: Callable[[list[str]], tuple[str, str | None]] | None,
) -> None:
    # The control: the provider really parses the id and fetches what it names, so what it
    # imported above is its verdict on the ids adopt writes.
    token, import_id = _first(provider_import.cloudflare_entries(adopted.document), short)
    broken = break_id(import_id)
    [answer], sent = import_through_the_provider(adopted, [(token, broken)], binaries["schemacheck"])
    assert answer.state is None and any(e.startswith(error) for e in answer.errors), str(answer)
    if asked is None:
        assert sent == []
    else:
        path, jurisdiction = asked(broken.split("/"))
        assert [(r.method, r.path, r.headers.get("cf-r2-jurisdiction")) for r in sent] == [("GET", "/client/v4" + path, jurisdiction)]
