"""Every migration set, applied in order to an empty local D1, has what the Workers' SQL uses.

wrangler applies each set with `--local` (Miniflare's D1, real SQLite), exactly the command
the deploy runs with `--remote`; the schema is then read from the database file Miniflare
keeps. The code's uses come from d1/queries.py (TypeScript compiler + sqlglot).
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from d1.migration_set import MIGRATIONS_ROOT
from d1.migrations import ENV_DIR, ENV_ID, ENV_NAME
from d1.queries import DYNAMIC, Schema, code_uses, unmet
from tests.conftest import ROOT, ProjectCopy

APPLY_IN_COPY = (
    "import sys; from pathlib import Path; from d1.migrations import apply; root, name, state = sys.argv[1:];"
    " sys.exit(apply(Path(root), name, name, f'workers/migrations/{name}', ['--local', '--persist-to', state]).returncode)"
)


def final_schemas(root: Path, state: Path) -> dict[str, Schema]:
    """Each migration set of `root` applied by wrangler to its own empty local D1, read back."""
    sets = sorted(p.name for p in (root / MIGRATIONS_ROOT).iterdir() if p.is_dir())
    running = {}
    for name in sets:
        # `python -m d1.migrations apply --local` for the checkout itself; a copy's
        # files go through the same `apply` with the copy as its root.
        argv = ["-m", "d1.migrations", "apply", "--local", "--persist-to", str(state / name)]
        if root != ROOT:
            argv = ["-c", APPLY_IN_COPY, str(root), name, str(state / name)]
        env = dict(os.environ, **{ENV_NAME: name, ENV_ID: name, ENV_DIR: f"{MIGRATIONS_ROOT}/{name}"})
        running[name] = subprocess.Popen(
            [sys.executable, *argv], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
    schemas = {}
    for name, process in running.items():
        output, _ = process.communicate(timeout=300)
        assert process.returncode == 0, f"{name}: {output}"
        [database] = [p for p in (state / name).glob("v3/d1/*/*.sqlite") if p.name != "metadata.sqlite"]
        with sqlite3.connect(database) as db:
            tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '_cf_%' AND name NOT LIKE 'sqlite_%'")]
            schemas[name] = {t: frozenset(r[1] for r in db.execute(f"PRAGMA table_info(\"{t}\")")) for t in tables}
    return schemas


def test_the_shipped_migrations_give_every_table_and_column_the_workers_use(tmp_path: Path) -> None:
    uses = code_uses(ROOT)
    assert len(uses) > 50  # the extractor found the code's SQL at all
    assert unmet(uses, final_schemas(ROOT, tmp_path)) == []


def test_a_set_that_drops_a_column_a_worker_reads_fails(project: ProjectCopy, tmp_path: Path) -> None:
    (project.root / "workers/migrations/games/0004_drop_venue.sql").write_text("ALTER TABLE games DROP COLUMN venue;\n")
    problems = unmet(code_uses(project.root), final_schemas(project.root, tmp_path / "state"))
    assert problems, "dropping games.venue passed"
    assert any(p.startswith("workers/src/api/datasets.ts:") and "games.games lacks venue" in p for p in problems), problems


def test_the_code_uses_name_the_builder_calls_with_their_chained_columns() -> None:
    uses = {(u.where, u.tables): u.columns for u in code_uses(ROOT)}
    projections = uses[("workers/src/api/datasets.ts:220", ("game_projections",))]
    assert {"home_win_probability", "sport", "game_date"} <= projections


def test_every_dynamic_sql_site_still_exists(tmp_path: Path) -> None:
    # DYNAMIC must not outlive the code it excuses: each entry names a real line of SQL.
    for where in DYNAMIC:
        file, line = where.rsplit(":", 1)
        text = (ROOT / file).read_text().splitlines()[int(line) - 1]
        assert "${" in text or "`" in text, where
