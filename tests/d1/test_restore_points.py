"""A restore point before every migration, and the restore that goes back to it.

The migration step runs as the engine's dynamic provider runs it (d1/migration_step.py, with
the inputs the program gives it), with real wrangler, against a loopback stand-in of the D1
API (local/d1_api.py) that keeps each database in SQLite. The restore is `python -m d1.restore`, what `make restore` runs.
"""

from __future__ import annotations

import json
import os
import subprocess
from unittest import mock
import sys
from pathlib import Path

from d1.migration_set import load_migration_set
from d1.migration_step import MigrationStep, step_inputs
from local.d1_api import BOOKMARK, TOKEN, D1Api, StepRun, run_step
from stacks.stack_file import read_stack_config
from tests.conftest import ROOT, ProjectCopy

DATABASE_ID = "1c0ac5ea-d394-a5c2-9977-bc7f276e252c"
MIGRATIONS = "workers/migrations/odds"
ACCOUNT = read_stack_config(ROOT / "Pulumi.staging.yaml", "Pulumi.staging.yaml").values["blaze-infra:accountId"]


INPUTS = step_inputs("blaze-odds-staging", DATABASE_ID, ACCOUNT, load_migration_set(ROOT, MIGRATIONS), None)


def migrate(api: D1Api) -> StepRun:
    return run_step(api, INPUTS, ROOT)


def tables(api: D1Api) -> set[str]:
    rows = api.database(DATABASE_ID).execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return {name for (name,) in rows} - {"sqlite_sequence"}


def test_the_bookmark_is_read_before_anything_is_applied_and_recorded(api: D1Api) -> None:
    done = migrate(api)
    point = done.restore_point
    files = [m.name for m in load_migration_set(ROOT, MIGRATIONS).migrations]
    assert point is not None and point["bookmark"] == BOOKMARK and point["applies"] == files
    assert done.outputs is not None and done.outputs["applied"] == files
    assert point["database"] == "blaze-odds-staging" and point["databaseId"] == DATABASE_ID
    # The bookmark request comes before the first statement that changes the database.
    methods = [(r.method, r.path.rsplit("/", 1)[-1], (r.body or {}).get("sql", "")) for r in api.requests]
    bookmark_at = methods.index(("GET", "bookmark", ""))
    first_write = next(i for i, (_, op, sql) in enumerate(methods) if op == "query" and not sql.lstrip().upper().startswith("SELECT"))
    assert bookmark_at < first_write
    applied = {name for (name,) in api.database(DATABASE_ID).execute("SELECT name FROM d1_migrations")}
    assert applied == set(files) and "odds_events" in tables(api)


def test_with_nothing_pending_no_bookmark_is_taken(api: D1Api) -> None:
    first = migrate(api)
    api.requests.clear()
    again = run_step(api, INPUTS, ROOT, previous=first.outputs)
    assert again.outputs is not None and again.outputs["applied"] == []
    # No new bookmark: the state keeps the one taken before the migrations last applied.
    assert again.restore_point == first.restore_point
    assert [r.path.rsplit("/", 1)[-1] for r in api.requests] == ["query"]  # only the read of d1_migrations


def test_a_bookmark_that_cannot_be_read_stops_the_migration_before_it_starts(api: D1Api) -> None:
    api.bookmark_fails = True
    done = migrate(api)
    assert done.outputs is None and done.error is not None
    assert "cannot read its Time Travel bookmark, so no migration was applied" in done.error
    assert "Internal error reading the bookmark (7500)" in done.error
    assert tables(api) == set()
    # Only reads: of d1_migrations and of the schema (an empty database needs no baseline).
    assert [str(r.body["sql"]).split()[0] for r in api.requests if r.path.endswith("/query")] == ["SELECT", "SELECT"]


def restore(api: D1Api, outputs: Path, *args: str, answer: str = "") -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, CLOUDFLARE_ACCOUNT_ID=ACCOUNT, CLOUDFLARE_API_TOKEN=TOKEN, CLOUDFLARE_API_BASE_URL=api.base_url)
    done = subprocess.run([sys.executable, "-m", "d1.restore", "staging", "blaze-odds", "--outputs", str(outputs), *args],
                          cwd=ROOT, env=env, input=answer, capture_output=True, text=True, timeout=60, check=False)
    assert TOKEN not in done.stdout + done.stderr
    return done


def recorded_outputs(api: D1Api, tmp_path: Path) -> Path:
    point = migrate(api).restore_point
    outputs = {"d1": {"blaze-odds": {"name": "blaze-odds-staging", "id": DATABASE_ID, "restorePoint": point}}}
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(outputs))
    return path


def test_the_restore_sends_exactly_the_documented_request_with_the_recorded_bookmark(api: D1Api, tmp_path: Path) -> None:
    outputs = recorded_outputs(api, tmp_path)
    api.requests.clear()
    done = restore(api, outputs, "--yes")
    assert done.returncode == 0, done.stdout + done.stderr
    assert [(r.method, r.path, r.query, r.body) for r in api.requests] == [
        ("POST", f"/client/v4/accounts/{ACCOUNT}/d1/database/{DATABASE_ID}/time_travel/restore", {"bookmark": [BOOKMARK]}, None),
    ]
    assert f"POST {api.base_url}/accounts/{ACCOUNT}/d1/database/{DATABASE_ID}/time_travel/restore?bookmark={BOOKMARK}" in done.stdout
    assert f"to undo, restore to {BOOKMARK}" in done.stdout


def test_a_restore_not_confirmed_sends_nothing(api: D1Api, tmp_path: Path) -> None:
    outputs = recorded_outputs(api, tmp_path)
    api.requests.clear()
    done = restore(api, outputs, answer="blaze-odds\n")  # not the database's name in this stack
    assert done.returncode == 1 and "not restored" in done.stderr and api.requests == []
    confirmed = restore(api, outputs, answer="blaze-odds-staging\n")
    assert confirmed.returncode == 0 and len(api.requests) == 1


def test_no_recorded_restore_point_is_an_input_error(api: D1Api, tmp_path: Path) -> None:
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps({"d1": {"blaze-odds": {"name": "blaze-odds-staging", "id": DATABASE_ID, "restorePoint": None}}}))
    done = restore(api, path, "--yes")
    assert done.returncode == 2 and "no restore point is recorded" in done.stderr and api.requests == []


def test_a_migration_that_fails_part_way_names_the_restore_point_to_go_back_to(api: D1Api, project: ProjectCopy) -> None:
    folder = project.root / MIGRATIONS
    (folder / "0099_broken.sql").write_text("CREATE TABLE half_done (id INTEGER);\nINSERT INTO no_such_table VALUES (1);\n")
    inputs = step_inputs("blaze-odds-staging", DATABASE_ID, ACCOUNT, load_migration_set(project.root, MIGRATIONS), None)
    done = run_step(api, inputs, project.root)
    assert done.outputs is None and done.error is not None
    assert "wrangler d1 migrations apply exited" in done.error and "no_such_table" in done.error
    point = json.loads(done.error.split("restore point: ", 1)[1].splitlines()[0])
    assert point["bookmark"] == BOOKMARK and point["applies"][-1] == "0099_broken.sql"


def test_files_changed_since_the_plan_are_refused_before_anything_is_read(api: D1Api, project: ProjectCopy) -> None:
    inputs = step_inputs("blaze-odds-staging", DATABASE_ID, ACCOUNT, load_migration_set(project.root, MIGRATIONS), None)
    (project.root / MIGRATIONS / "0099_late.sql").write_text("CREATE TABLE late (id INTEGER);\n")
    done = run_step(api, inputs, project.root)
    assert done.error is not None and "no longer holds the files this deploy planned" in done.error
    assert api.requests == []


def test_a_refresh_after_a_restore_shows_the_undone_files_and_the_next_up_applies_them(api: D1Api) -> None:
    first = migrate(api)
    assert first.outputs is not None
    files = list(INPUTS["migrations"])
    assert len(files) == 1  # so undoing the last file leaves the database empty
    with mock.patch.dict(os.environ, {"CLOUDFLARE_API_TOKEN": TOKEN, "CLOUDFLARE_API_BASE_URL": api.base_url}):
        same = MigrationStep(ROOT).read("id", dict(first.outputs))
        assert same.outs == first.outputs  # nothing undone: the refresh shows no change
        # What restoring the bookmark taken before the file does: its tables and its record gone.
        db = api.database(DATABASE_ID)
        for table in tables(api) - {"d1_migrations"}:
            db.execute(f'DROP TABLE "{table}"')
        db.execute("DELETE FROM d1_migrations WHERE name = ?", (files[-1],))
        db.commit()
        refreshed = MigrationStep(ROOT).read("id", dict(first.outputs))
    assert refreshed.outs is not None and list(refreshed.outs["migrations"]) == files[:-1]
    assert MigrationStep(ROOT).diff("id", refreshed.outs, dict(INPUTS)).changes
    again = run_step(api, INPUTS, ROOT, previous=refreshed.outs)
    assert again.outputs is not None and again.outputs["applied"] == [files[-1]]
