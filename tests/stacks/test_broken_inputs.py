"""Broken catalogs and stack configs: one clear error each, and nothing registered."""

from __future__ import annotations

from datetime import date
from typing import Any, Callable

import pytest

from local.offline import OfflineRun
from stacks.errors import InputError
from stacks.yamlfile import parse_yaml
from tests.conftest import ProjectCopy

WORKERS = "stacks/catalog/workers.yaml"
DATABASES = "stacks/catalog/databases.yaml"


def worker(document: dict[str, Any], name: str) -> dict[str, Any]:
    return next(w for w in document["workers"] if w["name"] == name)


def config(document: dict[str, Any], key: str) -> Any:
    return document["config"][f"blaze-infra:{key}"]


def set_config(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(document: dict[str, Any]) -> None:
        document["config"][f"blaze-infra:{key}"] = value

    return change


# (id, file edited, edit, expected message: file, entry, field, problem fragment)
CASES: list[tuple[str, str, Callable[[Any], None], tuple[str, str, str, str]]] = [
    (
        "missing binding target",
        WORKERS,
        lambda d: worker(d, "blaze-storage")["d1"].update(DB="blaze-medai"),
        (WORKERS, "workers[blaze-storage]", "d1.DB", "no d1 resource named 'blaze-medai'"),
    ),
    (
        "missing service target",
        WORKERS,
        lambda d: worker(d, "blaze-gateway")["services"].update(MLB_SCORES="blaze-mlb-scorez"),
        (WORKERS, "workers[blaze-gateway]", "services.MLB_SCORES", "no Worker named 'blaze-mlb-scorez'"),
    ),
    (
        "cors origins of a bucket without cors",
        WORKERS,
        lambda d: worker(d, "blaze-storage")["cors_origins"].update(ALLOWED_ORIGINS="blaze-backups"),
        (WORKERS, "workers[blaze-storage]", "cors_origins.ALLOWED_ORIGINS", "no bucket named 'blaze-backups' with a cors section"),
    ),
    (
        "duplicate database name",
        DATABASES,
        lambda d: d["databases"].append(dict(d["databases"][0])),
        (DATABASES, "databases[blaze-mlb-games]", "name", "duplicate name"),
    ),
    (
        "duplicate worker name",
        WORKERS,
        lambda d: d["workers"].append(dict(worker(d, "blaze-monitor"))),
        (WORKERS, "workers[blaze-monitor]", "name", "duplicate name"),
    ),
    (
        "binding name used twice",
        WORKERS,
        lambda d: worker(d, "blaze-storage")["kv"].update(DB="blaze-rate-limits"),
        (WORKERS, "workers[blaze-storage]", "kv.DB", "also used in d1"),
    ),
    (
        "bad cron",
        WORKERS,
        lambda d: worker(d, "blaze-monitor").update(crons=["*/5 * * *"]),
        (WORKERS, "workers[blaze-monitor]", "crons.0", "not a five-field cron expression"),
    ),
    (
        "cron with seconds",
        WORKERS,
        lambda d: worker(d, "blaze-monitor").update(crons=["0 */5 * * * *"]),
        (WORKERS, "workers[blaze-monitor]", "crons.0", "not a five-field cron expression"),
    ),
    (
        "day of week outside Cloudflare's 1-7",
        WORKERS,
        lambda d: worker(d, "blaze-backup").update(crons=["30 3 * * 0"]),
        (WORKERS, "workers[blaze-backup]", "crons.0", "0 is outside Cloudflare's 1-7 (1 = SUN to 7 = SAT)"),
    ),
    (
        "day of week as a number",
        WORKERS,
        lambda d: worker(d, "blaze-backup").update(crons=["30 3 * * 2"]),
        (WORKERS, "workers[blaze-backup]", "crons.0", "2 is MON here (TUE in Vixie cron): write MON, or TUE"),
    ),
    (
        "cron form Cloudflare does not take",
        WORKERS,
        lambda d: worker(d, "blaze-backup").update(crons=["@daily"]),
        (WORKERS, "workers[blaze-backup]", "crons.0", "not a five-field cron expression"),
    ),
    (
        "bad binding identifier",
        WORKERS,
        lambda d: worker(d, "blaze-storage")["d1"].update({"MEDIA-DB": "blaze-media"}),
        (WORKERS, "workers[blaze-storage]", "d1.MEDIA-DB", "not a valid JavaScript identifier"),
    ),
    (
        "reserved word binding",
        WORKERS,
        lambda d: worker(d, "blaze-storage")["vars"].update({"class": "x"}),
        (WORKERS, "workers[blaze-storage]", "vars.class", "reserved word"),
    ),
    (
        "unknown key",
        WORKERS,
        lambda d: worker(d, "blaze-monitor").update(cronz=["0 6 * * *"]),
        (WORKERS, "workers[blaze-monitor]", "cronz", "unknown key"),
    ),
    (
        "wrong type",
        WORKERS,
        lambda d: worker(d, "blaze-storage")["vars"].update(MAX_UPLOAD_BYTES=104857600),
        (WORKERS, "workers[blaze-storage]", "vars.MAX_UPLOAD_BYTES", "valid string"),
    ),
    (
        "unknown family",
        WORKERS,
        lambda d: worker(d, "blaze-backup").update(family="backups"),
        (WORKERS, "workers[blaze-backup]", "family", "unknown family 'backups'"),
    ),
    (
        "service binding cycle",
        WORKERS,
        lambda d: worker(d, "blaze-mlb-scores").update(services={"GATEWAY": "blaze-gateway"}),
        (WORKERS, "workers[", "services", "service bindings form a cycle"),
    ),
    (
        "bad resource name",
        DATABASES,
        lambda d: d["databases"][0].update(name="Blaze_MLB"),
        (DATABASES, "databases[Blaze_MLB]", "name", "lowercase letters, digits or hyphens"),
    ),
    (
        "missing account id",
        "Pulumi.staging.yaml",
        lambda d: d["config"].pop("blaze-infra:accountId"),
        ("Pulumi.staging.yaml", "blaze-infra:accountId", "-", "missing (required)"),
    ),
    (
        "malformed account id",
        "Pulumi.staging.yaml",
        set_config("accountId", "not-an-account"),
        ("Pulumi.staging.yaml", "blaze-infra:accountId", "-", "should match pattern"),
    ),
    (
        "unknown config key",
        "Pulumi.staging.yaml",
        set_config("protectDta", True),
        ("Pulumi.staging.yaml", "blaze-infra:protectDta", "-", "unknown config key"),
    ),
    (
        "wrong config type",
        "Pulumi.staging.yaml",
        set_config("protectData", "yes"),
        ("Pulumi.staging.yaml", "blaze-infra:protectData", "-", "valid boolean"),
    ),
    (
        "unknown key in structured config",
        "Pulumi.staging.yaml",
        lambda d: config(d, "zones")["site"].update(zoneId="x"),
        ("Pulumi.staging.yaml", "blaze-infra:zones", "site.zoneId", "unknown key"),
    ),
    (
        "cors origin with a path",
        "Pulumi.staging.yaml",
        lambda d: config(d, "corsOrigins")["blaze-media"].append("https://example.com/upload"),
        ("Pulumi.staging.yaml", "blaze-infra:corsOrigins", "blaze-media.2", "not an origin"),
    ),
    (
        "host outside its zone",
        "Pulumi.staging.yaml",
        lambda d: config(d, "hosts")["api"].update(hostname="api.example.org"),
        ("Pulumi.staging.yaml", "blaze-infra:hosts", "api.hostname", "not in zone"),
    ),
    (
        "disabled cron of an unknown worker",
        "Pulumi.staging.yaml",
        lambda d: config(d, "disabledCrons").append("blaze-nope"),
        ("Pulumi.staging.yaml", "blaze-infra:disabledCrons", "8", "not a Worker with crons"),
    ),
    (
        "baseline of a database the catalog does not have",
        "Pulumi.prod.yaml",
        set_config("d1Baselines", {"blaze-medai": "0001_media_objects.sql"}),
        ("Pulumi.prod.yaml", "blaze-infra:d1Baselines", "blaze-medai", "not a catalog database"),
    ),
    (
        "baseline that is not a file of the database's migration set",
        "Pulumi.prod.yaml",
        set_config("d1Baselines", {"blaze-media": "0002_nonces.sql"}),
        ("Pulumi.prod.yaml", "blaze-infra:d1Baselines", "blaze-media", "no migration 0002_nonces.sql in workers/migrations/media/"),
    ),
    (
        "baseline that is not a migration file name",
        "Pulumi.prod.yaml",
        set_config("d1Baselines", {"blaze-media": "latest"}),
        ("Pulumi.prod.yaml", "blaze-infra:d1Baselines", "blaze-media", "should match pattern"),
    ),
    (
        "alert routed to an unknown destination",
        "Pulumi.staging.yaml",
        lambda d: config(d, "alerts")["policies"][0]["to"].update(pagerduty=["primary"]),
        ("Pulumi.staging.yaml", "blaze-infra:alerts", "policies[cloudflare-incidents].to.pagerduty", "no destination 'primary'"),
    ),
    (
        "name pattern without the name",
        "Pulumi.staging.yaml",
        set_config("namePattern", "staging"),
        ("Pulumi.staging.yaml", "blaze-infra:namePattern", "-", "must contain '{name}'"),
    ),
    (
        "secret stored in plain text",
        "Pulumi.staging.yaml",
        set_config("opsWebhookUrl", "https://hooks.example.com/T000/B000"),
        ("Pulumi.staging.yaml", "blaze-infra:opsWebhookUrl", "-", "stored in plain text"),
    ),
    (
        "provider token in the stack file",
        "Pulumi.staging.yaml",
        lambda d: d["config"].update({"cloudflare:apiToken": "x" * 40}),
        ("Pulumi.staging.yaml", "cloudflare:apiToken", "-", "export CLOUDFLARE_API_TOKEN for the job instead"),
    ),
    (
        "promotion source named with its organisation",
        "Pulumi.prod.yaml",
        lambda d: d["config"].update({"blaze-infra:promotion": {"stagingStack": "blazesportsintel/blaze-infra/staging"}}),
        ("Pulumi.prod.yaml", "blaze-infra:promotion", "stagingStack", "give the stack's name only"),
    ),
]


@pytest.mark.parametrize(("file", "edit", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_broken_input_fails_with_one_clear_error_and_registers_nothing(
    project: ProjectCopy, file: str, edit: Callable[[Any], None], expected: tuple[str, str, str, str]
) -> None:
    project.edit_yaml(file, edit)
    stack = file.removeprefix("Pulumi.").removesuffix(".yaml") if file.startswith("Pulumi.") else "staging"
    run = OfflineRun(stack, project.config(stack), root=project.root, stack_outputs={"staging": {}})
    with pytest.raises(InputError) as caught:
        run.execute()
    error = caught.value
    want_file, want_entry, want_field, want_problem = expected
    assert (error.file, error.field) == (want_file, want_field), str(error)
    assert error.entry.startswith(want_entry), str(error)
    assert want_problem in error.problem, str(error)
    assert run.monitor.recorded() == [], "a rejected input must register nothing"


def test_a_key_written_twice_in_yaml_is_an_error(project: ProjectCopy) -> None:
    path = project.root / WORKERS
    path.write_text(path.read_text().replace("  family: storage\n", "  family: storage\n  family: api\n", 1))
    line = path.read_text().splitlines().index("  family: api") + 1
    run = OfflineRun("staging", project.config("staging"), root=project.root)
    with pytest.raises(InputError, match=rf"workers\.yaml: yaml: line {line}, column 3: found duplicate key \"family\"$"):
        run.execute()
    assert run.monitor.recorded() == []


def test_yaml_is_read_as_yaml_1_1_as_it_always_was() -> None:
    # ruamel.yaml's default is YAML 1.2, where `yes` and `off` are strings and 0755 is 755.
    assert parse_yaml(b"a: yes\nb: 0755\nc: off\nd: 2026-01-01\n", "x.yaml") == {"a": True, "b": 493, "c": False, "d": date(2026, 1, 1)}


def test_a_missing_secret_names_the_key_and_how_to_set_it(project: ProjectCopy) -> None:
    run = OfflineRun("staging", project.config("staging"), root=project.root, fill_missing_secrets=False)
    with pytest.raises(InputError, match=r"pulumi config set --secret blaze-infra:\w+"):
        run.execute()
    assert run.monitor.recorded() == []


def test_the_unbroken_copy_runs(project: ProjectCopy) -> None:
    """The copy itself is sound, so each failure above comes from its one edit."""
    run = OfflineRun("staging", project.config("staging"), root=project.root).execute()
    assert sum(r.type.endswith("WorkersScript") for r in run.registrations) == 72
