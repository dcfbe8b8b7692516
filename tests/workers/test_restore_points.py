"""A restore point before every migration, and the restore that goes back to it.

The migration command is run exactly as the program registers it (components/d1.py), with
real wrangler, against a loopback stand-in of the D1 API (tests/d1_api.py) that keeps each
database in SQLite. The restore is `python -m tools.restore`, what `make restore` runs.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from components.d1 import APPLY_MIGRATIONS
from tests.conftest import ROOT
from tests.d1_api import BOOKMARK, TOKEN, D1Api, migration_environment, run_migration_command
from tools.offline import read_stack_config
from workers.migrations import load_migration_set, parse_restore_point

DATABASE_ID = "1c0ac5ea-d394-a5c2-9977-bc7f276e252c"
MIGRATIONS = "workers/migrations/odds"
ACCOUNT = read_stack_config(ROOT / "Pulumi.staging.yaml", "Pulumi.staging.yaml").values["blaze-infra:accountId"]


def environment(api: D1Api) -> dict[str, str]:
    return migration_environment(api, ACCOUNT, {
        "D1_DATABASE_NAME": "blaze-odds-staging", "D1_DATABASE_ID": DATABASE_ID, "D1_MIGRATIONS_DIR": MIGRATIONS,
    })


def migrate(api: D1Api) -> subprocess.CompletedProcess[str]:
    return run_migration_command(APPLY_MIGRATIONS, ROOT, environment(api))


def tables(api: D1Api) -> set[str]:
    rows = api.database(DATABASE_ID).execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return {name for (name,) in rows} - {"sqlite_sequence"}


def test_the_bookmark_is_read_before_anything_is_applied_and_recorded(api: D1Api) -> None:
    done = migrate(api)
    assert done.returncode == 0, done.stdout + done.stderr
    point = parse_restore_point(done.stdout)
    files = [m.name for m in load_migration_set(ROOT, MIGRATIONS).migrations]
    assert point is not None and point["bookmark"] == BOOKMARK and point["applies"] == files
    assert point["database"] == "blaze-odds-staging" and point["databaseId"] == DATABASE_ID
    # The bookmark request comes before the first statement that changes the database.
    methods = [(r.method, r.path.rsplit("/", 1)[-1], (r.body or {}).get("sql", "")) for r in api.requests]
    bookmark_at = methods.index(("GET", "bookmark", ""))
    first_write = next(i for i, (_, op, sql) in enumerate(methods) if op == "query" and not sql.lstrip().upper().startswith("SELECT"))
    assert bookmark_at < first_write
    applied = {name for (name,) in api.database(DATABASE_ID).execute("SELECT name FROM d1_migrations")}
    assert applied == set(files) and "odds_events" in tables(api)


def test_with_nothing_pending_no_bookmark_is_taken(api: D1Api) -> None:
    assert migrate(api).returncode == 0
    api.requests.clear()
    again = migrate(api)
    assert again.returncode == 0 and "no pending migrations; no restore point taken" in again.stdout
    assert parse_restore_point(again.stdout) is None
    assert [r.path.rsplit("/", 1)[-1] for r in api.requests] == ["query"]  # only the read of d1_migrations


def test_a_bookmark_that_cannot_be_read_stops_the_migration_before_it_starts(api: D1Api) -> None:
    api.bookmark_fails = True
    done = migrate(api)
    assert done.returncode == 1
    assert "cannot read its Time Travel bookmark, so no migration was applied" in done.stderr
    assert "Internal error reading the bookmark (7500)" in done.stderr
    assert tables(api) == set()
    # Only reads: of d1_migrations and of the schema (an empty database needs no baseline).
    assert [str(r.body["sql"]).split()[0] for r in api.requests if r.path.endswith("/query")] == ["SELECT", "SELECT"]


def restore(api: D1Api, outputs: Path, *args: str, answer: str = "") -> subprocess.CompletedProcess[str]:
    env = environment(api)
    done = subprocess.run([sys.executable, "-m", "tools.restore", "staging", "blaze-odds", "--outputs", str(outputs), *args],
                          cwd=ROOT, env=env, input=answer, capture_output=True, text=True, timeout=60, check=False)
    assert TOKEN not in done.stdout + done.stderr
    return done


def recorded_outputs(api: D1Api, tmp_path: Path) -> Path:
    point = parse_restore_point(migrate(api).stdout)
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
