"""docs/INFRASTRUCTURE.md: generated from the catalog and the stacks, current, and readable."""

from __future__ import annotations

import html
import re
import shutil
import subprocess
import sys

from docgen import diagram, docs
from stacks import cron
from stacks.catalog import load_catalog
from stacks.stack_file import stack_settings
from tests.conftest import ROOT, ProjectCopy
from tests.docgen import mermaid

CATALOG = load_catalog(ROOT)
STACKS = {name: stack_settings(name, ROOT) for name in ("prod", "staging")}


def test_the_committed_document_is_what_make_docs_writes() -> None:
    done = subprocess.run([sys.executable, "-m", "docgen.docs", "--check"], cwd=ROOT, capture_output=True, text=True, check=False)
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


def test_no_diagram_is_a_hairball() -> None:
    measured = {title: diagram.edge_count(lines) for title, lines in docs.all_diagrams(CATALOG, STACKS)}
    assert all(count <= diagram.MAX_EDGES for count in measured.values()), measured


def test_every_route_and_domain_leads_to_the_worker_it_routes_to_with_each_stacks_hostname() -> None:
    graphs = [mermaid.parse(lines) for _, lines in docs.request_diagrams(CATALOG, STACKS)]
    routed = [w for w in CATALOG.workers if w.routes or w.domains]
    assert {w.name for w in routed} == {"blaze-gateway", "blaze-storage", "blaze-monitor"}
    for worker in routed:
        hostnames = [f"{s.hosts[r.host].hostname}{r.path} ({stack})" for r in worker.routes for stack, s in STACKS.items()]
        hostnames += [f"{s.hosts[host].hostname} ({stack})" for host in worker.domains for stack, s in STACKS.items()]
        for hostname in hostnames:
            leads_to = {target for graph in graphs for node in graph.node_labelled(hostname) for target in graph.reaches(node)}
            assert leads_to == {diagram.node_id(worker.name)}, f"{hostname} should lead to {worker.name}, leads to {leads_to}"


def test_the_request_path_goes_on_through_every_service_binding_to_the_read_apis() -> None:
    (title, lines), = docs.request_diagrams(CATALOG, STACKS)
    graph = mermaid.parse(lines)
    gateway = CATALOG.worker("blaze-gateway")
    reached = {graph.labels[node] for node in graph.reaches(diagram.node_id(gateway.name))}
    assert reached == set(gateway.services.values()) and len(reached) == 39
    assert len(graph.edges) == 5 + 7, "one edge per route and domain, one per box of read APIs"


def test_a_request_path_over_the_bound_is_split_per_routed_worker(monkeypatch) -> None:
    monkeypatch.setattr(docs, "MAX_EDGES", 10)
    titled = docs.request_diagrams(CATALOG, STACKS)
    assert [title for title, _ in titled] == [
        "request path: blaze-gateway", "request path: blaze-monitor", "request path: blaze-storage"]
    assert all(diagram.edge_count(lines) <= 10 for _, lines in titled)


def test_every_scheduled_worker_appears_with_its_crons_in_words_and_its_databases() -> None:
    graphs = [mermaid.parse(lines) for _, lines in docs.scheduled_diagrams(CATALOG, STACKS)]
    scheduled = [w for w in CATALOG.workers if w.crons]
    assert len(scheduled) == 31  # 29 ingestion Workers, the monitor and the backup
    for worker in scheduled:
        node = diagram.node_id(worker.name)
        (graph,) = [g for g in graphs if node in g.labels]
        for expression in worker.crons:
            off = [stack for stack, s in STACKS.items() if worker.name in s.disabled_crons]
            (source,) = graph.node_labelled(f"({expression})")
            assert f"{cron.describe(expression)} UTC" in graph.labels[source].split("<br>")
            edge = graph.reaches(source)[node]
            assert edge == (("-.->", f"off in {', '.join(off)}") if off else ("-->", "")), (worker.name, expression, edge)
        databases = {graph.labels[target] for target in graph.reaches(node)}
        assert databases == {f"D1 {name}" for name in worker.d1.values()}, worker.name


def test_the_monitor_reaches_every_database_in_one_box() -> None:
    (lines,) = [lines for title, lines in docs.scheduled_diagrams(CATALOG, STACKS) if title == "scheduled: monitor"]
    graph = mermaid.parse(lines)
    assert {graph.labels[n] for n in graph.reaches("blaze_monitor")} == {f"D1 {db.name}" for db in CATALOG.databases}
    assert [title for title in graph.group_titles.values()] == ["D1 databases (18)"]


def test_scheduled_work_is_split_by_family_then_sport_where_it_passes_the_bound() -> None:
    whole = sum(len(w.crons) + len(set(w.d1.values())) for w in CATALOG.workers if w.crons)
    assert whole > diagram.MAX_EDGES
    assert [title for title, _ in docs.scheduled_diagrams(CATALOG, STACKS)] == [
        "scheduled: backup",
        *(f"scheduled: ingest: {domain}" for domain in ("cbase", "mlb", "nba", "ncaab", "ncaaf", "nfl", "platform")),
        "scheduled: monitor",
    ]


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
    sources = {docs.slug(title): lines for title, lines in docs.all_diagrams(CATALOG, STACKS)}
    diagram.render_svgs(sources, tmp_path)
    for name, lines in sources.items():
        svg = (tmp_path / f"{name}.svg").read_text()
        assert svg.lstrip().startswith("<svg"), name
        graph = mermaid.parse(lines)
        texts = [part for label in [*graph.labels.values(), *graph.group_titles.values()] for part in label.split("<br>")]
        texts += [label for *_, label in graph.edges if label]
        missing = [text for text in texts if html.escape(text, quote=False) not in svg]
        assert texts and not missing, (name, missing)
    committed = {p.stem for p in (ROOT / "docs" / "diagrams").glob("*.svg")}
    assert committed == set(sources)


def test_a_diagram_mermaid_cannot_parse_is_refused(tmp_path) -> None:
    import pytest

    with pytest.raises(diagram.RenderError, match="mermaid-cli failed"):
        diagram.render_svgs({"broken": ["flowchart LR", "  a[\"x\"] --> ((("]}, tmp_path)


def test_rendering_a_source_twice_gives_the_same_bytes(tmp_path) -> None:
    # The "neo" look draws stadiums, parallelograms and cylinders with rough.js, whose
    # jitter is random unless seeded: the same source came out different on every run.
    source = {"shapes": ["flowchart LR", '  a(["blaze-a"])', '  b(["blaze-b"])', '  c[/"KV c"/]', '  d[("D1 d")]', "  a --> b", "  c --> a", "  a --> d"]}
    diagram.render_svgs(source, tmp_path / "first")
    diagram.render_svgs(source, tmp_path / "second")
    assert (tmp_path / "first" / "shapes.svg").read_bytes() == (tmp_path / "second" / "shapes.svg").read_bytes()


def test_a_catalog_change_renders_only_the_diagrams_it_changes(project: ProjectCopy, tmp_path) -> None:
    out = tmp_path / "diagrams"
    shutil.copytree(ROOT / "docs" / "diagrams", out)
    committed = {path.name: path.read_bytes() for path in out.iterdir()}

    def slow_weather(document: dict) -> None:
        (weather,) = [w for w in document["workers"] if w["name"] == "blaze-mlb-ingest-weather"]
        weather["crons"] = ["45 */3 * * *"]

    project.edit_yaml("stacks/catalog/workers.yaml", slow_weather)
    rendered = docs.write_diagrams(load_catalog(project.root), STACKS, out)
    assert rendered == ["scheduled-ingest-mlb"]
    changed = sorted(name for name, data in committed.items() if (out / name).read_bytes() != data)
    assert changed == ["index.json", "scheduled-ingest-mlb.svg"]
    assert "At 45 minutes past the hour, every 3 hours UTC" in (out / "scheduled-ingest-mlb.svg").read_text()


def test_a_new_renderer_makes_every_diagram_stale(monkeypatch) -> None:
    # The index records the source and the toolchain each SVG came from.
    before = docs.diagram_index(CATALOG, STACKS)
    monkeypatch.setattr(docs, "RENDERER", (ROOT / "docgen" / "mermaid" / "package.json",))
    after = docs.diagram_index(CATALOG, STACKS)
    assert before.keys() == after.keys() and all(before[name] != after[name] for name in before)
