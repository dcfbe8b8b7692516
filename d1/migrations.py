"""D1 migrations: ordered SQL files per migration set, a lock of their hashes, and `apply`.

A migration set is a folder `workers/migrations/<set>/` of `NNNN_name.sql` files; the
catalog gives each database its set. wrangler applies them (`d1 migrations apply`) and
records each applied file by name in the database's `d1_migrations` table, so this
project and wrangler always agree on what a database has.

Applied migrations are append-only: `lock.json` keeps the sha256 of every file, a test
fails when a locked file changes or disappears, and `python -m d1.migrations lock`
records new files only.

    python -m d1.migrations lock                      record new migration files
    python -m d1.migrations apply --remote            what the Pulumi program runs: a
        Time Travel bookmark first (printed, and kept as the stack output
        d1.<name>.restorePoint), then the pending files; nothing pending, nothing taken
    python -m d1.migrations apply --local --persist-to DIR   a local Miniflare state
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Literal, Mapping

from d1.schema import MASTER_QUERY, TRACKING_TABLE, schema_after, schema_of_master
from d1.timetravel import ApiError, D1Api
from stacks.errors import InputError
from toolchain.node import node_binary

if TYPE_CHECKING:
    from stacks.catalog import Catalog

MIGRATIONS_ROOT = "workers/migrations"
LOCK_FILE = f"{MIGRATIONS_ROOT}/lock.json"
WRANGLER = "node_modules/wrangler/bin/wrangler.js"
_FILE_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
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


class MigrationError(Exception):
    """A migration folder or the lock is not what the append-only rule allows."""


@dataclass(frozen=True)
class Migration:
    name: str  # the file name, which wrangler records in d1_migrations
    sha256: str
    sql: str


@dataclass(frozen=True)
class MigrationSet:
    """One folder of migrations; `digest` changes exactly when a file is added or edited."""

    directory: str  # relative to the project root
    migrations: tuple[Migration, ...]

    @property
    def files(self) -> dict[str, str]:
        """File name -> sha256, in wrangler's order."""
        return {m.name: m.sha256 for m in self.migrations}

    @property
    def digest(self) -> str:
        listing = "".join(f"{m.name}\0{m.sha256}\n" for m in self.migrations)
        return hashlib.sha256(listing.encode()).hexdigest()


def load_migration_set(root: Path, directory: str) -> MigrationSet:
    """The `.sql` files of `directory` in wrangler's order (by their leading number)."""
    folder = root / directory
    migrations = []
    numbers: dict[str, str] = {}
    for path in sorted(folder.glob("*.sql")):
        match = _FILE_NAME.match(path.name)
        if not match:
            raise MigrationError(f"{directory}/{path.name}: name it NNNN_lowercase_words.sql")
        if match.group(1) in numbers:
            raise MigrationError(f"{directory}: {path.name} and {numbers[match.group(1)]} share number {match.group(1)}")
        numbers[match.group(1)] = path.name
        data = path.read_bytes()
        migrations.append(Migration(path.name, hashlib.sha256(data).hexdigest(), data.decode()))
    if not migrations:
        raise MigrationError(f"{directory}: no migrations")
    return MigrationSet(directory, tuple(sorted(migrations, key=lambda m: int(m.name[:4]))))


@dataclass(frozen=True)
class Statement:
    text: str
    line: int  # 1-based line of the statement's first character in its file


def split_statements(sql: str) -> list[Statement]:
    """The statements of a file, split where SQLite's tokenizer ends one (strings, comments
    and trigger bodies included), each with the line it starts on."""
    statements: list[Statement] = []
    pending, start = "", 0
    for piece in sql.split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            body = "\n".join(line for line in pending.splitlines() if not line.strip().startswith("--")).strip()
            if body != ";":
                skipped = 0  # the blank and comment lines before the statement's text
                for line in pending.splitlines(keepends=True):
                    if line.strip() and not line.strip().startswith("--"):
                        break
                    skipped += len(line)
                statements.append(Statement(body, sql.count("\n", 0, start + skipped) + 1))
            start += len(pending)
            pending = ""
    leftover = pending[:-1]  # the loop appends one ";" more than the text has
    if any(line.strip() and not line.strip().startswith("--") for line in leftover.splitlines()):
        raise ValueError(f"an incomplete statement ends the file: {leftover.strip()[:80]!r}")
    return statements


def _current_hashes(root: Path) -> dict[str, str]:
    """`<set>/<file>` -> sha256 of every migration file in the repository."""
    return {
        path.relative_to(root / MIGRATIONS_ROOT).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted((root / MIGRATIONS_ROOT).glob("*/*.sql"))
    }


def read_lock(root: Path) -> dict[str, str]:
    path = root / LOCK_FILE
    return json.loads(path.read_text()) if path.exists() else {}


@dataclass(frozen=True)
class LockProblem:
    key: str  # <set>/<file>
    kind: Literal["removed", "edited", "unlocked"]

    def __str__(self) -> str:
        if self.kind == "removed":
            return f"{self.key} was applied and is gone: migrations are append-only, restore it"
        if self.kind == "edited":
            return f"{self.key} changed after it was locked: add a new migration instead of editing it"
        return f"{self.key} is not in {LOCK_FILE}: run `python -m d1.migrations lock`"


def lock_problems(root: Path) -> list[LockProblem]:
    """Every way the repository breaks the append-only rule."""
    locked = read_lock(root)
    current = _current_hashes(root)
    problems = []
    for key, sha in sorted(locked.items()):
        if key not in current:
            problems.append(LockProblem(key, "removed"))
        elif current[key] != sha:
            problems.append(LockProblem(key, "edited"))
    problems += [LockProblem(key, "unlocked") for key in sorted(set(current) - set(locked))]
    return problems


def update_lock(root: Path) -> list[str]:
    """Record new migration files; refuse if a locked one changed. Returns the added keys."""
    refused = [str(p) for p in lock_problems(root) if p.kind != "unlocked"]
    if refused:
        raise MigrationError("; ".join(refused))
    locked = read_lock(root)
    current = _current_hashes(root)
    added = sorted(set(current) - set(locked))
    locked |= {key: current[key] for key in added}
    (root / LOCK_FILE).write_text(json.dumps(dict(sorted(locked.items())), indent=2) + "\n")
    return added


def load_d1_migrations(root: Path, catalog: Catalog) -> dict[str, MigrationSet]:
    """Each catalog database's migration set, refusing a repository that edited an applied one.

    wrangler records migrations by file name only, so an edited file would never reach a
    database that already has it: the deploy stops here instead of drifting silently.
    """
    problems = lock_problems(root)
    if problems:
        raise InputError(LOCK_FILE, "migrations", "-", "; ".join(map(str, problems)))
    sets: dict[str, MigrationSet] = {}
    for database in catalog.databases:
        try:
            sets[database.name] = load_migration_set(root, database.migrations_dir)
        except MigrationError as err:
            raise InputError("stacks/catalog/databases.yaml", f"databases[{database.name}]", "migrations", str(err)) from None
    return sets


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
