"""What the Workers' code reads and writes in D1: tables and columns, from its own SQL.

`d1/queries.mjs` reads workers/src with the TypeScript compiler and folds every SQL
text, `select(table, columns)` call and ingestion table spec to constants; the SQL texts
are parsed here with sqlglot (SQLite dialect), the same parser the migration rule uses.
Each use names the tables it may concern: a column written without a table belongs to
one of its statement's tables, and a use is satisfied when one table of one migration
set's schema has every column that statement names (two sets both have a `team_ratings`).

Uses the compiler cannot fold (a table name only known at run time) must be listed in
DYNAMIC with why they need no schema; a new one fails `code_uses`, never passes unread.
"""

from __future__ import annotations

import functools
import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Optional

from sqlglot import exp
from sqlglot.errors import ParseError

from d1.migration_sql import parse_statement
from toolchain.node import node_binary

# The code is this checkout's own; the sources it reads are those of the root it is given.
EXTRACTOR = Path(__file__).with_name("queries.mjs")

# file:line -> why a SQL text built from a run-time table name needs no schema check.
DYNAMIC = {
    "workers/src/backup/export.ts:49": "exports every table sqlite_master lists, whatever the schema",
    "workers/src/backup/export.ts:55": "exports every table sqlite_master lists, whatever the schema",
    "workers/src/backup/export.ts:67": "exports every table sqlite_master lists, whatever the schema",
    "workers/src/ingest/write.ts:23": "reads back the tables of ingest/tables.ts, whose specs are checked",
    "workers/src/monitor/metrics.ts:33": "counts the rows of every table sqlite_master lists",
}


class QueryError(Exception):
    """The code's SQL could not be read completely."""


@dataclass(frozen=True)
class Use:
    """One statement's use of a table: the columns it names there (`table` is one of `tables`)."""

    where: str  # file:line
    tables: tuple[str, ...]  # the statement's tables the columns may belong to
    columns: frozenset[str]


def _statement_uses(where: str, sql: str) -> list[Use]:
    try:
        tree = parse_statement(sql)
    except ParseError as err:
        raise QueryError(f"{where}: sqlglot cannot read the SQL: {str(err).splitlines()[0]}") from None
    if isinstance(tree, exp.Pragma):
        return []
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    aliases: dict[str, str] = {}
    tables: list[str] = []
    for table in tree.find_all(exp.Table):
        name = table.name.lower()
        if name in ctes or name.startswith("sqlite_") or name == "excluded":
            continue
        tables.append(name)
        aliases[(table.alias or name).lower()] = name
    if not tables:
        return []
    outputs = {a.alias.lower() for a in tree.find_all(exp.Alias)}
    by_table: dict[Optional[str], set[str]] = {}
    for column in tree.find_all(exp.Column):
        name, qualifier = column.name.lower(), column.table.lower()
        if qualifier == "excluded" or name in ("rowid", "*") or (not qualifier and name in outputs) or not name:
            continue
        by_table.setdefault(aliases.get(qualifier) if qualifier else None, set()).add(name)
    for schema in tree.find_all(exp.Schema):  # INSERT INTO t (a, b)
        target = schema.this.name.lower() if isinstance(schema.this, exp.Table) else None
        by_table.setdefault(target, set()).update(i.name.lower() for i in schema.expressions if isinstance(i, exp.Identifier))
    uses = [Use(where, (table,), frozenset(by_table.get(table, ()))) for table in dict.fromkeys(tables)]
    if None in by_table:
        uses.append(Use(where, tuple(dict.fromkeys(tables)), frozenset(by_table[None])))
    return uses


def read_uses(found: Mapping[str, list[dict]]) -> list[Use]:
    unlisted = [u for u in found["unresolved"] if f"{u['file']}:{u['line']}" not in DYNAMIC]
    if unlisted:
        raise QueryError(
            "SQL the TypeScript compiler cannot fold to constants, not in d1/queries.py DYNAMIC: "
            + "; ".join(f"{u['file']}:{u['line']} {u['text'][:60]!r}" for u in unlisted)
        )
    uses: list[Use] = []
    for entry in found["sql"]:
        uses += _statement_uses(f"{entry['file']}:{entry['line']}", entry["sql"])
    for entry in found["selects"] + found["specs"]:
        uses.append(Use(f"{entry['file']}:{entry['line']}", (entry["table"].lower(),), frozenset(c.lower() for c in entry["columns"])))
    return uses


@functools.cache
def code_uses(root: Path) -> tuple[Use, ...]:
    """Every use of a table by the Workers' code under `root` (runs the extractor once)."""
    result = subprocess.run(
        [node_binary(), str(EXTRACTOR), str(root)], cwd=root, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise QueryError(f"{EXTRACTOR.name} failed: {result.stderr.strip()[-400:]}")
    return tuple(read_uses(json.loads(result.stdout)))


Schema = Mapping[str, frozenset[str]]  # table -> its columns


def unmet(uses: tuple[Use, ...] | list[Use], schemas: Mapping[str, Schema]) -> list[str]:
    """The uses no migration set's final schema satisfies, each saying what is missing."""
    problems = []
    def met(use: Use, schema: Schema) -> bool:
        present = [schema[t] for t in use.tables if t in schema]
        return bool(present) and use.columns <= frozenset().union(*present)

    for use in uses:
        if any(met(use, schema) for schema in schemas.values()):
            continue
        near = [
            f"{name}.{t} lacks {', '.join(sorted(use.columns - schema[t]))}"
            for name, schema in sorted(schemas.items()) for t in use.tables if t in schema
        ]
        problems.append(f"{use.where}: {'/'.join(use.tables)} ({', '.join(sorted(use.columns))}): " + ("; ".join(near) or "no migration set creates it"))
    return problems


def uses_name(uses: tuple[Use, ...], table: str, column: Optional[str]) -> bool:
    """Does the code still name `table` (or `table.column`)? For the rename check."""
    return any(table in use.tables and (column is None or column in use.columns) for use in uses)
