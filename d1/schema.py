"""A D1 database's schema as SQLite itself reads it, to compare a live database with files.

A live database is read through the D1 query API with one read-only statement, its
`sqlite_master` rows; the migration files of its set are replayed on an empty in-memory
SQLite. Both become a `Schema` the same way: the DDL is run on a fresh SQLite and read back
with `PRAGMA table_info` / `index_list` / `index_info`, so two spellings of one table
(whitespace, quoting, a comment) compare equal and a missing column, index or table does not.

`baseline` proposes, for an adopted database, the last migration whose schema the live one
has: the first deploy applies only the files after it (d1/migrations.py).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable, Mapping, Optional, Sequence

if TYPE_CHECKING:
    from d1.migration_set import Migration

# wrangler's default name for its record of applied files (`migrations_table`).
TRACKING_TABLE = "d1_migrations"

# What `baseline` reads from a live database: no write, no PRAGMA that could set anything.
MASTER_QUERY = "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name"
APPLIED_QUERY = f'SELECT name FROM "{TRACKING_TABLE}" ORDER BY id'

# Tables that are no part of a migration set: SQLite's own, D1's (`_cf_KV`, ...) and
# wrangler's record of what it applied.
def _internal(name: str) -> bool:
    return name.startswith(("sqlite_", "_cf_")) or name == TRACKING_TABLE


Column = tuple[str, str, bool, Optional[str], int]  # name, declared type, not null, default, pk position
Index = tuple[str, bool, tuple[str, ...]]  # table, unique, columns


@dataclass(frozen=True)
class Schema:
    tables: Mapping[str, tuple[Column, ...]]
    indexes: Mapping[str, Index]  # named indexes only; SQLite's automatic ones follow their table
    views: frozenset[str]
    triggers: frozenset[str]

    def differences(self, other: "Schema") -> list[str]:
        """What `other` (the live database) has that differs from this one (the files)."""
        found: list[str] = []
        for table in sorted(self.tables.keys() - other.tables.keys()):
            found.append(f"table {table} is missing")
        for table in sorted(other.tables.keys() - self.tables.keys()):
            found.append(f"table {table} is not made by any migration")
        for table in sorted(self.tables.keys() & other.tables.keys()):
            want = {c[0]: c for c in self.tables[table]}
            have = {c[0]: c for c in other.tables[table]}
            for column in sorted(want.keys() - have.keys()):
                found.append(f"column {table}.{column} is missing")
            for column in sorted(have.keys() - want.keys()):
                found.append(f"column {table}.{column} is not made by any migration")
            for column in sorted(want.keys() & have.keys()):
                if want[column] != have[column]:
                    found.append(f"column {table}.{column} is {_column(have[column])}, the migrations make {_column(want[column])}")
        for index in sorted(self.indexes.keys() - other.indexes.keys()):
            found.append(f"index {index} is missing")
        for index in sorted(other.indexes.keys() - self.indexes.keys()):
            found.append(f"index {index} is not made by any migration")
        for index in sorted(self.indexes.keys() & other.indexes.keys()):
            if self.indexes[index] != other.indexes[index]:
                found.append(f"index {index} is {_index(other.indexes[index])}, the migrations make {_index(self.indexes[index])}")
        for kind, want_names, have_names in (("view", self.views, other.views), ("trigger", self.triggers, other.triggers)):
            found += [f"{kind} {name} is missing" for name in sorted(want_names - have_names)]
            found += [f"{kind} {name} is not made by any migration" for name in sorted(have_names - want_names)]
        return found


def _column(column: Column) -> str:
    name, kind, not_null, default, pk = column
    parts = [kind or "untyped", "NOT NULL" if not_null else "nullable"]
    if default is not None:
        parts.append(f"DEFAULT {default}")
    if pk:
        parts.append("PRIMARY KEY")
    return " ".join(parts)


def _index(index: Index) -> str:
    table, unique, columns = index
    return f"{'UNIQUE ' if unique else ''}ON {table} ({', '.join(columns)})"


def _read(db: sqlite3.Connection) -> Schema:
    rows = db.execute("SELECT type, name, tbl_name FROM sqlite_master").fetchall()
    tables: dict[str, tuple[Column, ...]] = {}
    indexes: dict[str, Index] = {}
    for kind, name, table in rows:
        if _internal(table):
            continue
        if kind == "table":
            info = db.execute(f'PRAGMA table_info("{name}")').fetchall()
            tables[name] = tuple((c[1], str(c[2]).upper(), bool(c[3]), c[4], int(c[5])) for c in info)
            for _, index, unique, origin, _partial in db.execute(f'PRAGMA index_list("{name}")').fetchall():
                if origin == "c":  # CREATE INDEX; primary-key and UNIQUE-constraint ones are the table's own
                    columns = tuple(str(c[2]) for c in db.execute(f'PRAGMA index_info("{index}")').fetchall())
                    indexes[index] = (name, bool(unique), columns)
    return Schema(
        tables=tables,
        indexes=indexes,
        views=frozenset(name for kind, name, table in rows if kind == "view" and not _internal(name)),
        triggers=frozenset(name for kind, name, table in rows if kind == "trigger" and not _internal(table)),
    )


def schema_after(migrations: Sequence["Migration"]) -> Schema:
    """The schema an empty database has after these files, in order."""
    db = sqlite3.connect(":memory:")
    try:
        for migration in migrations:
            db.executescript(migration.sql)
        return _read(db)
    finally:
        db.close()


def schema_of_master(rows: Iterable[Mapping[str, object]]) -> Schema:
    """The schema of a database whose `sqlite_master` rows (MASTER_QUERY) these are.

    Tables first, then what refers to them; SQLite's automatic indexes have no SQL.
    """
    order = {"table": 0, "index": 1, "view": 2, "trigger": 3}
    statements = sorted(
        ((order.get(str(row.get("type")), 4), str(row.get("sql"))) for row in rows
         if row.get("sql") and not _internal(str(row.get("tbl_name") or row.get("name") or ""))),
    )
    db = sqlite3.connect(":memory:")
    try:
        for _, sql in statements:
            db.execute(sql)
        return _read(db)
    finally:
        db.close()


@dataclass(frozen=True)
class Baseline:
    """What one live database already has, against the files of its set."""

    database: str
    applied: Optional[tuple[str, ...]]  # its d1_migrations names; None when it has no such table
    proposed: Optional[str]  # the last file in effect; None: no file's schema matches (or none applied)
    differences: tuple[str, ...]  # against the proposed file's schema, or the closest one


def baseline(database: str, migrations: Sequence["Migration"], live: Schema, applied: Optional[Sequence[str]]) -> Baseline:
    """The longest prefix of the set whose schema the live database has exactly.

    A database whose d1_migrations already names files keeps what it names: wrangler
    applies only the others, so no baseline is needed (and a named file the set does not
    have is a difference). A database with no table of the set needs none either.
    """
    recorded = tuple(applied) if applied is not None else None
    if recorded:
        known = {m.name for m in migrations}
        unknown = tuple(f"d1_migrations names {name}, which {database}'s migration set does not have" for name in recorded if name not in known)
        return Baseline(database, recorded, None, unknown)
    if not live.tables and not live.indexes and not live.views and not live.triggers:
        return Baseline(database, recorded, None, ())
    best: Optional[tuple[int, list[str]]] = None
    for count in range(len(migrations), 0, -1):
        found = schema_after(migrations[:count]).differences(live)
        if not found:
            return Baseline(database, recorded, migrations[count - 1].name, ())
        if best is None or len(found) < len(best[1]):
            best = (count, found)
    assert best is not None
    closest = migrations[best[0] - 1].name
    return Baseline(database, recorded, None, (f"closest: {closest}", *best[1]))
