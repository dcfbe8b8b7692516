"""Restore a D1 database to its recorded restore point: `python -m d1.restore STACK DB`.

    make restore STACK=prod DB=blaze-odds [BOOKMARK=<b>] [YES=1]

The restore point is the Time Travel bookmark the deploy took before it migrated the
database (`d1.migrations apply --remote`), kept as the stack output
`d1.<DB>.restorePoint`; BOOKMARK restores to another one (any bookmark of the last 30 days,
or the `previous_bookmark` a restore printed, to undo it). It prints the exact request,
asks for the database's name to confirm (or `--yes`), then sends it through the D1 API
(`d1/timetravel.py`: CLOUDFLARE_API_TOKEN, CLOUDFLARE_API_BASE_URL). The outputs come
from `pulumi stack output --json --show-secrets --stack STACK`, or from `--outputs FILE`
holding that JSON.

Exit codes: 0 restored; 1 not confirmed, or the API refused (nothing changed then);
2 the stack, the database or its restore point is not known.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from d1.timetravel import ApiError, D1Api
from stacks import PROJECT_ROOT
from stacks.stack_file import read_stack_config


class RestoreInputError(Exception):
    pass


def stack_outputs(stack: str, outputs_file: Path | None) -> dict[str, Any]:
    if outputs_file is not None:
        try:
            return json.loads(outputs_file.read_text())
        except (OSError, ValueError) as err:
            raise RestoreInputError(f"{outputs_file}: cannot be read as the JSON of `pulumi stack output --json` ({err})") from None
    pulumi = shutil.which("pulumi")
    if pulumi is None:
        raise RestoreInputError("the pulumi CLI is not on PATH (or give --outputs FILE)")
    done = subprocess.run([pulumi, "stack", "output", "--json", "--show-secrets", "--stack", stack],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RestoreInputError(f"pulumi stack output --stack {stack} failed: {done.stderr.strip()}")
    return json.loads(done.stdout)


def account_of(stack: str) -> str:
    path = PROJECT_ROOT / f"Pulumi.{stack.rsplit('/', 1)[-1]}.yaml"
    if not path.is_file():
        raise RestoreInputError(f"no {path.name}: stacks are {', '.join(sorted(p.name.split('.')[1] for p in PROJECT_ROOT.glob('Pulumi.*.yaml')))}")
    account = read_stack_config(path, path.name).values.get("blaze-infra:accountId", "")
    if not account:
        raise RestoreInputError(f"{path.name}: blaze-infra:accountId is not set")
    return account


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("stack")
    parser.add_argument("database", help="the catalog name of the database (a key of the d1 output)")
    parser.add_argument("--bookmark", help="restore to this bookmark instead of the recorded restore point")
    parser.add_argument("--outputs", type=Path, help="the JSON of `pulumi stack output --json --show-secrets`")
    parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    args = parser.parse_args(argv)
    try:
        account = account_of(args.stack)
        databases = stack_outputs(args.stack, args.outputs).get("d1") or {}
        if args.database not in databases:
            raise RestoreInputError(f"stack {args.stack} has no database {args.database!r} (it has {', '.join(sorted(databases))})")
        database = databases[args.database]
        point = database.get("restorePoint") or {}
        bookmark = args.bookmark or point.get("bookmark")
        if not bookmark:
            raise RestoreInputError(f"{args.database}: no restore point is recorded (no migration ran since it was kept); give --bookmark")
        api = D1Api.from_environment(account)
    except (RestoreInputError, ApiError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    name, database_id = database["name"], database["id"]
    if not args.bookmark:
        print(f"restore point of {name}: taken {point.get('takenAt')}, before {', '.join(point.get('applies') or [])}")
    print(f"restores {name} ({database_id}) to bookmark {bookmark}:")
    print(f"  POST {api.base_url}/accounts/{account}/d1/database/{database_id}/time_travel/restore?bookmark={bookmark}")
    print("  Workers that read the newer schema: redeploy the bundle staging ran before (docs/RUNBOOK.md, Roll back one Worker).")
    if not args.yes:
        answer = input(f"type {name} to restore it: ").strip()
        if answer != name:
            print("not restored", file=sys.stderr)
            return 1
    try:
        result = api.restore(database_id, bookmark)
    except ApiError as err:
        print(f"error: not restored: {err}", file=sys.stderr)
        return 1
    print(f"restored {name}: now at bookmark {result.get('bookmark')}; to undo, restore to {result.get('previous_bookmark')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
