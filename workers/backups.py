"""Restore a D1 database from the backup Worker's export: the command its manifests name.

    python -m workers.backups verify --dump DB_X.sql --manifest DB_X.manifest.json
    python -m workers.backups restore --dump DB_X.sql --manifest DB_X.manifest.json \\
        --database blaze-x --database-id <uuid> --remote
    python -m workers.backups restore ... --local --persist-to DIR    (a local Miniflare state)

Every manifest the deployed backup Worker writes to R2 names this command
(workers/src/backup/export.ts, `restore`), and R2 keeps them 30 days: so the command stays
beside the Worker whose exports it reads, while checking and replaying a dump is D1's
concern (d1/backups.py). workers/README.md describes the whole path, from fetching the
files out of R2.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from d1.backups import dump_problems, restore


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    for command in ("verify", "restore"):
        sub = commands.add_parser(command)
        sub.add_argument("--dump", type=Path, required=True)
        sub.add_argument("--manifest", type=Path, required=True)
        if command == "restore":
            sub.add_argument("--database", required=True, help="the D1 database's name")
            sub.add_argument("--database-id", required=True, help="its UUID (wrangler d1 info <name>)")
            where = sub.add_mutually_exclusive_group(required=True)
            where.add_argument("--remote", action="store_true")
            where.add_argument("--local", action="store_true")
            sub.add_argument("--persist-to", help="with --local: the Miniflare state folder")
    args = parser.parse_args(argv)
    manifest = json.loads(args.manifest.read_text())
    if args.command == "verify":
        problems = dump_problems(args.dump.read_bytes(), manifest)
        for problem in problems:
            print(f"error: {problem}", file=sys.stderr)
        print("the dump matches its manifest" if not problems else f"{len(problems)} problem(s)")
        return 1 if problems else 0
    target = ["--remote"] if args.remote else ["--local", *(["--persist-to", args.persist_to] if args.persist_to else [])]
    root = Path(__file__).resolve().parent.parent
    return restore(root, args.dump, manifest, args.database, args.database_id, target)


if __name__ == "__main__":
    sys.exit(main())
