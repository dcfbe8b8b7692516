"""Check a D1 export of the backup Worker (workers/src/backup/) and replay it with wrangler.

The export is a SQL dump plus a manifest of its tables, row counts and checksums.
`restore` checks the dump against its manifest, then replays it with wrangler. The dump
creates its tables (no IF NOT EXISTS), so it only restores into an empty database;
wrangler runs it as one transaction, so a failed restore leaves nothing. The command is
`python -m workers.backups` (workers/backups.py), the one every manifest names;
workers/README.md describes the whole path, from fetching the files out of R2.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from d1.migrations import WRANGLER, wrangler_config
from toolchain.node import node_binary

_INSERT = re.compile(r'^INSERT INTO "((?:[^"]|"")*)" ')


def dump_problems(dump: bytes, manifest: dict) -> list[str]:
    """How `dump` differs from what its manifest says it holds (empty when it matches)."""
    problems = []
    if hashlib.sha256(dump).hexdigest() != manifest["dump"]["sha256"]:
        problems.append("the dump's sha256 differs from the manifest's")
    if len(dump) != manifest["dump"]["bytes"]:
        problems.append(f"the dump has {len(dump)} bytes, the manifest says {manifest['dump']['bytes']}")
    hashes: dict[str, Any] = {}
    rows: dict[str, int] = {}
    for line in dump.decode().splitlines(keepends=True):
        match = _INSERT.match(line)
        if match:
            table = match.group(1).replace('""', '"')
            hashes.setdefault(table, hashlib.sha256()).update(line.encode())
            rows[table] = rows.get(table, 0) + 1
    for table in manifest["tables"]:
        name = table["name"]
        if rows.get(name, 0) != table["rows"]:
            problems.append(f"{name}: {rows.get(name, 0)} rows in the dump, {table['rows']} in the manifest")
        elif hashes.get(name, hashlib.sha256()).hexdigest() != table["sha256"]:
            problems.append(f"{name}: the rows' checksum differs from the manifest's")
    unexpected = set(rows) - {t["name"] for t in manifest["tables"]}
    problems += [f"{name}: rows in the dump but not in the manifest" for name in sorted(unexpected)]
    return problems


def restore(root: Path, dump: Path, manifest: dict, name: str, database_id: str, target: list[str]) -> int:
    problems = dump_problems(dump.read_bytes(), manifest)
    if problems:
        for problem in problems:
            print(f"error: {problem}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="blaze-restore-") as tmp:
        config = Path(tmp) / "wrangler.json"
        config.write_text(json.dumps(wrangler_config(name, database_id, Path(tmp))))
        env = dict(os.environ, WRANGLER_SEND_METRICS="false", WRANGLER_HIDE_BANNER="true", CI="true")
        argv = [node_binary(), str(root / WRANGLER), "d1", "execute", name, "--file", str(dump.resolve()), "--config", str(config), "--yes", *target]
        return subprocess.run(argv, cwd=root, env=env, check=False).returncode
