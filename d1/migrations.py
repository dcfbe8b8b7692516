"""D1 migrations applied: wrangler runs the pending files of a set, after a restore point.

wrangler applies a set's files (`d1 migrations apply`, d1/migration_set.py reads them) and
records each applied file by name in the database's `d1_migrations` table, so this project
and wrangler always agree on what a database has.

    python -m d1.migrations lock                      record new migration files
    python -m d1.migrations apply --remote            what the Pulumi program runs: a
        Time Travel bookmark first (printed, and kept as the stack output
        d1.<name>.restorePoint), then the pending files; nothing pending, nothing taken
    python -m d1.migrations apply --local --persist-to DIR   a local Miniflare state
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

from d1.migration_set import MigrationError, MigrationSet, load_migration_set, lock_problems, update_lock
from d1.schema import MASTER_QUERY, TRACKING_TABLE, schema_after, schema_of_master
from d1.timetravel import ApiError, D1Api
from toolchain.node import node_binary

WRANGLER = "node_modules/wrangler/bin/wrangler.js"
# What `apply` reads: the Pulumi program passes these to its command as environment.
ENV_NAME, ENV_ID, ENV_DIR = "D1_DATABASE_NAME", "D1_DATABASE_ID", "D1_MIGRATIONS_DIR"
# An adopted database's baseline (the stack's d1Baselines): the last file already in effect.
ENV_BASELINE = "D1_MIGRATIONS_BASELINE"
# wrangler's own DDL for its record (wrangler-dist, getCreateMigrationsTableQuery), so a
# baseline recorded here is a table wrangler reads as its own.
CREATE_TRACKING_TABLE = f"""CREATE TABLE IF NOT EXISTS "{TRACKING_TABLE}"(
\t\tid         INTEGER PRIMARY KEY AUTOINCREMENT,
\t\tname       TEXT UNIQUE,
\t\tapplied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP NOT NULL
);"""


def wrangler_config(name: str, database_id: str, migrations_dir: Path) -> dict[str, object]:
    """The smallest wrangler config that names one database and its migrations folder."""
    return {
        "name": "blaze-d1-migrations",
        "compatibility_date": "2026-07-15",
        "d1_databases": [
            {
                "binding": "DB",
                "database_name": name,
                "database_id": database_id,
                "migrations_dir": str(migrations_dir),
                "migrations_table": TRACKING_TABLE,
            }
        ],
    }


def apply(root: Path, name: str, database_id: str, directory: str, target: list[str],
          environ: Mapping[str, str] | None = None, capture: bool = False) -> subprocess.CompletedProcess[str]:
    """Run `wrangler d1 migrations apply` for one database; `target` is --remote or --local..."""
    load_migration_set(root, directory)
    with tempfile.TemporaryDirectory(prefix="blaze-d1-") as tmp:
        config = Path(tmp) / "wrangler.json"
        config.write_text(json.dumps(wrangler_config(name, database_id, (root / directory).resolve())))
        env = dict(os.environ if environ is None else environ, WRANGLER_SEND_METRICS="false", WRANGLER_HIDE_BANNER="true", CI="true")
        argv = [node_binary(), str(root / WRANGLER), "d1", "migrations", "apply", name, "--config", str(config), *target]
        return subprocess.run(argv, cwd=root, env=env, text=True, capture_output=capture, check=False)


# The line `apply --remote` prints before it migrates, with the restore point as JSON.
RESTORE_POINT = "restore point: "


class MigrationRefused(Exception):
    """Nothing was applied (or wrangler failed part way: then the message holds the restore point)."""


@dataclass(frozen=True)
class RemoteRun:
    """What one `migrate_remote` did: the bookmark it took first, the baseline files it
    recorded as applied, and the files wrangler applied (all empty: nothing was pending)."""

    restore_point: dict[str, Any] | None
    recorded: tuple[str, ...]
    applied: tuple[str, ...]


def migrate_remote(root: Path, name: str, database_id: str, directory: str, baseline: str | None,
                   account: str, environ: Mapping[str, str], log: Callable[[str], None]) -> RemoteRun:
    """Take a Time Travel bookmark, then migrate; with nothing pending, neither.

    If the applied migrations or the bookmark cannot be read, nothing is applied: a
    migration without a restore point is what the runbook's rollback could not undo.
    A database with tables but no record of what made them (an adopted one) is migrated
    only from its baseline, and only when its live schema is the one the files up to the
    baseline make: nothing runs a CREATE TABLE blindly against a live table.
    `log` gets the restore point (as the RESTORE_POINT line) before anything is written.
    """
    migration_set = load_migration_set(root, directory)
    names = [m.name for m in migration_set.migrations]
    if baseline is not None and baseline not in names:
        raise MigrationRefused(f"{name}: its baseline {baseline} is not a file of {directory}/")
    try:
        if not account:
            raise ApiError("no Cloudflare account id was given")
        api = D1Api.from_environment(account, environ)
        applied = api.applied_migrations(database_id, TRACKING_TABLE) or set()
        record: list[str] = []
        if not applied:
            record, refusal = _baseline_to_record(api, database_id, migration_set, baseline)
            if refusal:
                raise MigrationRefused(f"{name}: {refusal}; no migration was applied")
    except ApiError as err:
        raise MigrationRefused(f"{name}: cannot read which migrations it has, so none was applied: {err}") from None
    pending = [m for m in names if m not in applied and m not in record]
    if not pending and not record:
        log(f"{name}: no pending migrations; no restore point taken")
        return RemoteRun(None, (), ())
    try:
        bookmark = api.bookmark(database_id)
    except ApiError as err:
        raise MigrationRefused(f"{name}: cannot read its Time Travel bookmark, so no migration was applied: {err}") from None
    taken = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat()
    point: dict[str, Any] = {"database": name, "databaseId": database_id, "bookmark": bookmark, "takenAt": taken, "applies": pending}
    if record:
        point["baseline"] = record
    log(RESTORE_POINT + json.dumps(point, sort_keys=True))
    if record:
        try:
            api.record_applied(database_id, CREATE_TRACKING_TABLE, TRACKING_TABLE, record)
        except ApiError as err:
            raise MigrationRefused(f"{name}: recording its baseline failed, so no migration was applied: {err}") from None
        log(f"{name}: recorded as applied (its baseline, already in effect): {', '.join(record)}")
    if pending:
        done = apply(root, name, database_id, directory, ["--remote"], dict(environ, CLOUDFLARE_ACCOUNT_ID=account), capture=True)
        if done.returncode != 0:
            tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-20:])
            raise MigrationRefused(
                f"{name}: wrangler d1 migrations apply exited {done.returncode}; to undo what it applied, restore "
                f"{RESTORE_POINT}{json.dumps(point, sort_keys=True)}\n{tail}"
            )
        log(f"{name}: applied {', '.join(pending)}")
    return RemoteRun(point, tuple(record), tuple(pending))


def apply_remote(root: Path, name: str, database_id: str, directory: str, baseline: str | None = None) -> int:
    """`apply --remote`: migrate_remote with its log on stdout and a refusal on stderr (exit 1)."""
    try:
        migrate_remote(root, name, database_id, directory, baseline, os.environ.get("CLOUDFLARE_ACCOUNT_ID", ""),
                       os.environ, lambda line: print(line, flush=True))
    except MigrationRefused as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


def _baseline_to_record(api: D1Api, database_id: str, migration_set: MigrationSet, baseline: str | None) -> tuple[list[str], str | None]:
    """For a database with no migration record: the files to record as applied, or why not."""
    live = schema_of_master(api.rows(database_id, MASTER_QUERY))
    if baseline is None:
        if live.tables:
            return [], (
                f"it has tables ({', '.join(sorted(live.tables))}) but its {TRACKING_TABLE} table records no migration: "
                f"an adopted database needs its baseline (make adopt proposes it; Pulumi.<stack>.yaml blaze-infra:d1Baselines)"
            )
        return [], None
    names = [m.name for m in migration_set.migrations]
    prefix = migration_set.migrations[: names.index(baseline) + 1]
    differences = schema_after(prefix).differences(live)
    if differences:
        return [], f"its live schema is not the one {baseline} and the files before it make: " + "; ".join(differences)
    return [m.name for m in prefix], None


def parse_restore_point(stdout: str | None) -> dict[str, Any] | None:
    """The restore point an `apply --remote` printed, or None (nothing was pending)."""
    for line in reversed((stdout or "").splitlines()):
        if line.startswith(RESTORE_POINT):
            found = json.loads(line[len(RESTORE_POINT):])
            return found if isinstance(found, dict) else None
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("lock", help="record new migration files in the lock")
    commands.add_parser("check", help="exit 1 if a locked migration changed or a new one is unlocked")
    apply_cmd = commands.add_parser("apply", help=f"apply one database's migrations (reads ${ENV_NAME}, ${ENV_ID}, ${ENV_DIR})")
    where = apply_cmd.add_mutually_exclusive_group(required=True)
    where.add_argument("--remote", action="store_true")
    where.add_argument("--local", action="store_true")
    apply_cmd.add_argument("--persist-to", help="with --local: the Miniflare state folder")
    args = parser.parse_args(argv)
    root = Path(__file__).resolve().parent.parent

    try:
        if args.command == "lock":
            for key in update_lock(root):
                print(f"locked {key}")
            return 0
        if args.command == "check":
            problems = lock_problems(root)
            for problem in problems:
                print(problem, file=sys.stderr)
            return 1 if problems else 0
        missing = [key for key in (ENV_NAME, ENV_ID, ENV_DIR) if not os.environ.get(key)]
        if missing:
            print(f"error: set {', '.join(missing)}", file=sys.stderr)
            return 2
        if args.remote:
            baseline = os.environ.get(ENV_BASELINE) or None
            return apply_remote(root, os.environ[ENV_NAME], os.environ[ENV_ID], os.environ[ENV_DIR], baseline)
        target = ["--local", *(["--persist-to", args.persist_to] if args.persist_to else [])]
        return apply(root, os.environ[ENV_NAME], os.environ[ENV_ID], os.environ[ENV_DIR], target).returncode
    except MigrationError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
