"""Mermaid flowcharts as `make docs` and the plan diff draw them, and their rendering.

Both draw a Worker and what it binds the same way (one node shape per kind of target), so
a reader of the pull-request comment recognises the pictures of docs/INFRASTRUCTURE.md.
Rendering is the real Mermaid toolchain: mermaid-cli from docgen/mermaid with Debian's
chromium, which is also the syntax check.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from pathlib import Path
from typing import Iterable

from stacks import PROJECT_ROOT
from toolchain.node import node_binary

MMDC = Path("docgen") / "mermaid" / "node_modules" / ".bin" / "mmdc"
PUPPETEER = Path("docgen") / "mermaid" / "puppeteer.json"
# Mermaid's configuration. The "neo" look draws shapes with rough.js, whose jitter is random
# unless seeded: with a fixed seed, one source always renders to the same bytes.
CONFIG = Path("docgen") / "mermaid" / "config.json"
MAX_EDGES = 60  # above this a diagram is split (or summarised); a reader cannot follow more

# Binding kind -> (shape opening, shape closing, label prefix). Databases and buckets are
# cylinders, namespaces parallelograms, services stadiums.
SHAPES = {"d1": ("[(", ")]", "D1 "), "kv": ("[/", "/]", "KV "), "r2": ("[(", ")]", "R2 "), "svc": ("([", "])", "")}
_ARROWS = re.compile(r"\s(-->|-\.->|==>)(\|[^|]*\|)?\s")


class RenderError(RuntimeError):
    pass


def node_id(name: str) -> str:
    """A Mermaid node id for a resource name (ids take no hyphens)."""
    return re.sub(r"\W", "_", name)


def target_node(kind: str, target: str, note: str = "") -> tuple[str, str]:
    """(id, definition) of a binding target of `kind` (a key of SHAPES); `note` is a second line."""
    node = f"{kind}_{node_id(target)}"
    opening, closing, prefix = SHAPES[kind]
    return node, f'{node}{opening}"{prefix}{target}{"<br>" + note if note else ""}"{closing}'


def group_id(title: str) -> str:
    return node_id(f"group-{title}")


def flowchart(nodes: dict[str, str], edges: Iterable[str], groups: dict[str, Iterable[str]] | None = None) -> list[str]:
    """A left-to-right flowchart: node definitions (by id, written sorted), the ids in each of
    `groups` (title -> ids) inside a subgraph of that title (id `group_id(title)`), then the edges.

    A subgraph's nodes run top to bottom, so a box that edges reach as a whole (an edge to its
    id) is one row, not one more tall column; Mermaid keeps the outer direction for a box whose
    nodes have edges of their own."""
    groups = groups or {}
    grouped = {node for members in groups.values() for node in members}
    lines = ["flowchart LR", *(f"  {nodes[node]}" for node in sorted(nodes) if node not in grouped)]
    for title, members in sorted(groups.items()):
        lines += [f'  subgraph {group_id(title)} ["{title}"]', "    direction TB",
                  *(f"    {nodes[node]}" for node in sorted(members)), "  end"]
    return lines + [f"  {edge}" for edge in edges]


def fan_out(bindings: Iterable[tuple[str, str]], boxes: dict[str, list[str]]) -> tuple[dict[str, list[str]], list[str]]:
    """(groups, edges) for `bindings` (binder id, target id): a box (title -> target ids) whose
    targets all have the same binders becomes a subgraph with one edge from each binder to it
    (an edge to a box binds every node in it); other targets get their edges one by one."""
    pairs = list(dict.fromkeys(bindings))
    binders: dict[str, set[str]] = {}
    for binder, target in pairs:
        binders.setdefault(target, set()).add(binder)
    box_of = {target: title for title, members in boxes.items() for target in members
              if len(members) > 1 and all(binders.get(m) == binders.get(members[0]) for m in members)}
    groups = {title: members for title, members in boxes.items() if members and members[0] in box_of}
    edges = [f"{binder} --> {group_id(box_of[target]) if target in box_of else target}" for binder, target in pairs]
    return groups, list(dict.fromkeys(edges))


def edge_count(diagram: Iterable[str]) -> int:
    return sum(1 for line in diagram if _ARROWS.search(line))


def render_svgs(sources: dict[str, list[str]], out: Path, root: Path = PROJECT_ROOT) -> None:
    """Renders each Mermaid source to out/<name>.svg with mermaid-cli, in one browser session."""
    mmdc = root / MMDC
    if not mmdc.exists():
        raise RenderError(f"{MMDC} is missing: run `make docs` (it installs docgen/mermaid and Debian's chromium)")
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="blaze-mermaid-") as tmp:
        names = sorted(sources)
        document = "\n".join(f"```mermaid\n{chr(10).join(sources[name])}\n```\n" for name in names)
        (Path(tmp) / "in.md").write_text(document)
        done = subprocess.run(
            [node_binary(), str(mmdc), "-p", str(root / PUPPETEER), "-c", str(root / CONFIG), "-q",
             "-i", str(Path(tmp) / "in.md"), "-o", str(Path(tmp) / "out.md")],
            capture_output=True, text=True, check=False, timeout=600,
        )
        if done.returncode != 0:
            raise RenderError(f"mermaid-cli failed (exit {done.returncode}): {done.stderr.strip()[-2000:]}")
        for index, name in enumerate(names, start=1):
            (out / f"{name}.svg").write_bytes((Path(tmp) / f"out-{index}.svg").read_bytes())
