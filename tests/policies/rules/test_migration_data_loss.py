"""blaze-d1-migration-data-loss: numbered migrations that keep data pass; each one that loses it is named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from d1.migration_set import load_migration_set
from d1.migration_step import D1Migrations
from policies import resource_types as types
from policies.rules import migration_data_loss
from policies.rules.migration_data_loss import RULE, RULE_ID, judge
from stacks.catalog import load_catalog
from tests.conftest import ROOT, Planned, ProjectCopy
from tests.policies.sdk import context, validate_resource

SET = "workers/migrations/under_test"
# What the case's migration runs after. The Workers read games.venue and games.status
# (workers/src/api/datasets.ts); nothing of theirs reads `scratch`.
BASE = """\
CREATE TABLE games (game_id TEXT PRIMARY KEY, venue TEXT, status TEXT);
CREATE TABLE scratch (id INTEGER PRIMARY KEY, note TEXT, extra TEXT);
CREATE UNIQUE INDEX scratch_note ON scratch (note);
CREATE INDEX scratch_by_id ON scratch (id);
"""
REBUILD = "CREATE TABLE scratch_new (id INTEGER PRIMARY KEY, note TEXT, extra TEXT);\n{copy}\nDROP TABLE scratch;\nALTER TABLE scratch_new RENAME TO scratch;\n"
WAIVER = "-- waiver: blaze-d1-migration-data-loss: scratch held only test rows, dropped after the 2026 drill\n"

PASSING = {
    "P01 add a column": "ALTER TABLE scratch ADD COLUMN created_at TEXT;",
    "P02 create a table and an index": "CREATE TABLE kept (id INTEGER);\nCREATE INDEX kept_by_id ON kept (id);",
    "P03 rebuild copying every row with *": REBUILD.format(copy="INSERT INTO scratch_new SELECT * FROM scratch;"),
    "P04 rebuild copying every column by name": REBUILD.format(copy="INSERT INTO scratch_new (id, note, extra) SELECT id, note, extra FROM scratch;"),
    "P05 drop a non-unique index": "DROP INDEX scratch_by_id;",
    "P06 delete with where": "DELETE FROM scratch WHERE note IS NULL;",
    "P07 update with where": "UPDATE scratch SET note = 'x' WHERE id = 1;",
    "P08 rename a table no Worker queries": "ALTER TABLE scratch RENAME TO notes;",
    "P09 rename a column no Worker reads": "ALTER TABLE scratch RENAME COLUMN note TO body;",
    "P10 numbered parameters and comments": "-- a comment; with a semicolon\nINSERT INTO scratch (id, note) VALUES (1, ';');",
}

VIOLATING = {
    "V01 drop table": ("DROP TABLE scratch;", "drop table: DROP TABLE scratch deletes its rows"),
    "V02 drop table if exists": ("DROP TABLE IF EXISTS scratch;", "drop table: DROP TABLE scratch"),
    "V03 drop column": ("ALTER TABLE scratch DROP COLUMN extra;", "drop column: ALTER TABLE scratch DROP COLUMN extra deletes its values"),
    "V04 drop unique index": ("DROP INDEX scratch_note;", "drop unique index: DROP INDEX scratch_note removes the uniqueness of scratch"),
    "V05 drop an index the set never created": ("DROP INDEX IF EXISTS made_by_hand;", "drop index: DROP INDEX made_by_hand: no migration"),
    "V06 rebuild copying rows with where": (
        REBUILD.format(copy="INSERT INTO scratch_new SELECT id, note, extra FROM scratch WHERE note IS NOT NULL;"),
        "subset rebuild: DROP TABLE scratch after copying only a subset of it (INSERT INTO scratch_new SELECT ... FROM scratch: WHERE)",
    ),
    "V07 rebuild copying fewer columns": (
        REBUILD.format(copy="INSERT INTO scratch_new (id, note) SELECT id, note FROM scratch;"),
        "subset rebuild: DROP TABLE scratch after copying only a subset of it (INSERT INTO scratch_new SELECT ... FROM scratch: not the columns extra)",
    ),
    "V08 rebuild copying distinct rows": (
        REBUILD.format(copy="INSERT INTO scratch_new SELECT DISTINCT * FROM scratch;"),
        "subset rebuild: DROP TABLE scratch after copying only a subset of it (INSERT INTO scratch_new SELECT ... FROM scratch: DISTINCT)",
    ),
    "V09 delete without where": ("DELETE FROM scratch;", "delete without where: DELETE of every row of scratch"),
    "V10 update without where": ("UPDATE scratch SET note = NULL;", "update without where: UPDATE of every row of scratch"),
    "V11 rename a table a Worker queries": ("ALTER TABLE games RENAME TO fixtures;", "rename in use: ALTER TABLE games RENAME TO fixtures: the Workers still query games"),
    "V12 rename a column a Worker reads": (
        "ALTER TABLE games RENAME COLUMN venue TO stadium;",
        "rename in use: ALTER TABLE games RENAME COLUMN venue TO stadium: the Workers still read games.venue",
    ),
    "V13 a trigger sqlglot reads only as a Command": (
        "CREATE TRIGGER t AFTER INSERT ON scratch BEGIN DELETE FROM scratch; END;",
        "unreadable: sqlglot reads it only as",
    ),
    "V14 REPLACE INTO sqlglot does not model": ("REPLACE INTO scratch VALUES (1, 'a', 'b');", "unreadable: sqlglot reads it only as Command"),
    "V15 no statement at all": ("FROBNICATE scratch;", "unreadable: SQLite refuses it: near \"FROBNICATE\": syntax error"),
    "V16 a syntax error sqlglot forgives": ("CREATE TABLE broken (id INTEGER,, note TEXT);", "unreadable: SQLite refuses it: near \",\": syntax error"),
    "V17 SQL that reads as a bare expression to sqlglot": ("scratch.note;", "unreadable: SQLite refuses it"),
    "V18 a statement left unfinished": ("CREATE TABLE broken (note TEXT DEFAULT 'oops);", "unreadable: an incomplete statement ends the file"),
}


def _write(root: Path, case_sql: str) -> dict[str, str]:
    folder = root / SET
    folder.mkdir(parents=True)
    (folder / "0001_base.sql").write_text(BASE)
    (folder / "0002_case.sql").write_text(case_sql + "\n")
    return load_migration_set(root, SET).files


def _messages(project: ProjectCopy, case_sql: str) -> list[tuple[str, object]]:
    return list(judge(project.root, SET, _write(project.root, case_sql)))


@pytest.mark.parametrize("sql", PASSING.values(), ids=PASSING.keys())
def test_passing(project: ProjectCopy, sql: str) -> None:
    assert _messages(project, sql) == []


@pytest.mark.parametrize(("sql", "expected"), VIOLATING.values(), ids=VIOLATING.keys())
def test_violating(project: ProjectCopy, sql: str, expected: str) -> None:
    found = _messages(project, sql)
    assert len(found) == 1, found
    message, waiver = found[0]
    assert message.startswith("migration under_test/0002_case.sql:"), message
    assert expected in message, message
    assert waiver is None


def test_a_finding_names_the_line_of_its_statement(project: ProjectCopy) -> None:
    [(message, _)] = _messages(project, "-- keeps the notes\n\nALTER TABLE scratch ADD COLUMN a TEXT;\n\nDROP TABLE scratch;")
    assert message.startswith("migration under_test/0002_case.sql:5: drop table"), message


def test_a_waiver_in_the_file_header_keeps_the_finding_with_its_reason(project: ProjectCopy) -> None:
    [(message, waiver)] = _messages(project, WAIVER + "DROP TABLE scratch;")
    assert "drop table" in message
    assert waiver is not None and waiver.rule == RULE_ID and waiver.file == f"{SET}/0002_case.sql"
    assert waiver.reason == "scratch held only test rows, dropped after the 2026 drill"


@pytest.mark.parametrize(
    ("header", "problem"),
    [
        ("-- waiver: blaze-d1-migration-data-loss: too short\n", "line 1: waiver reason: a waiver reason needs at least 10"),
        ("-- waiver: blaze-d1-migration-data-loss: TODO explain this later\n", "is placeholder text"),
        ("-- waiver blaze-d1-migration-data-loss because it is fine\n", "line 1: write a waiver as `-- waiver: <rule-id>: <reason>`"),
        ("-- waiver: Blaze Data Loss: scratch held only test rows\n", "line 1: waiver rule: String should match pattern"),
        (WAIVER * 2, "line 2: rule 'blaze-d1-migration-data-loss' is waived twice"),
        ("ALTER TABLE scratch ADD COLUMN a TEXT;\n" + WAIVER, "line 2: a waiver belongs in the comment block before the first statement"),
    ],
    ids=["short reason", "placeholder", "malformed", "not a rule id", "twice", "after a statement"],
)
def test_a_malformed_waiver_is_a_finding_and_waives_nothing(project: ProjectCopy, header: str, problem: str) -> None:
    found = _messages(project, header + "DROP TABLE scratch;")
    waiver_problems = [m for m, _ in found if "drop table" not in m]
    assert len(waiver_problems) == 1 and problem in waiver_problems[0], found
    assert all(w is None for _, w in found)


def test_a_plan_of_other_migrations_than_the_repository_is_a_finding(project: ProjectCopy) -> None:
    files = _write(project.root, "ALTER TABLE scratch ADD COLUMN a TEXT;")
    stale = dict(files, **{"0002_case.sql": "0" * 64})
    [(message, _)] = judge(project.root, SET, stale)
    assert message == f"applies other migration files than {SET} in the repository holds (0002_case.sql): make the plan from this checkout"
    [(message, _)] = judge(project.root, SET, {name: sha for name, sha in files.items() if name != "0002_case.sql"})
    assert "(0002_case.sql)" in message


def _step(directory: str, files: dict[str, str]) -> dict:
    """The step's inputs as the program gives them (d1/migration_step.py step_inputs)."""
    return {"database": "db", "databaseId": "id", "accountId": "a", "directory": directory, "migrations": files}


def test_every_shipped_migration_set_passes_the_rule_as_the_pack_runs_it() -> None:
    for database in load_catalog(ROOT).databases:
        files = load_migration_set(ROOT, database.migrations_dir).files
        assert validate_resource(RULE, types.D1_MIGRATIONS, _step(database.migrations_dir, files)) == [], database.name


def test_the_policy_reports_unwaived_findings_and_ledgers_waived_ones(project: ProjectCopy, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(migration_data_loss, "PROJECT_ROOT", project.root)
    files = _write(project.root, "DROP TABLE scratch;")
    assert [m.split(":")[0:2] for m in validate_resource(RULE, types.D1_MIGRATIONS, _step(SET, files))] == [
        ["migration under_test/0002_case.sql", "1"]
    ]
    (project.root / SET / "0002_case.sql").write_text(WAIVER + "DROP TABLE scratch;\n")
    run = context()
    assert validate_resource(RULE, types.D1_MIGRATIONS, _step(SET, load_migration_set(project.root, SET).files), run=run) == []
    [waived] = run.ledger.findings()
    assert waived.rule == RULE_ID and "drop table" in waived.message


def test_the_rule_judges_the_type_the_program_registers(planned: dict[str, Planned]) -> None:
    steps = planned["prod"].of_type("D1Migrations")
    assert len(steps) == len(load_catalog(ROOT).databases) and {s["type"] for s in steps} == {types.D1_MIGRATIONS}
    assert D1Migrations._resource_type_name == types.D1_MIGRATIONS.split(":", 1)[1]


def test_prod_refuses_and_staging_reports() -> None:
    prod, staging = (json.loads((ROOT / f"policies/{s}.json").read_text()) for s in ("prod", "staging"))
    assert prod["all"] == "mandatory" and RULE_ID not in prod
    assert staging["all"] == "advisory" and RULE_ID not in staging
