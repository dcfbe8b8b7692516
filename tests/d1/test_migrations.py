"""The D1 migrations step of the program, and the append-only rule for migration files."""

from __future__ import annotations

import pytest

from d1.migration_set import LOCK_FILE, load_migration_set, lock_problems, update_lock
from local.offline import plan_document, run_program
from policies.resource_types import D1_MIGRATIONS
from stacks.catalog import load_catalog
from stacks.errors import InputError
from tests.conftest import ROOT, STACKS, Planned, ProjectCopy

CATALOG = load_catalog(ROOT)


def _commands(plan: dict) -> dict[str, dict]:
    """The migration step of each database, by catalog database name."""
    return {
        r["name"].removesuffix("-migrations"): r
        for r in plan["resources"]
        if r["type"] == D1_MIGRATIONS and r["name"].endswith("-migrations")
    }


def _triggers(plan: dict) -> dict[str, dict[str, str]]:
    return {name: command["inputs"]["migrations"] for name, command in _commands(plan).items()}


@pytest.mark.parametrize("stack", STACKS)
def test_each_database_applies_its_own_migrations_after_it_exists(planned: dict[str, Planned], stack: str) -> None:
    plan = planned[stack].plan
    by_urn = {r["urn"]: r for r in plan["resources"]}
    commands = _commands(plan)
    assert sorted(commands) == sorted(db.name for db in CATALOG.databases)
    for database in CATALOG.databases:
        command = commands[database.name]
        where = command["urn"]
        parent = by_urn[command["parent"]]
        assert (parent["type"], parent["name"]) == ("blaze:d1:Database", database.name), where
        d1 = planned[stack].by_name(f"{database.name}-database")
        assert d1["urn"] in command["options"]["dependsOn"], where
        inputs = command["inputs"]
        assert inputs["database"] == d1["inputs"]["name"], where
        assert inputs["databaseId"] == planned[stack].run.outputs["d1"][database.name]["id"], where
        assert inputs["accountId"] == d1["inputs"]["accountId"], where
        assert inputs["directory"] == database.migrations_dir, where
        assert inputs["migrations"] == load_migration_set(ROOT, database.migrations_dir).files, where
        assert inputs["__provider"] == "[secret]", where
        assert not command["options"]["protect"], where


def _add_migration(project: ProjectCopy, migration_set: str, sql: str) -> None:
    folder = project.root / "workers" / "migrations" / migration_set
    number = max(int(p.name[:4]) for p in folder.glob("*.sql")) + 1
    (folder / f"{number:04d}_added_by_test.sql").write_text(sql)
    update_lock(project.root)


@pytest.mark.parametrize(
    ("migration_set", "expected"),
    [
        ("odds", ["blaze-odds"]),
        ("games", sorted(db.name for db in CATALOG.databases if db.migrations == "games")),
    ],
)
def test_a_new_migration_changes_the_step_of_exactly_the_databases_that_use_it(
    planned: dict[str, Planned], project: ProjectCopy, migration_set: str, expected: list[str]
) -> None:
    _add_migration(project, migration_set, "CREATE TABLE added_by_test (id INTEGER PRIMARY KEY);\n")
    before = _triggers(planned["staging"].plan)
    after = _triggers(plan_document(run_program("staging", project.config("staging"), root=project.root)))
    assert sorted(name for name in before if before[name] != after[name]) == expected
    # The step's diff names the added file, and only it.
    assert {name: sorted(set(after[name]) - set(before[name])) for name in expected} == {name: [f"{len(before[name]) + 1:04d}_added_by_test.sql"] for name in expected}


def test_the_step_reads_the_token_from_the_environment_like_the_provider(planned: dict[str, Planned]) -> None:
    # The engine starts the step's provider with the job's environment; a token among the
    # inputs would be stored in the state and could differ from the one the provider uses.
    for stack in ("staging", "prod"):
        commands = _commands(planned[stack].plan)
        assert len(commands) == len(CATALOG.databases)
        for name, command in commands.items():
            assert set(command["inputs"]) == {"__provider", "database", "databaseId", "accountId", "directory", "migrations"}, (stack, name)


def test_the_repository_keeps_applied_migrations_unchanged() -> None:
    assert [str(p) for p in lock_problems(ROOT)] == []


def test_editing_a_locked_migration_fails_the_check_and_stops_the_program(project: ProjectCopy) -> None:
    edited = project.root / "workers" / "migrations" / "media" / "0001_media_objects.sql"
    edited.write_text(edited.read_text().replace("uploaded_by TEXT NOT NULL", "uploader TEXT NOT NULL"))
    assert [str(p) for p in lock_problems(project.root)] == [
        "media/0001_media_objects.sql changed after it was locked: add a new migration instead of editing it"
    ]
    with pytest.raises(InputError) as raised:
        run_program("staging", project.config("staging"), root=project.root)
    assert raised.value.file == LOCK_FILE and "media/0001_media_objects.sql changed" in raised.value.problem


def test_removing_a_locked_migration_or_adding_an_unlocked_one_is_reported(project: ProjectCopy) -> None:
    folder = project.root / "workers" / "migrations"
    (folder / "odds" / "0001_events_and_lines.sql").unlink()
    (folder / "search" / "0002_unlocked.sql").write_text("CREATE TABLE unlocked (id INTEGER);\n")
    assert [str(p) for p in lock_problems(project.root)] == [
        "odds/0001_events_and_lines.sql was applied and is gone: migrations are append-only, restore it",
        f"search/0002_unlocked.sql is not in {LOCK_FILE}: run `python -m d1.migrations lock`",
    ]


def test_lock_records_new_files_and_never_rewrites_a_locked_hash(project: ProjectCopy) -> None:
    _add_migration(project, "search", "CREATE INDEX teams_by_abbreviation ON teams (abbreviation);\n")
    assert lock_problems(project.root) == []
    edited = project.root / "workers" / "migrations" / "search" / "0002_added_by_test.sql"
    edited.write_text("CREATE INDEX teams_by_city ON teams (city);\n")
    with pytest.raises(Exception, match="0002_added_by_test.sql changed after it was locked"):
        update_lock(project.root)


@pytest.mark.parametrize("stack", STACKS)
def test_every_worker_waits_for_the_migrations_of_the_databases_it_binds(planned: dict[str, Planned], stack: str) -> None:
    commands = {name: command["urn"] for name, command in _commands(planned[stack].plan).items()}
    for worker in CATALOG.workers:
        script = planned[stack].by_name(f"{worker.name}-script")
        waits_for = {urn for urn in script["options"]["dependsOn"] if urn in commands.values()}
        assert waits_for == {commands[target] for target in worker.d1.values()}, script["urn"]


def test_declaring_the_steps_leaves_the_pickler_as_it_found_it(project: ProjectCopy) -> None:
    # pulumi/pulumi#17803: the SDK wraps pickle's `_batch_setitems` once per dynamic resource
    # and never unwraps it; a process planning the fleet fifty times (this test session, an
    # Automation API host) then fails every pickle with RecursionError. The step puts the
    # pickler back, so planning twice leaves exactly what was there before.
    import pickle

    before = {attribute: pickle._Pickler.__dict__[attribute] for attribute in ("_batch_setitems", "save_dict")}  # noqa: SLF001
    for _ in range(2):
        run = run_program("staging", project.config("staging"), root=project.root)
        assert len(_commands(plan_document(run))) == len(CATALOG.databases)
    assert {attribute: pickle._Pickler.__dict__[attribute] for attribute in before} == before  # noqa: SLF001
