"""docs/INFRASTRUCTURE.md: generated from the catalog and the stacks, current, and readable."""

from __future__ import annotations

import re
import subprocess
import sys

from stacks import cron
from stacks.catalog import load_catalog
from tests.conftest import ROOT, ProjectCopy
from tools import diagram, docs

CATALOG = load_catalog(ROOT)


def test_the_committed_document_is_what_make_docs_writes() -> None:
    done = subprocess.run([sys.executable, "-m", "tools.docs", "--check"], cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr + "\nrun `make docs` and commit docs/INFRASTRUCTURE.md"


def test_a_catalog_change_makes_it_stale(project: ProjectCopy) -> None:
    workers = project.root / "stacks" / "catalog" / "workers.yaml"
    workers.write_text(workers.read_text().replace("Media uploads, downloads and listings", "Media uploads and downloads", 1))
    assert docs.render(project.root) != docs.render(ROOT)
    assert "Media uploads and downloads over R2" in docs.render(project.root)


def test_every_worker_is_in_exactly_one_diagram_with_every_binding_and_none_is_a_hairball() -> None:
    seen: dict[str, int] = {}
    edges: set[tuple[str, str]] = set()
    for title, lines in docs.diagrams(CATALOG):
        count = diagram.edge_count(lines)
        assert count <= diagram.MAX_EDGES, f"{title}: {count} edges"
        for line in lines:
            if match := re.fullmatch(r'  (\w+)\["([\w-]+)"\]', line):
                seen[match[2]] = seen.get(match[2], 0) + 1
            if match := re.fullmatch(r"  (\w+) --> (\w+)", line):
                edges.add((match[1], match[2]))
    assert seen == {w.name: 1 for w in CATALOG.workers}
    for worker in CATALOG.workers:
        for kind, targets in (("d1", worker.d1), ("kv", worker.kv), ("r2", worker.r2), ("svc", worker.services)):
            for target in targets.values():
                assert (diagram.node_id(worker.name), f"{kind}_{diagram.node_id(target)}") in edges, (worker.name, target)


def test_crons_are_in_words_read_in_cloudflares_dialect() -> None:
    assert cron.describe("0 11 * * TUE") == "At 11:00, only on Tuesday"
    assert cron.describe("10 7 * * 2-6") == "At 07:10, Monday through Friday"  # 1 = SUN, as Cloudflare reads it
    assert cron.describe("0 17 * * 1") == "At 17:00, only on Sunday"
    text = (ROOT / "docs" / "INFRASTRUCTURE.md").read_text()
    assert "At 11:00, only on Tuesday UTC (`0 11 * * TUE`)" in text
    assert "Every 5 minutes UTC (`*/5 * * * *`)" in text


def test_hostnames_and_cors_origins_are_per_stack() -> None:
    text = (ROOT / "docs" / "INFRASTRUCTURE.md").read_text()
    assert "staging.blazesportsintel.com/api/media/* (staging)" in text
    assert "https://blazesportsintel.com (prod)" in text


def test_every_diagram_renders_with_the_mermaid_toolchain(tmp_path) -> None:
    # mermaid-cli with Debian's chromium: the real parser and layout, not a syntax guess.
    sources = {docs.slug(title): lines for title, lines in docs.diagrams(CATALOG)}
    diagram.render_svgs(sources, tmp_path)
    for name, lines in sources.items():
        svg = (tmp_path / f"{name}.svg").read_text()
        assert svg.lstrip().startswith("<svg"), name
        labels = re.findall(r'\["([\w-]+)"\]', "\n".join(lines))
        assert labels and all(label in svg for label in labels), name
    committed = {p.stem for p in (ROOT / "docs" / "diagrams").glob("*.svg")}
    assert committed == set(sources)


def test_a_diagram_mermaid_cannot_parse_is_refused(tmp_path) -> None:
    import pytest

    with pytest.raises(diagram.RenderError, match="mermaid-cli failed"):
        diagram.render_svgs({"broken": ["flowchart LR", "  a[\"x\"] --> ((("]}, tmp_path)
