"""What the account has that no stack declares, and cron triggers it runs differently from
the code: the parts of drift `pulumi refresh` cannot see.

    make audit STACK=prod        (.venv/bin/python -m operations.audit prod [--out FILE])

Reads the account exactly as `make adopt` does (operations/adopt.py: the official SDK,
CLOUDFLARE_API_TOKEN, CLOUDFLARE_BASE_URL, read-only) and prints, as Markdown, every live
Worker, database, namespace, bucket, route in the stack's zones, custom domain, policy and
webhook that neither stack's plan declares, and cron triggers on a declared Worker that
its stack does not declare. It also lists each declared Worker whose live schedules differ
from its stack's: the provider neither imports nor refreshes a cron trigger's schedules
(terraform-provider-cloudflare marks them no_refresh), so `pulumi refresh` never reports a
schedule changed in the dashboard. The drift workflow runs it beside the refresh report.

Exit codes: 0 nothing unmanaged and every schedule as declared; 3 otherwise; 2 it could
not tell (bad input or config, or the API failed).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Optional

from operations.adopt import AdoptError, Adoption, ApiFailure, adopt, client_from_environment
from stacks import PROJECT_ROOT

EXIT_UNMANAGED = 3


def audit_report(adoption: Adoption) -> str:
    lines = [f"## Unmanaged in account {adoption.account} (stack {adoption.stack})", ""]
    if adoption.unmanaged:
        lines += [f"{len(adoption.unmanaged)} live resource(s) no stack declares. Declare each in the catalog and import it "
                  "(`make adopt`), or delete it in the account:", ""]
        lines += [f"- {label}" for label in adoption.unmanaged]
    else:
        lines.append("Nothing: every live resource is declared by a stack.")
    lines += ["", "## Cron triggers the account runs differently from the code", ""]
    if adoption.schedule_changes:
        lines += ["`pulumi refresh` cannot see these, and so neither can `pulumi up`: the state still holds the declared "
                  "schedules, so an up changes nothing. Set the declared schedule back in the dashboard, or declare the "
                  "live one in the catalog:", ""]
        lines += [f"- {change}" for change in adoption.schedule_changes]
    else:
        lines.append("None: every declared Worker runs the schedules its stack declares.")
    return "\n".join(lines + [""])


def drifted(adoption: Adoption) -> bool:
    return bool(adoption.unmanaged or adoption.schedule_changes)


def main(argv: Optional[list[str]] = None, root: Path = PROJECT_ROOT) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("stack")
    parser.add_argument("--out", type=Path, help="also write the report to this file")
    args = parser.parse_args(argv)
    try:
        adoption = adopt(args.stack, root, client_from_environment(), baselines=False)
    except (AdoptError, ApiFailure) as err:
        text = f"## Unmanaged resources of stack {args.stack}\n\nThe audit could not read the account: {err}\n"
        print(f"error: {err}", file=sys.stderr)
        code = 2
    else:
        text = audit_report(adoption)
        code = EXIT_UNMANAGED if drifted(adoption) else 0
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)
    print(text, end="")
    return code


if __name__ == "__main__":
    sys.exit(main())
