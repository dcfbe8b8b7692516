"""The offline plan diff, as Markdown for a pull-request comment.

    python -m tools.diff --base <git-rev> [--stacks staging prod] [--out FILE]
    python -m tools.diff --old OLD.json --new NEW.json [--out FILE]

With `--base`, the old plans are built from a `git worktree` of that revision (with this
checkout's virtualenv and node_modules) and the new plans from this checkout, working-tree
changes included. Per stack it lists added, removed and changed resources, each changed
property path with its old and new value, the stack outputs that change, and the per-Worker
bundle digests that change. Secrets are already `[secret]` in plan files and stay so.

Exit codes: 0 diff written (with or without changes); 2 a plan file is unreadable or not a
plan, the revision is unknown, or planning a revision failed.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from tools.markdown import ABSENT, code_cell

PROJECT_ROOT = Path(__file__).resolve().parent.parent
EXIT_UNUSABLE = 2
# GitHub refuses comments over 65,536 characters; leave room for the workflow's header.
DEFAULT_MAX_CHARS = 60_000
SCRIPT_TYPE = "cloudflare:index/workersScript:WorkersScript"
STACKS = ("staging", "prod")


class DiffInputError(Exception):
    """A plan, a revision or a plan run the diff cannot use."""


@dataclass(frozen=True)
class PropertyChange:
    path: str
    old: Any
    new: Any


@dataclass(frozen=True)
class ResourceChange:
    urn: str
    type: str
    name: str
    changes: tuple[PropertyChange, ...]


@dataclass(frozen=True)
class DigestChange:
    worker: str
    family: str
    old: str | None  # None: the Worker is new
    new: str | None  # None: the Worker is gone


@dataclass
class StackDiff:
    stack: str
    total: int
    added: list[dict[str, Any]] = field(default_factory=list)
    removed: list[dict[str, Any]] = field(default_factory=list)
    changed: list[ResourceChange] = field(default_factory=list)
    digests: list[DigestChange] = field(default_factory=list)
    outputs: list[PropertyChange] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed or self.digests or self.outputs)


def read_plan(path: Path) -> dict[str, Any]:
    """A plan file as `tools.plan` writes it, or DiffInputError saying what is wrong."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise DiffInputError(f"{path}: cannot be read: {err.strerror}") from None
    except ValueError as err:
        raise DiffInputError(f"{path}: not JSON ({err})") from None
    if not isinstance(document, dict) or not isinstance(document.get("stack"), str):
        raise DiffInputError(f"{path}: not a plan (an object with stack, resources, outputs)")
    resources, outputs = document.get("resources"), document.get("outputs")
    if not isinstance(resources, list) or not isinstance(outputs, dict):
        raise DiffInputError(f"{path}: not a plan (resources must be a list, outputs an object)")
    for index, resource in enumerate(resources):
        if not isinstance(resource, dict) or not all(isinstance(resource.get(k), str) for k in ("urn", "type", "name")):
            raise DiffInputError(f"{path}: resources[{index}] has no urn, type and name")
    return document


def _names_items(items: list[Any], key: str) -> bool:
    values = [item.get(key) if isinstance(item, dict) else None for item in items]
    return all(isinstance(v, str) for v in values) and len(set(values)) == len(values)


def _item_key(old: list[Any], new: list[Any]) -> str | None:
    """The key naming both lists' items (bindings by `name`), so an insertion is one change."""
    if not (old or new):
        return None
    for key in ("name", "id", "cron"):
        if _names_items(old, key) and _names_items(new, key):
            return key
    return None


def compare(old: Any, new: Any, path: str) -> Iterator[PropertyChange]:
    """Every leaf that differs between `old` and `new`, with its property path."""
    if old == new:
        return
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new)):
            yield from compare(old.get(key, ABSENT), new.get(key, ABSENT), f"{path}.{key}" if path else key)
        return
    if isinstance(old, list) and isinstance(new, list):
        key = _item_key(old, new)
        if key is not None:
            by_old = {item[key]: item for item in old}
            by_new = {item[key]: item for item in new}
            for name in sorted(set(by_old) | set(by_new)):
                yield from compare(by_old.get(name, ABSENT), by_new.get(name, ABSENT), f"{path}[{key}={name}]")
            return
        for index in range(max(len(old), len(new))):
            yield from compare(old[index] if index < len(old) else ABSENT, new[index] if index < len(new) else ABSENT, f"{path}[{index}]")
        return
    yield PropertyChange(path, old, new)


def diff_plans(old: dict[str, Any], new: dict[str, Any]) -> StackDiff:
    before = {r["urn"]: r for r in old["resources"]}
    after = {r["urn"]: r for r in new["resources"]}
    result = StackDiff(stack=new["stack"], total=len(after))
    result.added = [after[urn] for urn in sorted(set(after) - set(before))]
    result.removed = [before[urn] for urn in sorted(set(before) - set(after))]
    for urn in sorted(set(before) & set(after)):
        a, b = before[urn], after[urn]
        changes = list(compare(a.get("inputs", {}), b.get("inputs", {}), ""))
        changes += compare(a.get("options", {}), b.get("options", {}), "options")
        changes += compare(a.get("parent", ""), b.get("parent", ""), "parent")
        if changes:
            result.changed.append(ResourceChange(urn, b["type"], b["name"], tuple(changes)))

    old_workers = old["outputs"].get("workers") or {}
    new_workers = new["outputs"].get("workers") or {}
    for worker in sorted(set(old_workers) | set(new_workers)):
        was, now = old_workers.get(worker) or {}, new_workers.get(worker) or {}
        if was.get("sha256") != now.get("sha256"):
            family = now.get("family") or was.get("family") or "?"
            result.digests.append(DigestChange(worker, family, was.get("sha256"), now.get("sha256")))
    result.outputs = [
        change for change in compare(old["outputs"], new["outputs"], "")
        if not (change.path.startswith("workers.") and change.path.endswith(".sha256"))
    ]
    return result


def _digest(value: str | None) -> str:
    return f"`{value}`" if value else "(none)"


def render_stack(diff: StackDiff) -> list[str]:
    lines = [f"### Stack `{diff.stack}`", ""]
    if diff.empty:
        return lines + ["No changes.", ""]
    worker_word = "digest changes" if len(diff.digests) != 1 else "digest change"
    lines += [
        f"{len(diff.changed)} changed, {len(diff.added)} added, {len(diff.removed)} removed "
        f"(of {diff.total} resources); {len(diff.digests)} Worker {worker_word}.",
        "",
    ]
    if diff.digests:
        lines += ["#### Worker bundle digests", "", "| Worker | family | old sha256 | new sha256 |", "|---|---|---|---|"]
        lines += [f"| `{d.worker}` | {d.family} | {_digest(d.old)} | {_digest(d.new)} |" for d in diff.digests]
        lines.append("")
    if diff.added:
        lines += ["#### Added", ""] + [f"- `{r['name']}` ({r['type']})" for r in diff.added] + [""]
    if diff.removed:
        lines += ["#### Removed", ""] + [f"- `{r['name']}` ({r['type']})" for r in diff.removed] + [""]
    # A new bundle shows once, in the digest table, not again as each script's contentSha256.
    shown = [(r, [c for c in r.changes if not (r.type == SCRIPT_TYPE and c.path == "contentSha256")]) for r in diff.changed]
    bundle_only = [r.name for r, changes in shown if not changes]
    if any(changes for _, changes in shown):
        lines += ["#### Changed", ""]
        for resource, changes in shown:
            if not changes:
                continue
            lines += [f"`{resource.name}` ({resource.type})", "", "| property | old | new |", "|---|---|---|"]
            lines += [f"| `{c.path}` | {code_cell(c.old)} | {code_cell(c.new)} |" for c in changes]
            lines.append("")
    if bundle_only:
        names = ", ".join(f"`{name}`" for name in bundle_only)
        lines += [f"Changed only in their bundle (the digest table above): {names}.", ""]
    if diff.outputs:
        lines += ["#### Stack outputs", "", "| output | old | new |", "|---|---|---|"]
        lines += [f"| `{c.path}` | {code_cell(c.old)} | {code_cell(c.new)} |" for c in diff.outputs]
        lines.append("")
    return lines


def render(diffs: list[StackDiff], title: str) -> str:
    lines = [f"## {title}", ""]
    for diff in diffs:
        lines += render_stack(diff)
    return "\n".join(lines)


def cut_for_comment(text: str, max_chars: int = DEFAULT_MAX_CHARS) -> str:
    """The diff as a pull-request comment, which GitHub limits in size; the terminal gets all."""
    if len(text) <= max_chars:
        return text
    note = (
        f"\n\n…cut here: {len(text) - max_chars} more characters. The whole diff is the output of this "
        "run's `make diff` step (or run it on the branch).\n"
    )
    return text[: max_chars - len(note)].rsplit("\n", 1)[0] + note


def _git(args: list[str], cwd: Path) -> str:
    result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise DiffInputError(f"git {' '.join(args)}: {result.stderr.strip()}")
    return result.stdout.strip()


def plan_tree(project: Path, stacks: list[str], out: Path) -> dict[str, Path]:
    """Plan `stacks` (in order: staging before prod, which reads it) of the tree at `project`."""
    out.mkdir(parents=True, exist_ok=True)
    for stale in out.glob("*.json"):
        stale.unlink()  # a referenced plan (staging.json) must come from this tree
    paths = {}
    for stack in stacks:
        path = out / f"{stack}.json"
        result = subprocess.run(
            [sys.executable, "-m", "tools.plan", stack, "--out", str(path)],
            cwd=project, capture_output=True, text=True, check=False,
        )
        if result.returncode != 0:
            raise DiffInputError(f"planning {stack} in {project} failed (exit {result.returncode}):\n{result.stderr.strip()}")
        paths[stack] = path
    return paths


def plans_at_revision(revision: str, stacks: list[str], out: Path) -> dict[str, Path]:
    """Plan `stacks` as they were at `revision`, in a temporary git worktree."""
    try:
        commit = _git(["rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}"], PROJECT_ROOT)
    except DiffInputError:
        raise DiffInputError(f"{revision!r} is not a commit of this repository") from None
    toplevel = Path(_git(["rev-parse", "--show-toplevel"], PROJECT_ROOT))
    inside = PROJECT_ROOT.relative_to(toplevel)
    with tempfile.TemporaryDirectory(prefix="blaze-diff-") as tmp:
        tree = Path(tmp) / "tree"
        _git(["worktree", "add", "--detach", "--quiet", str(tree), commit], PROJECT_ROOT)
        try:
            project = tree / inside
            # The same installed packages as this checkout: no second npm ci per diff.
            (project / "node_modules").symlink_to(PROJECT_ROOT / "node_modules")
            return plan_tree(project, stacks, out)
        finally:
            _git(["worktree", "remove", "--force", str(tree)], PROJECT_ROOT)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--base", help="git revision to compare this checkout with")
    source.add_argument("--old", type=Path, help="old plan file (with --new)")
    parser.add_argument("--new", type=Path, help="new plan file (with --old)")
    parser.add_argument("--stacks", nargs="+", default=list(STACKS), help="stacks to plan with --base (default: staging prod)")
    parser.add_argument("--out", type=Path, help="also write the Markdown here, as a pull-request comment (cut at --max-chars)")
    parser.add_argument("--max-chars", type=int, default=DEFAULT_MAX_CHARS, help="the comment's size limit (stdout is never cut)")
    args = parser.parse_args(argv)
    if args.old is not None and args.new is None:
        parser.error("--old needs --new")

    try:
        if args.base is not None:
            work = PROJECT_ROOT / "build" / "diff"
            old_paths = plans_at_revision(args.base, args.stacks, work / "base")
            new_paths = plan_tree(PROJECT_ROOT, args.stacks, work / "head")
            pairs = [(read_plan(old_paths[s]), read_plan(new_paths[s])) for s in args.stacks]
            title = f"Plan diff against `{args.base}`"
        else:
            pairs = [(read_plan(args.old), read_plan(args.new))]
            title = f"Plan diff: `{args.old}` → `{args.new}`"
        for old, new in pairs:
            if old["stack"] != new["stack"]:
                raise DiffInputError(f"the plans are of different stacks: {old['stack']} and {new['stack']}")
    except DiffInputError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_UNUSABLE
    text = render([diff_plans(old, new) for old, new in pairs], title)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(cut_for_comment(text, args.max_chars), encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
