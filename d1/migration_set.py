"""A D1 migration set as files: ordered, hashed, append-only, split into statements.

A migration set is a folder `workers/migrations/<set>/` of `NNNN_name.sql` files; the
catalog gives each database its set. wrangler records each applied file by name in the
database's `d1_migrations` table, so applied files are append-only: `lock.json` keeps the
sha256 of every file, a test fails when a locked file changes or disappears, and
`python -m d1.migrations lock` records new files only.

Everything that reads the files imports this module: the runner that applies them
(d1/migrations.py), the schema comparison (d1/schema.py), the SQL rules
(d1/migration_sql.py), the program and the local runtime.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from stacks.errors import InputError

if TYPE_CHECKING:
    from stacks.catalog import Catalog

MIGRATIONS_ROOT = "workers/migrations"
LOCK_FILE = f"{MIGRATIONS_ROOT}/lock.json"
_FILE_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


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
