"""The migrations the tests apply are the ones wrangler applies, tracked the same way."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from d1.migrations import ENV_DIR, ENV_ID, ENV_NAME
from local.driver import Instance, split_statements
from stacks.catalog import Catalog
from tests.conftest import ROOT, Start

WORKER = "blaze-mlb-scores"  # binds blaze-mlb-games as DB


def schema(mf: Instance) -> list[dict]:
    return mf.d1(WORKER, "DB", "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE '_cf_%' ORDER BY type, name")


def applied(mf: Instance) -> list[str]:
    return [r["name"] for r in mf.d1(WORKER, "DB", "SELECT name FROM d1_migrations ORDER BY id")]


def test_wrangler_and_the_test_driver_build_the_same_database(start: Start, catalog: Catalog, tmp_path: Path) -> None:
    database = next(db for db in catalog.databases if db.name == catalog.worker(WORKER).d1["DB"])
    env = dict(os.environ, **{ENV_NAME: database.name, ENV_ID: database.name, ENV_DIR: database.migrations_dir})
    result = subprocess.run(
        [sys.executable, "-m", "d1.migrations", "apply", "--local", "--persist-to", str(tmp_path)],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr

    by_wrangler = start([WORKER], persist=tmp_path, migrate=False)
    by_driver = start([WORKER])
    assert schema(by_wrangler) == schema(by_driver)
    assert applied(by_wrangler) == applied(by_driver) == sorted(p.name for p in (ROOT / database.migrations_dir).glob("*.sql"))
    by_wrangler.close()

    # The driver reads wrangler's tracking table and applies nothing twice.
    again = start([WORKER], persist=tmp_path)
    assert applied(again) == applied(by_driver)


@pytest.mark.parametrize(
    ("sql", "statements"),
    [
        ("CREATE TABLE a (x);\nCREATE TABLE b (y);\n", ["CREATE TABLE a (x);", "CREATE TABLE b (y);"]),
        ("-- a comment; with a semicolon\nCREATE TABLE a (x TEXT DEFAULT ';');\n", ["CREATE TABLE a (x TEXT DEFAULT ';');"]),
        (
            "CREATE TRIGGER t AFTER INSERT ON a BEGIN\n  UPDATE a SET x = 1;\n  UPDATE a SET x = 2;\nEND;\n",
            ["CREATE TRIGGER t AFTER INSERT ON a BEGIN\n  UPDATE a SET x = 1;\n  UPDATE a SET x = 2;\nEND;"],
        ),
    ],
)
def test_statements_split_where_sqlite_ends_them(sql: str, statements: list[str]) -> None:
    assert split_statements(sql) == statements


def test_an_unfinished_statement_is_an_error() -> None:
    with pytest.raises(ValueError, match="incomplete statement"):
        split_statements("CREATE TABLE a (x TEXT DEFAULT 'oops);\n")
