"""An adopted database (tables made by hand, no record of migrations) is migrated only from
its baseline, and only when its live schema is the one the files up to it make.

The migration step runs as the engine's dynamic provider runs it (d1/migration_step.py), with
real wrangler, against the loopback D1 API of local/d1_api.py (one SQLite per database).
"""

from __future__ import annotations

from d1.migration_set import load_migration_set
from d1.migration_step import step_inputs
from local.d1_api import D1Api, StepRun, run_step
from local.offline import OfflineRun
from policies.resource_types import D1_MIGRATIONS
from stacks.stack_file import read_stack_config
from tests.conftest import ROOT, Planned, ProjectCopy

DATABASE_ID = "6f1d0c3a-2b4e-4c5d-8e9f-0a1b2c3d4e5f"
MIGRATIONS = "workers/migrations/media"
FILES = load_migration_set(ROOT, MIGRATIONS).migrations
ACCOUNT = read_stack_config(ROOT / "Pulumi.prod.yaml", "Pulumi.prod.yaml").values["blaze-infra:accountId"]


def made_by_hand(api: D1Api, files: int, extra_sql: str = "") -> None:
    """The live database as the seed's account has it: the tables, no d1_migrations."""
    db = api.database(DATABASE_ID)
    for migration in FILES[:files]:
        db.executescript(migration.sql)
    db.executescript(extra_sql + "INSERT INTO media_objects (key, content_type, size, etag, uploaded_at, uploaded_by) "
                     "VALUES ('a.png', 'image/png', 3, 'e', '2026-11-30T00:00:00Z', 'token');")
    db.commit()


def migrate(api: D1Api, baseline: str | None, previous: StepRun | None = None) -> StepRun:
    inputs = step_inputs("blaze-media", DATABASE_ID, ACCOUNT, load_migration_set(ROOT, MIGRATIONS), baseline)
    return run_step(api, inputs, ROOT, previous.outputs if previous else None)


def writes(api: D1Api) -> list[str]:
    sql = [str((r.body or {}).get("sql", "")) for r in api.requests if r.path.endswith("/query")]
    return [s for s in sql if not s.lstrip().upper().startswith("SELECT")]


def recorded(api: D1Api) -> list[str]:
    return [name for (name,) in api.database(DATABASE_ID).execute("SELECT name FROM d1_migrations ORDER BY id")]


def test_an_adopted_database_without_a_baseline_is_refused_and_nothing_runs(api: D1Api) -> None:
    made_by_hand(api, files=2)
    done = migrate(api, baseline=None)
    assert done.outputs is None and done.error is not None
    assert "has tables (media_objects, upload_nonces) but its d1_migrations table records no migration" in done.error
    assert "d1Baselines" in done.error and writes(api) == []


def test_the_baseline_is_recorded_and_only_the_newer_files_run(api: D1Api) -> None:
    made_by_hand(api, files=2)
    done = migrate(api, baseline=FILES[1].name)
    point = done.restore_point
    assert point is not None and point["baseline"] == [FILES[0].name, FILES[1].name] and point["applies"] == [FILES[2].name]
    assert recorded(api) == [m.name for m in FILES]
    db = api.database(DATABASE_ID)
    assert "object_key" in {row[1] for row in db.execute("PRAGMA table_info(media_objects)")}
    assert db.execute("SELECT count(*) FROM media_objects").fetchone() == (1,)  # the live row survived
    # The restore point is taken before the record is written.
    ops = [(r.path.rsplit("/", 1)[-1], str((r.body or {}).get("sql", ""))) for r in api.requests]
    assert ops.index(("bookmark", "")) < next(i for i, (op, sql) in enumerate(ops) if sql.startswith("CREATE TABLE IF NOT EXISTS"))


def test_a_live_schema_that_differs_from_the_baseline_is_refused_naming_the_difference(api: D1Api) -> None:
    made_by_hand(api, files=2, extra_sql="DROP INDEX upload_nonces_by_expiry; ALTER TABLE media_objects ADD COLUMN note TEXT;")
    done = migrate(api, baseline=FILES[1].name)
    assert done.outputs is None and done.error is not None
    assert "index upload_nonces_by_expiry is missing" in done.error
    assert "column media_objects.note is not made by any migration" in done.error
    assert writes(api) == []


def test_a_baseline_that_is_not_a_file_of_the_set_is_refused(api: D1Api) -> None:
    made_by_hand(api, files=2)
    done = migrate(api, baseline="0002_nonces.sql")
    assert done.error is not None and "its baseline 0002_nonces.sql is not a file of workers/migrations/media/" in done.error
    assert api.requests == []


def test_a_database_that_wrangler_already_records_ignores_the_baseline(api: D1Api) -> None:
    first = migrate(api, baseline=None)
    assert first.outputs is not None and first.outputs["applied"] == [m.name for m in FILES]
    api.requests.clear()
    again = migrate(api, baseline=FILES[0].name, previous=first)
    assert again.outputs is not None and again.outputs["applied"] == [] and writes(api) == []


def test_the_program_gives_a_stacks_baseline_to_that_databases_migration_step_only(project: ProjectCopy, planned: dict[str, Planned]) -> None:
    project.edit_yaml("Pulumi.prod.yaml", lambda d: d["config"].update({"blaze-infra:d1Baselines": {"blaze-media": FILES[1].name}}))
    run = OfflineRun("prod", project.config("prod"), root=project.root, stack_outputs={"staging": planned["staging"].plan["outputs"]})
    run.execute()
    steps = {r.name: r.inputs for r in run.monitor.recorded() if r.type == D1_MIGRATIONS}
    assert steps["blaze-media-migrations"]["baseline"] == FILES[1].name
    assert [name for name, inputs in steps.items() if "baseline" in inputs] == ["blaze-media-migrations"]
    # The committed stacks set none, so no step's inputs changed for them.
    assert not any("baseline" in r["inputs"] for s in ("staging", "prod") for r in planned[s].of_type("D1Migrations"))
