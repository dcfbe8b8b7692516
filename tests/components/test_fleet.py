"""The whole program, run under Pulumi's mocks for both stacks, against the catalog."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from local.offline import is_secret_wrapper, plan_document, run_program
from stacks.catalog import load_catalog
from stacks.stack_file import REDACTED, StackConfig
from tests.conftest import ROOT, STACKS, Planned, stack_config

CATALOG = load_catalog(ROOT)
SUFFIX = {"staging": "-staging", "prod": ""}


def physical(stack: str, name: str) -> str:
    return f"{name}{SUFFIX[stack]}"


@pytest.mark.parametrize("stack", STACKS)
def test_counts(planned: dict[str, Planned], stack: str) -> None:
    p = planned[stack]
    assert len(p.of_type("WorkersScript")) == 72
    assert len(p.of_type("D1Database")) == 18
    assert len(p.of_type("WorkersKvNamespace")) >= 20
    assert {r["inputs"]["name"] for r in p.of_type("R2Bucket")} >= {physical(stack, "blaze-media"), physical(stack, "blaze-backups")}
    assert [r["inputs"]["bucketName"] for r in p.of_type("R2BucketCors")] == [physical(stack, "blaze-media")]
    assert physical(stack, "blaze-backups") in {r["inputs"]["bucketName"] for r in p.of_type("R2BucketLifecycle")}
    assert p.of_type("NotificationPolicyWebhooks") and p.of_type("NotificationPolicy")


@pytest.mark.parametrize("stack", STACKS)
def test_every_binding_resolves_to_a_resource_of_the_same_stack(planned: dict[str, Planned], stack: str) -> None:
    outputs = planned[stack].run.outputs
    d1 = {v["id"]: k for k, v in outputs["d1"].items()}
    kv = {v["id"]: k for k, v in outputs["kv"].items()}
    r2 = {v["name"]: k for k, v in outputs["r2"].items()}
    scripts = {v["scriptName"]: k for k, v in outputs["workers"].items()}
    cors = {r["inputs"]["bucketName"]: r["inputs"]["rules"][0]["allowed"]["origins"] for r in planned[stack].of_type("R2BucketCors")}
    for script in planned[stack].of_type("WorkersScript"):
        worker = CATALOG.worker(scripts[script["inputs"]["scriptName"]])
        expected = {binding: (kind, target) for kind, _, binding, target in worker.bindings()}
        bindings = script["inputs"]["bindings"]
        assert [b["name"] for b in bindings] == sorted(expected), script["urn"]
        for binding in bindings:
            kind, target = expected[binding["name"]]
            where = f"{script['urn']} binding {binding['name']}"
            if kind == "d1":
                assert (binding["type"], d1.get(binding["id"])) == ("d1", target), where
            elif kind == "kv":
                assert (binding["type"], kv.get(binding["namespaceId"])) == ("kv_namespace", target), where
            elif kind == "r2":
                assert (binding["type"], r2.get(binding["bucketName"])) == ("r2_bucket", target), where
            elif kind == "service":
                assert (binding["type"], scripts.get(binding["service"])) == ("service", target), where
            elif kind == "var":
                assert (binding["type"], binding["text"]) == ("plain_text", target), where
            elif kind == "origins":
                assert (binding["type"], binding["text"].split(",")) == ("plain_text", cors[physical(stack, target)]), where
            else:
                assert (binding["type"], binding["text"]) == ("secret_text", REDACTED), where


def test_no_resource_id_is_shared_between_stacks(planned: dict[str, Planned]) -> None:
    def ids(stack: str) -> set[str]:
        out = planned[stack].run.outputs
        return {v["id"] for group in ("d1", "kv") for v in out[group].values()} | {
            v["name"] for v in out["r2"].values()
        } | {v["scriptName"] for v in out["workers"].values()}

    assert not ids("staging") & ids("prod")


@pytest.mark.parametrize("stack", STACKS)
def test_names_follow_the_stack_pattern(planned: dict[str, Planned], stack: str) -> None:
    p = planned[stack]
    expected = {
        "WorkersScript": ("scriptName", [w.name for w in CATALOG.workers]),
        "D1Database": ("name", [d.name for d in CATALOG.databases]),
        "WorkersKvNamespace": ("title", [n.name for n in CATALOG.namespaces]),
        "R2Bucket": ("name", [b.name for b in CATALOG.buckets]),
    }
    for short, (field, names) in expected.items():
        got = sorted(r["inputs"][field] for r in p.of_type(short))
        assert got == sorted(physical(stack, n) for n in names), short
    for short in ("NotificationPolicy", "NotificationPolicyWebhooks"):
        for resource in p.of_type(short):
            assert re.fullmatch(rf"blaze-[a-z0-9-]+{SUFFIX[stack]}", resource["inputs"]["name"]), resource["urn"]


@pytest.mark.parametrize("stack", STACKS)
def test_data_is_protected_and_retained_in_prod_only(planned: dict[str, Planned], stack: str) -> None:
    data_types = {"D1Database", "WorkersKvNamespace", "R2Bucket"}
    for resource in planned[stack].plan["resources"]:
        short = resource["type"].rsplit(":", 1)[-1]
        options = resource["options"]
        want = stack == "prod" and short in data_types
        assert (options["protect"], options["retainOnDelete"]) == (want, want), resource["urn"]


@pytest.mark.parametrize(
    ("stack", "origins"),
    [
        ("staging", ["https://staging.blazesportsintel.com", "https://preview.blazesportsintel.com"]),
        ("prod", ["https://blazesportsintel.com", "https://www.blazesportsintel.com"]),
    ],
)
def test_cors_origins_are_the_stacks_own(planned: dict[str, Planned], stack: str, origins: list[str]) -> None:
    (cors,) = planned[stack].of_type("R2BucketCors")
    (rule,) = cors["inputs"]["rules"]
    assert rule["allowed"]["origins"] == origins
    assert rule["allowed"]["methods"] == ["GET", "HEAD", "PUT"]
    assert rule["maxAgeSeconds"] == 3600


@pytest.mark.parametrize("stack", STACKS)
def test_the_storage_worker_allows_the_origins_of_its_buckets_cors_rule(planned: dict[str, Planned], stack: str) -> None:
    (cors,) = planned[stack].of_type("R2BucketCors")
    (rule,) = cors["inputs"]["rules"]
    script = planned[stack].by_name("blaze-storage-script")
    (allowed,) = [b for b in script["inputs"]["bindings"] if b["name"] == "ALLOWED_ORIGINS"]
    assert allowed["type"] == "plain_text", script["urn"]
    assert allowed["text"].split(",") == rule["allowed"]["origins"], script["urn"]


@pytest.mark.parametrize("stack", STACKS)
def test_crons_match_the_catalog_less_the_stacks_disabled_ones(planned: dict[str, Planned], stack: str) -> None:
    unverified_source = {"blaze-cbase-ingest-rpi"}
    disabled = {
        "staging": {w.name for w in CATALOG.workers if w.name.endswith("-ingest-live")} | {"blaze-odds-ingest"} | unverified_source,
        "prod": unverified_source,
    }
    expected = {
        physical(stack, w.name): list(w.crons) for w in CATALOG.workers if w.crons and w.name not in disabled[stack]
    }
    got = {r["inputs"]["scriptName"]: [s["cron"] for s in r["inputs"]["schedules"]] for r in planned[stack].of_type("WorkersCronTrigger")}
    assert got == expected
    assert got[physical(stack, "blaze-monitor")] == ["*/5 * * * *", "0 6 * * *"]


@pytest.mark.parametrize("stack", STACKS)
def test_each_worker_deploys_its_familys_bundle_by_relative_path_and_digest(planned: dict[str, Planned], stack: str) -> None:
    outputs = planned[stack].run.outputs["workers"]
    for script in planned[stack].of_type("WorkersScript"):
        inputs = script["inputs"]
        name = next(k for k, v in outputs.items() if v["scriptName"] == inputs["scriptName"])
        family = CATALOG.worker(name).family
        assert inputs["contentFile"] == f"build/workers/{family}.js", script["urn"]
        assert not Path(inputs["contentFile"]).is_absolute()
        digest = hashlib.sha256((ROOT / inputs["contentFile"]).read_bytes()).hexdigest()
        assert inputs["contentSha256"] == digest == outputs[name]["sha256"], script["urn"]
        assert inputs["mainModule"] == f"{family}.js"
        assert "content" not in inputs


@pytest.mark.parametrize("stack", STACKS)
def test_workers_have_observability_and_the_catalogs_compatibility(planned: dict[str, Planned], stack: str) -> None:
    rate = {"staging": 1, "prod": 0.25}[stack]
    for script in planned[stack].of_type("WorkersScript"):
        inputs = script["inputs"]
        assert inputs["observability"] == {
            "enabled": True,
            "headSamplingRate": rate,
            "logs": {"enabled": True, "invocationLogs": True, "headSamplingRate": rate},
        }, script["urn"]
        assert inputs["compatibilityDate"] == CATALOG.defaults.compatibility_date
        assert inputs["compatibilityFlags"] == CATALOG.defaults.compatibility_flags


@pytest.mark.parametrize("stack", STACKS)
def test_routes_and_custom_domains_use_the_stacks_hosts(planned: dict[str, Planned], stack: str) -> None:
    host = {"staging": "staging.blazesportsintel.com", "prod": "blazesportsintel.com"}[stack]
    api = {"staging": "api-staging.blazesportsintel.com", "prod": "api.blazesportsintel.com"}[stack]
    routes = {r["inputs"]["pattern"]: r["inputs"]["script"] for r in planned[stack].of_type("WorkersRoute")}
    assert routes[f"{host}/api/media/*"] == physical(stack, "blaze-storage")
    assert routes[f"{host}/api/monitor/*"] == physical(stack, "blaze-monitor")
    domains = {r["inputs"]["hostname"]: r["inputs"]["service"] for r in planned[stack].of_type("WorkersCustomDomain")}
    assert domains[api] == physical(stack, "blaze-gateway")


def test_staging_and_prod_alert_different_people(planned: dict[str, Planned]) -> None:
    def recipients(stack: str) -> set[str]:
        found = set()
        for policy in planned[stack].of_type("NotificationPolicy"):
            mechanisms = policy["inputs"]["mechanisms"]
            found |= {m["id"] for kind in ("emails", "pagerduties") for m in mechanisms.get(kind, [])}
        return found

    assert recipients("staging") and recipients("prod")
    assert not recipients("staging") & recipients("prod")
    assert any(p["inputs"]["mechanisms"].get("pagerduties") for p in planned["prod"].of_type("NotificationPolicy"))
    assert not any(p["inputs"]["mechanisms"].get("pagerduties") for p in planned["staging"].of_type("NotificationPolicy"))


@pytest.mark.parametrize("stack", STACKS)
def test_secrets_reach_resources_only_inside_secret_values(stack: str) -> None:
    secrets = {key: f"TOPSECRET-{key.split(':')[1]}-9f3a" for key in _secret_keys()}
    config = StackConfig(values=stack_config(stack).values | secrets, secret_keys=sorted(secrets))
    run = run_program(stack, config, fill_missing_secrets=False)

    def leaks(value: object, path: str) -> list[str]:
        if is_secret_wrapper(value):
            return []
        if isinstance(value, dict):
            return [hit for k, v in value.items() for hit in leaks(v, f"{path}.{k}")]
        if isinstance(value, list):
            return [hit for i, v in enumerate(value) for hit in leaks(v, f"{path}[{i}]")]
        return [path] if isinstance(value, str) and "TOPSECRET" in value else []

    for record in run.registrations:
        assert leaks(record.inputs, record.urn) == []
    secret_texts = [
        b for r in run.registrations if r.type.endswith("WorkersScript")
        for wrapper in [r.inputs.get("bindings")] if is_secret_wrapper(wrapper)
        for b in wrapper["value"] if b["type"] == "secret_text"
    ]
    assert secret_texts and all(b["text"].startswith("TOPSECRET-") for b in secret_texts)
    assert "TOPSECRET" not in repr(plan_document(run))


def _secret_keys() -> list[str]:
    keys = set(CATALOG.secret_keys()) | {"opsWebhookUrl", "opsWebhookSecret"}
    return sorted(f"blaze-infra:{k}" for k in keys)


@pytest.mark.parametrize("stack", STACKS)
def test_components_share_one_skeleton(planned: dict[str, Planned], stack: str) -> None:
    resources = planned[stack].plan["resources"]
    by_urn = {r["urn"]: r for r in resources}
    modules = {p.stem for p in (ROOT / "components").glob("*.py")}
    for resource in resources:
        if resource["type"].startswith("blaze:"):
            _, module, name = resource["type"].split(":")
            assert module in modules and name[0].isupper(), resource["type"]
        else:
            parent = by_urn.get(resource["parent"])
            assert parent is not None and parent["type"].startswith("blaze:"), resource["urn"]
            assert resource["name"].startswith(parent["name"] + "-"), resource["urn"]
    fleet = [r for r in resources if r["type"] == "blaze:fleet:Fleet"]
    assert len(fleet) == 1


@pytest.mark.parametrize("stack", STACKS)
def test_outputs_name_every_resource_id_and_each_workers_digest(planned: dict[str, Planned], stack: str) -> None:
    p = planned[stack]
    outputs = p.run.outputs
    counts = {"d1": "D1Database", "kv": "WorkersKvNamespace", "r2": "R2Bucket"}
    for group, short in counts.items():
        assert len(outputs[group]) == len(p.of_type(short)) and all(v["id"] for v in outputs[group].values())
    workers = outputs["workers"]
    assert len(workers) == 72 and all(w["id"] and len(w["sha256"]) == 64 for w in workers.values())
    route_ids = [i for w in workers.values() for i in w["routeIds"]]
    domain_ids = [i for w in workers.values() for i in w["domainIds"]]
    assert len(route_ids) == len(p.of_type("WorkersRoute")) and len(domain_ids) == len(p.of_type("WorkersCustomDomain"))
    alerting = outputs["alerting"]
    assert len(alerting["webhooks"]) == len(p.of_type("NotificationPolicyWebhooks"))
    assert len(alerting["policies"]) == len(p.of_type("NotificationPolicy"))
