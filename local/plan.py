"""The offline plan of one stack: `python -m local.plan <stack> [--out FILE]`.

Runs the real program under Pulumi's mock runtime with `Pulumi.<stack>.yaml`, prints a
summary and writes `build/plan/<stack>.json`. No credentials, passphrase or network.

A stack that reads another stack's outputs (prod's promotion gate reads staging's) takes
them from that stack's plan file in the same folder, `build/plan/staging.json`; when the
file is missing, that stack is planned first and its file written.

Exit codes: 0 plan written; 1 the catalog, stack config or Workers' code is wrong
(the message names the file, entry and field), or the promotion gate refuses Workers
whose bundle staging does not run (one message naming each, with both digests); 3 the
run would have leaked a secret or failed for another reason (no plan is written).
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from stacks.stack_file import StackConfig

EXIT_INPUT = 1
EXIT_FAILED = 3


def _summary(document: dict) -> str:
    counts = collections.Counter(r["type"] for r in document["resources"])
    lines = [f"stack {document['stack']}: {len(document['resources'])} resources"]
    lines += [f"  {count:4d}  {typ}" for typ, count in sorted(counts.items())]
    workers = document["outputs"].get("workers", {})
    lines.append(f"workers ({len(workers)}):")
    width = max((len(name) for name in workers), default=0)
    for name, worker in sorted(workers.items()):
        crons = ", ".join(worker["crons"]) or "-"
        lines.append(f"  {name:<{width}}  {worker['family']:<8} {worker['sha256'][:12]}  crons: {crons}")
    return "\n".join(lines)


def _referenced_outputs(stack: str, config: StackConfig, folder: Path) -> dict[str, Any]:
    """Outputs of the stacks `stack` references, from their plan files in `folder`."""
    from local.offline import PlanError, referenced_stacks

    outputs = {}
    for name in referenced_stacks(config, stack):
        path = folder / f"{name}.json"
        if not path.exists():
            print(f"{path.name} is missing: planning {name} first")
            code = main([name, "--out", str(path)])
            if code != 0:
                raise PlanError(f"the plan of {name}, which {stack} references, failed (exit {code})")
        try:
            outputs[name] = json.loads(path.read_text(encoding="utf-8"))["outputs"]
        except (OSError, ValueError, KeyError, TypeError) as err:
            raise PlanError(f"{path} is not a readable plan ({err}); delete it to plan {name} again") from None
    return outputs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("stack", help="stack name; reads Pulumi.<stack>.yaml")
    parser.add_argument("--out", type=Path, help="plan file (default build/plan/<stack>.json)")
    args = parser.parse_args(argv)

    # pulumi_cloudflare emits ~70 DeprecationWarnings at import; they are upstream noise.
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    from components.promotion import PromotionError
    from stacks import PROJECT_ROOT, InputError
    from stacks.stack_file import read_stack_config
    from local.offline import PlanError, plan_document, run_program, write_plan
    from workers.bundle import BundleError

    display = f"Pulumi.{args.stack}.yaml"
    out = args.out or PROJECT_ROOT / "build" / "plan" / f"{args.stack}.json"
    if not (PROJECT_ROOT / display).is_file():
        known = sorted(p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in PROJECT_ROOT.glob("Pulumi.*.yaml"))
        print(f"error: no stack {args.stack!r}: there is no {display}; the stacks are: {', '.join(known)}", file=sys.stderr)
        return EXIT_INPUT
    try:
        config = read_stack_config(PROJECT_ROOT / display, display)
        run = run_program(args.stack, config, stack_outputs=_referenced_outputs(args.stack, config, out.parent))
        document = plan_document(run)
    except PromotionError as err:
        # Offline, "staging runs" means staging's plan file: planning staging is the fix here.
        print(f"error: {err}\nOffline, the staging it compares with is {out.parent / 'staging.json'}: "
              "run `make plan STACK=staging` on this tree first.", file=sys.stderr)
        return EXIT_INPUT
    except (InputError, BundleError) as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_INPUT
    except PlanError as err:
        print(f"error: {err}; no plan written", file=sys.stderr)
        return EXIT_FAILED
    write_plan(document, out)
    print(_summary(document))
    for warning in run.warnings:
        print(f"warning: {warning}")
    if run.placeholder_secrets:
        print(
            f"note: {len(run.placeholder_secrets)} secrets are not set in {display}; the plan shows them as "
            f"[secret]. `pulumi preview` needs them: pulumi config set --secret <key> -s {args.stack}",
        )
        for key in run.placeholder_secrets:
            print(f"  {key}")
    print(f"wrote {out.relative_to(PROJECT_ROOT) if out.is_relative_to(PROJECT_ROOT) else out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
