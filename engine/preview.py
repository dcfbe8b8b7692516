"""A real `pulumi preview` of one stack, offline: `python -m engine.preview <stack>`.

The pinned CLI runs the unmodified program (engine/workspace.py: the Automation API's
language server), the bridged Cloudflare provider checks every input, and the policy pack
runs with the stack's policy config (`policies/<stack>.json`), as a pull request's preview
does. The backend is a local file backend under `build/preview/`, with a throwaway
passphrase, a placeholder API token and placeholders for the secrets the stack file lacks
(in a scratch copy of the stack's config; the committed file is never written). No network:
no update check, no plugin download, and the provider reads nothing from an account because
a new stack has nothing to read.

A stack that reads another stack's outputs (prod's promotion gate reads staging's) finds
that stack in the same backend; when it has never been deployed there, it is given the
outputs of its offline plan (`build/plan/<stack>.json`, made first if missing), so prod's
gate compares with what staging's plan deploys, as `make plan STACK=prod` does.

It shows Pulumi's own progress and writes, in `build/preview/`:
    <stack>.json          the document `pulumi preview --json` prints (steps, diagnostics,
                          changeSummary), rendered by the CLI's own display code from the events
    <stack>.events.jsonl  every engine event (`--event-log`), policy events included

Exit codes: 0 the preview ran (advisory findings are printed, not failures); 1 the program,
the provider or the engine refused (their own message is printed: a wrong setting, a value
the provider rejects, the promotion gate); 3 a mandatory policy violation; 2 it could not run
(usage, the engine's build, a stack file missing).
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path
from typing import Any

from engine.workspace import ROOT, EngineRunError, Workspace, stack_name

OUT = ROOT / "build" / "preview"
EXIT_REFUSED = 1
EXIT_NOT_RUN = 2
EXIT_POLICY = 3


def mandatory_violations(events: Path) -> list[str]:
    """The mandatory policy findings in an event log, as `policy: resource: message` lines."""
    found = []
    for line in events.read_text().splitlines():
        policy = json.loads(line).get("policyEvent")
        if policy and policy.get("enforcementLevel") == "mandatory":
            found.append(f"{policy.get('policyName')}: {policy.get('resourceUrn') or 'the stack'}: {policy.get('message', '').strip()}")
    return found


def referenced_outputs(workspace: Workspace, stack: str) -> None:
    """Give every stack `stack` references outputs in the backend, from its offline plan when
    it has never been deployed there."""
    from stacks.stack_file import read_stack_config
    from local import plan
    from local.offline import referenced_stacks

    display = f"Pulumi.{stack}.yaml"
    for name in referenced_stacks(read_stack_config(workspace.root / display, display), stack):
        if workspace.has_stack(name) and deployed(workspace, name):
            continue
        path = ROOT / "build" / "plan" / f"{name}.json"
        if not path.exists():
            print(f"{path.relative_to(ROOT)} is missing: planning {name} first")
            if plan.main([name, "--out", str(path)]) != 0:
                raise EngineRunError(f"the offline plan of {name}, which {stack} references, failed")
        workspace.prepare(name)
        workspace.set_outputs(name, json.loads(path.read_text())["outputs"])
        print(f"{stack_name(name)}: given the outputs of {path.relative_to(ROOT)} (it was never deployed in this backend)")


def deployed(workspace: Workspace, stack: str) -> bool:
    """Whether `stack` holds more than its root (a real up, not outputs given from a plan)."""
    exported: dict[str, Any] = json.loads(workspace.pulumi("stack", "export", "-s", stack_name(stack)).stdout)
    return len((exported.get("deployment") or {}).get("resources") or []) > 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m engine.preview", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("stack", help="stack name; reads Pulumi.<stack>.yaml")
    parser.add_argument("--out", type=Path, default=OUT, help="folder for the backend and the documents (default build/preview)")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", category=DeprecationWarning)

    if not (ROOT / f"Pulumi.{args.stack}.yaml").is_file():
        known = sorted(p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in ROOT.glob("Pulumi.*.yaml"))
        print(f"error: no stack {args.stack!r}: there is no Pulumi.{args.stack}.yaml; the stacks are: {', '.join(known)}", file=sys.stderr)
        return EXIT_NOT_RUN
    events = args.out / f"{args.stack}.events.jsonl"
    document = args.out / f"{args.stack}.json"
    document.unlink(missing_ok=True)
    try:
        workspace = Workspace(args.out / "engine")
        workspace.prepare(args.stack)
        referenced_outputs(workspace, args.stack)
    except Exception as err:  # the engine's build, the backend: nothing was previewed
        detail = f"\n{err.done.stdout}{err.done.stderr}" if isinstance(err, EngineRunError) and err.done else ""
        print(f"error: the preview could not start: {err}{detail}", file=sys.stderr)
        return EXIT_NOT_RUN

    done = workspace.run("preview", args.stack, events=events, policy=True, check=False)
    if events.is_file():
        document.write_text(json.dumps(workspace.digest(events), indent=4) + "\n")
        print(f"wrote {document.relative_to(ROOT) if document.is_relative_to(ROOT) else document} and {events.name}")
    if done.returncode == 0:
        return 0
    violations = mandatory_violations(events) if events.is_file() else []
    if violations:
        print(f"error: {len(violations)} mandatory policy violation(s) in {args.stack}:", file=sys.stderr)
        for violation in violations:
            print(f"  {violation}", file=sys.stderr)
        return EXIT_POLICY
    return EXIT_REFUSED


if __name__ == "__main__":
    sys.exit(main())
