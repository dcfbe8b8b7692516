"""The backup Worker in workerd: every database exported to R2, checked, and restored with wrangler."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from d1.backups import dump_problems
from local.driver import Instance
from stacks.catalog import Catalog
from tests.conftest import ROOT, Start
from tests.workers.conftest import corrupt_database

WORKER = "blaze-backup"
GAMES = 1200  # more than two pages of the export
TRICKY = ["O'Brien \"The Wall\"", "line one\nline two\r\n", "Ünïcödé ⚾ 野球", "", "'; DROP TABLE games; --"]


def seed(mf: Instance) -> None:
    mf.d1(WORKER, "DB_MLB_GAMES", f"""
        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {GAMES})
        INSERT INTO games (game_id, season, game_date, start_time, status, home_team, away_team, home_score, away_score, updated_at)
        SELECT 'g' || i, 2025, date('2025-03-27', '+' || (i % 180) || ' days'), NULL,
               CASE i % 3 WHEN 0 THEN 'final' WHEN 1 THEN 'scheduled' ELSE 'in_progress' END,
               'H' || (i % 30), 'A' || (i % 29), CASE WHEN i % 3 = 0 THEN i % 11 END, CASE WHEN i % 3 = 0 THEN i % 7 END, '2025-01-01'
        FROM n""")
    for i, text in enumerate(TRICKY):
        mf.d1(WORKER, "DB_MLB_GAMES", "INSERT INTO standings (season, team, conference, wins, losses, win_pct, games_back, updated_at) "
              "VALUES (2025, ?, ?, ?, 3, ?, ?, '2025')", f"T{i}", text, i, 0.1 + i / 3, None if i % 2 else 1.5)
    mf.d1(WORKER, "DB_MLB_GAMES", "INSERT INTO team_ratings (season, team, system, rating, details, updated_at) VALUES (2025, 'NYY', 'elo', -12.625, '{\"a\": [1, 2]}', '2025')")
    for i in range(3):
        mf.d1(WORKER, "DB_MONITORING", "INSERT INTO db_metrics (collected_at, database, size_bytes) VALUES (?, 'DB_X', 4096)", i)
    mf.d1(WORKER, "DB_MONITORING", "DELETE FROM db_metrics WHERE collected_at = 2")  # the counter stays at 3


# D1's own tables; GLOB, where LIKE would read '_' as any character.
NOT_D1S = "name NOT GLOB '_cf_*'"


def tables(mf: Instance, binding: str) -> list[str]:
    rows = mf.d1(WORKER, binding, f"SELECT name FROM sqlite_master WHERE type = 'table' AND {NOT_D1S} ORDER BY name")
    return [r["name"] for r in rows]


def content(mf: Instance, binding: str) -> dict[str, object]:
    """Schema and every row of every table, in rowid order (primary key order WITHOUT ROWID)."""
    schema = mf.d1(WORKER, binding, f"SELECT type, name, tbl_name, sql FROM sqlite_master WHERE {NOT_D1S} ORDER BY type, name")
    rows = {}
    for t in tables(mf, binding):
        (listed,) = mf.d1(WORKER, binding, f'PRAGMA table_list("{t}")')
        rows[t] = mf.d1(WORKER, binding, f'SELECT * FROM "{t}"' + ("" if listed["wr"] else " ORDER BY rowid"))
    return {"schema": schema, "rows": rows}


def run_backup(mf: Instance, catalog: Catalog, at_ms: int) -> str:
    return mf.scheduled(WORKER, catalog.worker(WORKER).crons[0], at_ms)["outcome"]


def exported(mf: Instance, binding: str, date: str) -> tuple[bytes, dict]:
    dump = mf.r2_get(WORKER, "BACKUPS", f"d1/{date}/{binding}.sql")
    manifest = json.loads(mf.r2_get(WORKER, "BACKUPS", f"d1/{date}/{binding}.manifest.json"))
    assert dump is not None
    return dump, manifest


def restore_into(dump: bytes, manifest: dict, tmp_path: Path) -> Path:
    """The documented restore path, with wrangler, into an empty local database; its state folder."""
    (tmp_path / "dump.sql").write_bytes(dump)
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    state = tmp_path / "state"
    restore = subprocess.run(
        [sys.executable, "-m", "workers.backups", "restore", "--dump", str(tmp_path / "dump.sql"), "--manifest", str(tmp_path / "manifest.json"),
         "--database", "blaze-mlb-games", "--database-id", "blaze-mlb-games", "--local", "--persist-to", str(state)],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )
    assert restore.returncode == 0, restore.stdout + restore.stderr
    return state


@pytest.fixture
def backed_up(start: Start, catalog: Catalog) -> tuple[Instance, str]:
    mf = start([WORKER])
    seed(mf)
    t0 = int(time.time() * 1000)
    assert run_backup(mf, catalog, t0) == "ok"
    return mf, time.strftime("%Y-%m-%d", time.gmtime(t0 / 1000))


def test_every_database_is_exported_with_counts_and_checksums_that_match(backed_up: tuple[Instance, str], catalog: Catalog) -> None:
    mf, date = backed_up
    bindings = sorted(b for kind, _, b, _ in catalog.worker(WORKER).bindings() if kind == "d1")
    assert len(bindings) == len(catalog.databases)
    keys = mf.r2_list(WORKER, "BACKUPS", f"d1/{date}/")
    assert sorted(keys) == sorted([f"d1/{date}/_summary.json"] + [f"d1/{date}/{b}{suffix}" for b in bindings for suffix in (".sql", ".manifest.json")])
    for binding in bindings:
        dump, manifest = exported(mf, binding, date)
        assert manifest["database"] == binding
        assert dump_problems(dump, manifest) == [], binding
        counted = {t: mf.d1(WORKER, binding, f'SELECT COUNT(*) AS n FROM "{t}"')[0]["n"] for t in tables(mf, binding)}
        assert {t["name"]: t["rows"] for t in manifest["tables"]} == counted, binding
    games = {t["name"]: t["rows"] for t in exported(mf, "DB_MLB_GAMES", date)[1]["tables"]}
    assert games["games"] == GAMES and games["standings"] == len(TRICKY)


def test_a_changed_dump_no_longer_matches_its_manifest(backed_up: tuple[Instance, str]) -> None:
    mf, date = backed_up
    dump, manifest = exported(mf, "DB_MLB_GAMES", date)
    tampered = dump.replace(b"'H1', 'A1'", b"'H1', 'A2'", 1)
    assert tampered != dump
    problems = dump_problems(tampered, manifest)
    assert "the dump's sha256 differs from the manifest's" in problems
    assert "games: the rows' checksum differs from the manifest's" in problems


def test_a_restore_into_an_empty_database_reproduces_it(backed_up: tuple[Instance, str], start: Start, tmp_path: Path) -> None:
    mf, date = backed_up
    dump, manifest = exported(mf, "DB_MLB_GAMES", date)
    restored = start([WORKER], persist=restore_into(dump, manifest, tmp_path), migrate=False)
    assert content(restored, "DB_MLB_GAMES") == content(mf, "DB_MLB_GAMES")
    assert content(restored, "DB_MLB_GAMES")["rows"]["d1_migrations"]  # wrangler sees its migrations as applied


def test_a_restore_refuses_a_dump_that_does_not_match(backed_up: tuple[Instance, str], tmp_path: Path) -> None:
    mf, date = backed_up
    dump, manifest = exported(mf, "DB_MEDIA", date)
    (tmp_path / "dump.sql").write_bytes(dump + b"INSERT INTO \"media_objects\" (\"key\") VALUES ('x');\n")
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    result = subprocess.run(
        [sys.executable, "-m", "workers.backups", "restore", "--dump", str(tmp_path / "dump.sql"), "--manifest", str(tmp_path / "manifest.json"),
         "--database", "blaze-media", "--database-id", "blaze-media", "--local", "--persist-to", str(tmp_path / "state")],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )
    assert result.returncode == 2 and "media_objects: 1 rows in the dump, 0 in the manifest" in result.stderr
    assert not (tmp_path / "state").exists()


def test_one_failing_database_does_not_stop_the_others(start: Start, catalog: Catalog, tmp_path: Path) -> None:
    mf = start([WORKER], persist=tmp_path)
    mf.close()
    corrupt_database(tmp_path, b"CREATE TABLE odds_events")
    mf = start([WORKER], persist=tmp_path, migrate=False)
    t0 = int(time.time() * 1000)
    assert run_backup(mf, catalog, t0) == "exception"
    date = time.strftime("%Y-%m-%d", time.gmtime(t0 / 1000))
    summary = json.loads(mf.r2_get(WORKER, "BACKUPS", f"d1/{date}/_summary.json"))
    failed = [d["database"] for d in summary["databases"] if not d["ok"]]
    assert failed == ["DB_ODDS"]
    assert len(summary["databases"]) == len(catalog.databases)
    assert f"d1/{date}/DB_MLB_GAMES.manifest.json" in mf.r2_list(WORKER, "BACKUPS", f"d1/{date}/")
    assert f"d1/{date}/DB_ODDS.sql" not in mf.r2_list(WORKER, "BACKUPS", f"d1/{date}/")


def test_every_user_table_is_backed_up_whatever_its_name_or_kind(start: Start, catalog: Catalog, tmp_path: Path) -> None:
    mf = start([WORKER])
    # A name whose second and third letters are "cf" is a user table (D1's own start with "_cf_"),
    # and a WITHOUT ROWID table has no rowid to page by.
    mf.d1(WORKER, "DB_MLB_GAMES", "CREATE TABLE ncf_polls (week INTEGER PRIMARY KEY, leader TEXT NOT NULL)")
    mf.d1(WORKER, "DB_MLB_GAMES", "INSERT INTO ncf_polls (week, leader) VALUES (1, 'Georgia'), (2, 'Texas')")
    mf.d1(WORKER, "DB_MLB_GAMES", "CREATE TABLE rankings (poll TEXT, week INTEGER, team TEXT NOT NULL, points REAL, PRIMARY KEY (poll, week)) WITHOUT ROWID")
    mf.d1(WORKER, "DB_MLB_GAMES", """
        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1100)
        INSERT INTO rankings (poll, week, team, points) SELECT CASE i % 3 WHEN 0 THEN 'AP' WHEN 1 THEN 'Coaches' ELSE 'O''Brien''s' END, i, 'T' || (i % 25), i / 7.0 FROM n""")
    t0 = int(time.time() * 1000)
    assert run_backup(mf, catalog, t0) == "ok"
    dump, manifest = exported(mf, "DB_MLB_GAMES", time.strftime("%Y-%m-%d", time.gmtime(t0 / 1000)))
    assert {"ncf_polls": 2, "rankings": 1100}.items() <= {t["name"]: t["rows"] for t in manifest["tables"]}.items()
    assert dump_problems(dump, manifest) == []
    restored = start([WORKER], persist=restore_into(dump, manifest, tmp_path), migrate=False)
    assert content(restored, "DB_MLB_GAMES") == content(mf, "DB_MLB_GAMES")
