"""What a migration set's SQL does to data, read with sqlglot's SQLite dialect.

Each file is split where SQLite's own tokenizer ends a statement, and every statement is
parsed by sqlglot, and run on an empty in-memory SQLite database replaying the set (SQLite's
own parser, which refuses what sqlglot would forgive). A statement either cannot read, reads only as an opaque `Command`
(its fallback for syntax it does not model, e.g. triggers), or that is no statement at
all, is a finding: nothing passes unread. The set is replayed in order over a model of
its schema (tables, columns, indexes), so a statement is judged against what exists when
it runs: `DROP INDEX` is data loss only for a unique index, and a rebuild's copy is
compared with the columns of the table it replaces.

A migration file may waive the rule for itself in its leading comment block:

    -- waiver: blaze-d1-migration-data-loss: <reason, the catalog's Waiver form>

A waiver sits in the file because migration sets are shared (five databases apply
`games`): the statement, not the database, is what is waived, and the lock keeps the
waiver with the exact SQL it was written for.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass, field
from typing import Callable, Iterable, Optional

import sqlglot
from pydantic import ValidationError
from sqlglot import exp
from sqlglot.dialects.sqlite import SQLite
from sqlglot.errors import ErrorLevel, ParseError
from sqlglot.parser import Parser
from sqlglot.tokens import TokenType

from d1.migration_set import MigrationSet, split_statements
from stacks.catalog import Waiver



def _placeholder(parser: Parser) -> exp.Expression:
    """`?` or SQLite's numbered `?NNN` (the Workers bind `?2` twice): sqlglot 30 reads only `?`."""
    following = parser._curr
    if following is not None and following.token_type == TokenType.NUMBER and following.start == parser._prev.end + 1:
        parser._advance()
        return parser.expression(exp.Placeholder(this=parser._prev.text))
    return parser.expression(exp.Placeholder())


class D1Sqlite(SQLite):
    """sqlglot's SQLite dialect, reading numbered parameters as SQLite does."""

    class Parser(SQLite.Parser):
        PLACEHOLDER_PARSERS = {**SQLite.Parser.PLACEHOLDER_PARSERS, TokenType.PLACEHOLDER: _placeholder}


DIALECT = D1Sqlite
# Structure of a waiver line; its rule id and reason are validated by the catalog's model.
_WAIVER_LINE = re.compile(r"^--\s*waiver\s*:\s*(?P<rule>[^:]*?)\s*:\s*(?P<reason>.*)$", re.IGNORECASE)
# What a migration may contain and sqlglot models; anything else is unreadable.
_STATEMENTS = (exp.Create, exp.Alter, exp.Drop, exp.Insert, exp.Update, exp.Delete, exp.Pragma, exp.Select)


class WaiverError(ValueError):
    """A waiver comment that is not exactly the waiver form."""


@dataclass(frozen=True)
class FileWaiver:
    rule: str
    reason: str
    line: int


def file_waivers(sql: str) -> list[FileWaiver]:
    """The waivers of a migration file's leading comment block, read strictly.

    A comment mentioning `waiver:` anywhere else, a malformed one, a short or placeholder
    reason or a rule waived twice is an error, never ignored.
    """
    waivers: list[FileWaiver] = []
    leading = True
    for number, raw in enumerate(sql.splitlines(), start=1):
        line = raw.strip()
        if leading and line and not line.startswith("--"):
            leading = False
        if "waiver" not in line.lower().split(":", 1)[0]:
            continue
        if not line.startswith("--"):
            continue
        if not leading:
            raise WaiverError(f"line {number}: a waiver belongs in the comment block before the first statement")
        match = _WAIVER_LINE.match(line)
        if not match:
            raise WaiverError(f"line {number}: write a waiver as `-- waiver: <rule-id>: <reason>`")
        try:
            waiver = Waiver.model_validate({"rule": match["rule"], "reason": match["reason"]})
        except ValidationError as err:
            first = err.errors(include_url=False)[0]
            raise WaiverError(f"line {number}: waiver {first['loc'][0]}: {first['msg'].removeprefix('Value error, ')}") from None
        if any(w.rule == waiver.rule for w in waivers):
            raise WaiverError(f"line {number}: rule {waiver.rule!r} is waived twice; give it one waiver with one reason")
        waivers.append(FileWaiver(waiver.rule, waiver.reason, number))
    return waivers


@dataclass(frozen=True)
class DataLoss:
    """One statement of a migration set that loses data or could not be read."""

    file: str  # <set>/<file>
    line: int
    kind: str  # a short stable label: "drop table", "unreadable", ...
    detail: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.kind}: {self.detail}"


@dataclass
class _Table:
    columns: list[str]


@dataclass
class _Schema:
    tables: dict[str, _Table] = field(default_factory=dict)
    indexes: dict[str, tuple[str, bool]] = field(default_factory=dict)  # name -> (table, unique)


def _name(node: Optional[exp.Expression]) -> str:
    return node.name.lower() if node is not None else ""


def parse_statement(text: str) -> exp.Expression:
    """One statement as sqlglot reads it in SQLite's dialect; ParseError when it cannot."""
    expression = sqlglot.parse_one(text, read=DIALECT, error_level=ErrorLevel.RAISE)
    if isinstance(expression, exp.Command) or not isinstance(expression, _STATEMENTS):
        raise ParseError(f"sqlglot reads it only as {type(expression).__name__}, not as a statement it models")
    return expression


# Is a name still read by the Workers' code? (table) or (table, column); see d1/queries.py.
CodeUses = Callable[[str, Optional[str]], bool]


def data_losses(migrations: MigrationSet, code_uses: CodeUses) -> list[DataLoss]:
    """Every statement of the set, in apply order, that loses data or cannot be read."""
    schema = _Schema()
    found: list[DataLoss] = []
    # SQLite's own parser reads every statement too (Python's sqlite3, in memory), since
    # sqlglot forgives some syntax SQLite refuses; D1 runs SQLite, so its verdict counts.
    sqlite = sqlite3.connect(":memory:", isolation_level=None)
    set_name = migrations.directory.rstrip("/").rsplit("/", 1)[-1]
    for migration in migrations.migrations:
        key = f"{set_name}/{migration.name}"
        try:
            statements = split_statements(migration.sql)
        except ValueError as err:
            found.append(DataLoss(key, 1, "unreadable", str(err)))
            continue
        # source table -> None when an earlier statement of this file copied every row and
        # column of it (a rebuild's copy), else what the copy left out
        copied: dict[str, Optional[str]] = {}
        for statement in statements:
            try:
                sqlite.execute(statement.text)
            except sqlite3.Error as err:
                found.append(DataLoss(key, statement.line, "unreadable", f"SQLite refuses it: {err} ({statement.text[:60]!r})"))
                continue
            try:
                expression = parse_statement(statement.text)
            except ParseError as err:
                first = str(err).splitlines()[0]
                found.append(DataLoss(key, statement.line, "unreadable", f"{first} ({statement.text[:60]!r})"))
                continue
            for kind, detail in _judge(expression, schema, copied, code_uses):
                found.append(DataLoss(key, statement.line, kind, detail))
    sqlite.close()
    return found


def _judge(
    node: exp.Expression, schema: _Schema, copied: dict[str, Optional[str]], code_uses: CodeUses
) -> Iterable[tuple[str, str]]:
    if isinstance(node, exp.Create):
        _create(node, schema)
    elif isinstance(node, exp.Drop):
        yield from _drop(node, schema, copied)
    elif isinstance(node, exp.Alter):
        yield from _alter(node, schema, code_uses)
    elif isinstance(node, exp.Insert):
        _insert(node, schema, copied)
    elif isinstance(node, (exp.Delete, exp.Update)):
        if node.args.get("where") is None:
            verb = "delete" if isinstance(node, exp.Delete) else "update"
            yield f"{verb} without where", f"{verb.upper()} of every row of {_name(node.this)}"


def _create(node: exp.Create, schema: _Schema) -> None:
    kind = (node.args.get("kind") or "").upper()
    if kind == "TABLE":
        target = node.this
        if isinstance(target, exp.Schema):
            columns = [_name(c.this) for c in target.expressions if isinstance(c, exp.ColumnDef)]
            schema.tables[_name(target.this)] = _Table(columns)
        elif isinstance(node.expression, exp.Select):
            schema.tables[_name(target)] = _Table([s.alias_or_name.lower() for s in node.expression.selects])
        else:
            schema.tables[_name(target)] = _Table([])
    elif kind == "INDEX":
        index = node.this
        schema.indexes[_name(index.this)] = (_name(index.args.get("table")), bool(node.args.get("unique")))


def _drop(node: exp.Drop, schema: _Schema, copied: dict[str, Optional[str]]) -> Iterable[tuple[str, str]]:
    kind = (node.args.get("kind") or "").upper()
    for target in node.args.get("tables") or [node.this]:
        name = _name(target)
        if kind == "TABLE":
            if name not in copied:
                yield "drop table", f"DROP TABLE {name} deletes its rows (no earlier statement of the file copied them)"
            elif copied[name] is not None:
                yield "subset rebuild", f"DROP TABLE {name} after copying only a subset of it ({copied[name]})"
            schema.tables.pop(name, None)
            schema.indexes = {i: v for i, v in schema.indexes.items() if v[0] != name}
        elif kind == "INDEX":
            index = schema.indexes.pop(name, None)
            if index is None:
                yield "drop index", f"DROP INDEX {name}: no migration of this set created it, so it may be unique"
            elif index[1]:
                yield "drop unique index", f"DROP INDEX {name} removes the uniqueness of {index[0]}"


def _alter(node: exp.Alter, schema: _Schema, code_uses: CodeUses) -> Iterable[tuple[str, str]]:
    table = _name(node.this)
    for action in node.args.get("actions") or []:
        if isinstance(action, exp.ColumnDef):
            schema.tables.setdefault(table, _Table([])).columns.append(_name(action.this))
        elif isinstance(action, exp.Drop):
            for column in action.args.get("tables") or []:
                yield "drop column", f"ALTER TABLE {table} DROP COLUMN {_name(column)} deletes its values"
                if table in schema.tables:
                    schema.tables[table].columns = [c for c in schema.tables[table].columns if c != _name(column)]
        elif isinstance(action, exp.AlterRename):
            new = _name(action.this)
            if code_uses(table, None):
                yield "rename in use", f"ALTER TABLE {table} RENAME TO {new}: the Workers still query {table}"
            if table in schema.tables:
                schema.tables[new] = schema.tables.pop(table)
            schema.indexes = {i: (new if t == table else t, u) for i, (t, u) in schema.indexes.items()}
        elif isinstance(action, exp.RenameColumn):
            old, new = _name(action.this), _name(action.args.get("to"))
            if code_uses(table, old):
                yield "rename in use", f"ALTER TABLE {table} RENAME COLUMN {old} TO {new}: the Workers still read {table}.{old}"
            if table in schema.tables:
                schema.tables[table].columns = [new if c == old else c for c in schema.tables[table].columns]
        else:
            yield "unreadable", f"ALTER TABLE {table}: an action this rule does not model ({type(action).__name__})"


def _insert(node: exp.Insert, schema: _Schema, copied: dict[str, Optional[str]]) -> None:
    """Remember what an `INSERT ... SELECT ... FROM <table>` left out of <table>."""
    select = node.expression
    if not isinstance(select, exp.Select) or not select.args.get("from_"):
        return
    source = _name(select.args["from_"].this)
    target = node.this.this if isinstance(node.this, exp.Schema) else node.this
    left_out = [clause.upper() for clause in ("where", "limit", "group", "having", "distinct", "joins") if select.args.get(clause)]
    if not any(isinstance(s, exp.Star) for s in select.selects):
        taken = {c.name.lower() for c in select.selects if isinstance(c, exp.Column)}
        known = schema.tables.get(source)
        missing = [c for c in (known.columns if known else []) if c not in taken]
        if known is None:
            left_out.append(f"no migration of this set created {source}, so its columns are unknown")
        elif missing:
            left_out.append(f"not the columns {', '.join(missing)}")
    copied[source] = f"INSERT INTO {_name(target)} SELECT ... FROM {source}: {'; '.join(left_out)}" if left_out else None
