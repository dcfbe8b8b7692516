"""The offline plan diff, as Markdown for a pull-request comment.

    python -m operations.diff --base <git-rev> [--stacks staging prod] [--out FILE]
    python -m operations.diff --old OLD.json --new NEW.json [--out FILE]

With `--base`, the old plans are built from a `git worktree` of that revision (with this
checkout's virtualenv and node_modules) and the new plans from this checkout, working-tree
changes included. Per stack it lists added, removed and changed resources, each changed
property path with its old and new value, the stack outputs that change, and the per-Worker
bundle digests that change. Secrets are already `[secret]` in plan files and stay so.

Above the lists, a Mermaid diagram (GitHub renders it in the comment) shows the blast
radius: only the Workers the change touches, marked added, removed or changed, with the D1
databases, KV namespaces, R2 buckets and services they bind (a binding the change adds or
removes on its own edge), drawn the way docs/INFRASTRUCTURE.md draws the fleet. Over
MAX_DRAWN_WORKERS Workers or MAX_EDGES edges (an edit of a shared module touches all 72) it
is one node per family and mark with counts instead. Nothing touched, no diagram.

Exit codes: 0 diff written (with or without changes); 2 a plan file is unreadable or not a
plan, the revision is unknown, or planning a revision failed.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from docgen.diagram import MAX_EDGES, SHAPES, edge_count, fan_out, flowchart, node_id, target_node
from docgen.markdown import ABSENT, code_cell

PROJECT_ROOT = Path(__file__).resolve().parent.parent
EXIT_UNUSABLE = 2
# GitHub refuses comments over 65,536 characters; leave room for the workflow's header.
DEFAULT_MAX_CHARS = 60_000
SCRIPT_TYPE = "cloudflare:index/workersScript:WorkersScript"
STACKS = ("staging", "prod")
# The offline plan of a tree, newest layout first (tools/plan.py before the move to local/).
PLAN_MODULES = ("local.plan", "tools.plan")
# The program's components: every resource of a Worker, database, namespace or bucket is one
# of these or its child, so a change to any of them touches that catalog entry.
COMPONENTS = {"blaze:worker:WorkerService": "worker", "blaze:d1:Database": "d1", "blaze:kv:Namespace": "kv", "blaze:r2:Bucket": "r2"}
# Script binding type -> (diagram kind, the binding's input naming its target, and the stack
# output section and field mapping that value back to the catalog name).
BINDINGS = {
    "d1": ("d1", "id", "d1", "id"),
    "kv_namespace": ("kv", "namespaceId", "kv", "id"),
    "r2_bucket": ("r2", "bucketName", "r2", "name"),
    "service": ("svc", "service", "workers", "scriptName"),
}
# Over this many touched Workers the diagram groups them by family (a shared module's edit
# touches all 72): one node per Worker stops being a glance.
MAX_DRAWN_WORKERS = 12
MARKS = ("added", "removed", "changed")
NOUNS = {"d1": "databases", "kv": "namespaces", "r2": "buckets", "svc": "services"}
# GitHub renders Mermaid in light and dark themes: pale fills with dark text read in both;
# removed is also dashed, so the marks do not rest on red and green alone.
CLASS_DEFS = (
    "classDef added fill:#dafbe1,stroke:#1a7f37,color:#0f3d1c",
    "classDef removed fill:#ffebe9,stroke:#cf222e,color:#5c0f14,stroke-dasharray:5 3",
    "classDef changed fill:#fff8c5,stroke:#9a6700,color:#3d2a00",
    "classDef bound fill:#f6f8fa,stroke:#8c959f,color:#24292f",
)


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


@dataclass(frozen=True)
class Touched:
    """A Worker, database, namespace or bucket (by catalog name) that the change touches."""

    kind: str  # "worker", or a binding kind of docgen/diagram.py: "d1", "kv", "r2"
    name: str
    mark: str  # one of MARKS
    family: str = ""
    # A Worker's D1, KV, R2 and service bindings, old and new: (kind, target, "added" | "removed" | "").
    bindings: tuple[tuple[str, str, str], ...] = ()


@dataclass
class StackDiff:
    stack: str
    total: int
    added: list[dict[str, Any]] = field(default_factory=list)
    removed: list[dict[str, Any]] = field(default_factory=list)
    changed: list[ResourceChange] = field(default_factory=list)
    digests: list[DigestChange] = field(default_factory=list)
    outputs: list[PropertyChange] = field(default_factory=list)
    touched: list[Touched] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed or self.digests or self.outputs)


def read_plan(path: Path) -> dict[str, Any]:
    """A plan file as `local.plan` writes it, or DiffInputError saying what is wrong."""
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
    result.touched = _touched(old, new, result)
    return result


def _component(resource: dict[str, Any]) -> tuple[str, str] | None:
    """(kind, catalog name) of the component a resource is or belongs to (its parent's URN)."""
    if resource["type"] in COMPONENTS:
        return COMPONENTS[resource["type"]], resource["name"]
    parts = str(resource.get("parent") or "").split("::")
    parent_type = parts[2].split("$")[-1] if len(parts) == 4 else ""
    return (COMPONENTS[parent_type], parts[3]) if parent_type in COMPONENTS else None


def _bindings(plan: dict[str, Any]) -> dict[str, set[tuple[str, str]]]:
    """Worker -> (kind, catalog name of the target) of its script's D1, KV, R2 and service bindings."""
    names: dict[tuple[str, Any], str] = {}
    for kind, _, section, field_name in BINDINGS.values():
        entries = plan["outputs"].get(section)
        for name, entry in (entries if isinstance(entries, dict) else {}).items():
            if isinstance(entry, dict):
                names[(kind, entry.get(field_name))] = name
    out: dict[str, set[tuple[str, str]]] = {}
    for resource in plan["resources"]:
        owner = _component(resource)
        bindings = resource.get("inputs", {}).get("bindings")
        if resource["type"] != SCRIPT_TYPE or owner is None or not isinstance(bindings, list):
            continue
        for binding in bindings:
            if isinstance(binding, dict) and binding.get("type") in BINDINGS:
                kind, key, _, _ = BINDINGS[binding["type"]]
                out.setdefault(owner[1], set()).add((kind, names.get((kind, binding.get(key)), str(binding.get(key)))))
    return out


def _touched(old: dict[str, Any], new: dict[str, Any], diff: StackDiff) -> list[Touched]:
    """The Workers, databases, namespaces and buckets whose resources the diff adds, removes or changes."""
    marks: dict[tuple[str, str], str] = {}
    for resources, mark in ((diff.added, "added"), (diff.removed, "removed")):
        for resource in resources:
            if resource["type"] in COMPONENTS:
                marks[COMPONENTS[resource["type"]], resource["name"]] = mark
    after = {r["urn"]: r for r in new["resources"]}
    for resource in diff.added + diff.removed + [after[c.urn] for c in diff.changed]:
        if (owner := _component(resource)) is not None:
            marks.setdefault(owner, "changed")
    for digest in diff.digests:
        marks.setdefault(("worker", digest.worker), "changed")
    was_bound, now_bound = _bindings(old), _bindings(new)
    families = {name: w.get("family", "?") for plan in (old, new) for name, w in (plan["outputs"].get("workers") or {}).items()}
    out = []
    for (kind, name), mark in sorted(marks.items()):
        if kind != "worker":
            out.append(Touched(kind, name, mark))
            continue
        was, now = was_bound.get(name, set()), now_bound.get(name, set())
        bindings = tuple(sorted((*key, _binding_mark(mark, key in was, key in now)) for key in was | now))
        out.append(Touched(kind, name, mark, families.get(name, "?"), bindings))
    return out


def _binding_mark(worker_mark: str, before: bool, after: bool) -> str:
    # Only a changed Worker's bindings are marked: all of an added or removed one's are.
    if worker_mark != "changed" or (before and after):
        return ""
    return "added" if after else "removed"


def touched_diagram(diff: StackDiff) -> tuple[list[str], str]:
    """The Mermaid of what the change touches, and a sentence when it is drawn grouped; ([], "")
    when it touches no Worker, database, namespace or bucket."""
    if not diff.touched:
        return [], ""
    workers = [t for t in diff.touched if t.kind == "worker"]
    data = [t for t in diff.touched if t.kind != "worker"]
    drawn = _each_worker(workers, data)
    if len(workers) <= MAX_DRAWN_WORKERS and edge_count(drawn) <= MAX_EDGES:
        return drawn, ""
    note = (f"{len(workers)} Workers touched, more than this picture draws one by one ({MAX_DRAWN_WORKERS} Workers, "
            f"{MAX_EDGES} edges): one node per family and mark, each arrow labelled with how many distinct targets "
            "of that kind the group binds. The lists below name every resource.")
    return _by_family(workers, data), note


def _each_worker(workers: list[Touched], data: list[Touched]) -> list[str]:
    """Each touched Worker with every target it binds; a binding the change adds is a thick
    edge, one it removes dotted. Unmarked targets that the same Workers bind are boxed by kind,
    with one edge from each of them to the box (fan_out)."""
    names = {node_id(w.name): w.name for w in workers}
    data_marks = {(t.kind, t.name): t.mark for t in data}
    nodes = {node_id(w.name): f'{node_id(w.name)}["{w.name}<br>{w.mark}"]:::{w.mark}' for w in workers}
    edges: list[str] = []
    plain: list[tuple[str, str]] = []
    unmarked: set[tuple[str, str]] = set()  # (kind, node id)
    for worker in workers:
        for kind, target, binding_mark in worker.bindings:
            if kind == "svc" and node_id(target) in names:
                node = node_id(target)
            else:
                mark = data_marks.get((kind, target), "")
                node, definition = target_node(kind, target, mark)
                nodes[node] = f"{definition}:::{mark or 'bound'}"
                if not (mark or binding_mark):
                    unmarked.add((kind, node))
            if binding_mark:
                arrow = "==>" if binding_mark == "added" else "-.->"
                edges.append(f"{node_id(worker.name)} {arrow}|binding {binding_mark}| {node}")
            else:
                plain.append((node_id(worker.name), node))
    for touched in data:
        node, definition = target_node(touched.kind, touched.name, touched.mark)
        nodes.setdefault(node, f"{definition}:::{touched.mark}")
    binders: dict[str, set[str]] = defaultdict(set)
    for binder, node in plain:
        binders[node].add(names[binder])
    boxes: dict[tuple[str, tuple[str, ...]], list[str]] = defaultdict(list)
    for kind, node in sorted(unmarked):
        boxes[(kind, tuple(sorted(binders[node])))].append(node)
    titled: dict[str, list[str]] = {}
    for (kind, by), members in sorted(boxes.items()):
        title = f"{SHAPES[kind][2]}{NOUNS[kind]} ({len(members)})"
        titled[title if title not in titled else f"{title} of {', '.join(by)}"] = members
    groups, fanned = fan_out(plain, titled)
    return _with_legend(nodes, fanned + edges, groups)


def _by_family(workers: list[Touched], data: list[Touched]) -> list[str]:
    nodes: dict[str, str] = {}
    edges: list[str] = []
    families: dict[tuple[str, str], list[Touched]] = defaultdict(list)
    for worker in workers:
        families[(worker.family, worker.mark)].append(worker)
    for (family, mark), members in sorted(families.items()):
        node = node_id(f"family-{family}-{mark}")
        nodes[node] = f'{node}["{family}: {len(members)} Worker{"s" if len(members) != 1 else ""} {mark}"]:::{mark}'
        targets: dict[str, set[str]] = defaultdict(set)
        for worker in members:
            for kind, target, _ in worker.bindings:
                targets[kind].add(target)
        for kind, names in sorted(targets.items()):
            target, definition = target_node(kind, NOUNS[kind])
            nodes[target] = f"{definition}:::bound"
            edges.append(f"{node} -->|binds {len(names)}| {target}")
    counted: dict[tuple[str, str], int] = defaultdict(int)
    for touched in data:
        counted[(touched.kind, touched.mark)] += 1
    for (kind, mark), count in sorted(counted.items()):
        node, definition = target_node(kind, f"{NOUNS[kind]}: {count} {mark}")
        nodes[node] = f"{definition}:::{mark}"
    return _with_legend(nodes, edges, {})


def _with_legend(nodes: dict[str, str], edges: list[str], groups: dict[str, list[str]]) -> list[str]:
    legend = {node_id(f"legend-{mark}"): f'{node_id(f"legend-{mark}")}["{mark}"]:::{mark}' for mark in MARKS}
    legend[node_id("legend-bound")] = f'{node_id("legend-bound")}["bound, unchanged"]:::bound'
    return flowchart(nodes | legend, edges, groups | {"legend": sorted(legend)}) + [f"  {line}" for line in CLASS_DEFS]


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
    diagram, note = touched_diagram(diff)
    if diagram:
        lines += ["#### What the change touches", "", *([note, ""] if note else []), "```mermaid", *diagram, "```", ""]
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
    head = text[: max_chars - len(note)].rsplit("\n", 1)[0]
    fences = [index for index, line in enumerate(head.split("\n")) if line.startswith("```")]
    if len(fences) % 2:  # cut inside a diagram: an open fence would swallow the rest of the comment
        head = "\n".join(head.split("\n")[: fences[-1]])
    return head + note


def _git(args: list[str], cwd: Path) -> str:
    result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise DiffInputError(f"git {' '.join(args)}: {result.stderr.strip()}")
    return result.stdout.strip()


def plan_module(project: Path) -> str:
    """The offline plan's module in the tree at `project`: a revision from before the plan
    moved to local/ has it at tools/plan.py, and `make diff BASE=` must still plan it."""
    return next((module for module in PLAN_MODULES if (project / f"{module.replace('.', '/')}.py").is_file()), PLAN_MODULES[0])


def plan_tree(project: Path, stacks: list[str], out: Path) -> dict[str, Path]:
    """Plan `stacks` (in order: staging before prod, which reads it) of the tree at `project`."""
    out.mkdir(parents=True, exist_ok=True)
    for stale in out.glob("*.json"):
        stale.unlink()  # a referenced plan (staging.json) must come from this tree
    paths = {}
    module = plan_module(project)
    for stack in stacks:
        path = out / f"{stack}.json"
        result = subprocess.run(
            [sys.executable, "-m", module, stack, "--out", str(path)],
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
