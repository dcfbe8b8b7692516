"""The fleet as a document: `python -m docgen.docs [--check]` writes docs/INFRASTRUCTURE.md.

Generated from the catalog (stacks/catalog/*.yaml) and the stacks' settings
(Pulumi.<stack>.yaml), never written by hand: per family and team every Worker with its
purpose, routes and custom domains (the hostname in each stack), crons in words and as
written (UTC, read in Cloudflare's dialect by stacks/cron.py), and bindings; every database
with the Workers that bind it and its migration set; namespaces; buckets with their CORS
origins per stack and lifecycle rules; alert routing per stack; the account limits in use.

Mermaid diagrams stay readable at 72 Workers, each with its edges counted and split where
it would pass MAX_EDGES (docgen/diagram.py draws and renders them):
- the fleet by domain (a sport, or a platform area), a domain over the bound by family;
- the request path: every route and custom domain, with each stack's hostname, to the
  Worker it reaches and on through the service bindings (the gateway's read APIs, boxed by
  domain), split per routed Worker over the bound;
- the scheduled work: each cron in words (UTC) to the Workers it starts and the D1
  databases they bind, a schedule a stack switches off dotted; by family, a family over the
  bound by domain (so the ingestion Workers per sport; the monitor and the backup alone).
The output depends only on those files, so a test regenerates it and fails when the
committed one is stale. Each diagram is also rendered to docs/diagrams/<slug>.svg by the
real Mermaid toolchain (mermaid-cli from docgen/mermaid with Debian's chromium), which
checks its syntax and shows the picture where Mermaid is not rendered. Rendering is
reproducible (fonts from the toolchain's lockfile, embedded whole; rough.js seeded), and
`diagrams/index.json` records the source and toolchain each SVG was rendered from, so
`make docs` renders only the diagrams whose record changed and a change to the catalog
rewrites no other picture. Exit codes: 0 written (or, with --check, current); 1 stale or
not rendered.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from collections import defaultdict
from pathlib import Path
from typing import Callable, Iterable, Iterator

from docgen.diagram import CONFIG, MAX_EDGES, RenderError, edge_count, fan_out, flowchart, node_id, render_svgs, target_node
from stacks import PROJECT_ROOT, cron
from stacks.catalog import MAX_CRONS_PER_ACCOUNT, Catalog, Worker, load_catalog
from stacks.settings import Settings
from stacks.stack_file import stack_settings

OUT = Path("docs") / "INFRASTRUCTURE.md"
DIAGRAMS = Path("docs") / "diagrams"
LIMITS_FILE = Path("policies") / "prod.json"
# What an SVG is made with besides its source: a new one makes every diagram stale.
RENDERER = (Path("docgen") / "mermaid" / "package-lock.json", CONFIG)
SPORTS = ("mlb", "nfl", "nba", "ncaaf", "ncaab", "cbase")


def _stacks(root: Path) -> dict[str, Settings]:
    return {path.name.split(".")[1]: stack_settings(path.name.split(".")[1], root) for path in sorted(root.glob("Pulumi.*.yaml"))}


def domain_of(name: str) -> str:
    """The sport a resource serves (from its name), or the platform area."""
    parts = name.split("-")
    for part in parts[1:3]:
        if part in SPORTS:
            return part
    return "platform"


def _cell(items: Iterable[str]) -> str:
    listed = [item for item in items if item]
    return "<br>".join(listed) if listed else "-"


def _hostnames(stacks: dict[str, Settings], host: str) -> list[tuple[str, str]]:
    """(hostname, stack) for each stack that names the host key."""
    return [(s.hosts[host].hostname, name) for name, s in stacks.items() if host in s.hosts]


def _crons_off(worker: Worker, stacks: dict[str, Settings]) -> list[str]:
    """The stacks that deploy the Worker without its crons (`disabledCrons`)."""
    return [name for name, s in stacks.items() if worker.name in s.disabled_crons]


def _cron_words(expression: str) -> str:
    return f"{cron.describe(expression)} UTC"


def _crons(worker: Worker, stacks: dict[str, Settings]) -> str:
    disabled = _crons_off(worker, stacks)
    lines = [f"{_cron_words(c)} (`{c}`)" for c in worker.crons]
    if disabled and lines:
        lines.append(f"off in {', '.join(disabled)}")
    return _cell(lines)


def _bindings(worker: Worker) -> str:
    lines = []
    for kind, targets in (("D1", worker.d1), ("KV", worker.kv), ("R2", worker.r2), ("service", worker.services)):
        lines += [f"{kind} `{binding}` → {target}" for binding, target in sorted(targets.items())]
    lines += [f"secret `{binding}`" for binding in sorted(worker.secrets)]
    return _cell(lines)


def _workers(catalog: Catalog, stacks: dict[str, Settings]) -> list[str]:
    lines = ["## Workers", ""]
    by_family: dict[str, list[Worker]] = defaultdict(list)
    for worker in catalog.workers:
        by_family[worker.family].append(worker)
    for family in sorted(by_family):
        spec = catalog.families[family]
        lines += [f"### {family}: {spec.description} ({len(by_family[family])}, `{spec.entry}`)", ""]
        teams: dict[str, list[Worker]] = defaultdict(list)
        for worker in by_family[family]:
            teams[worker.team].append(worker)
        for team in sorted(teams):
            lines += [f"Team {team}:", "", "| Worker | purpose | routes and domains | crons | bindings |", "|---|---|---|---|---|"]
            for worker in sorted(teams[team], key=lambda w: w.name):
                reach = [f"{name}{route.path} ({stack})" for route in worker.routes for name, stack in _hostnames(stacks, route.host)]
                reach += [f"{name} (domain, {stack})" for host in worker.domains for name, stack in _hostnames(stacks, host)]
                lines.append(f"| `{worker.name}` | {worker.purpose} | {_cell(reach)} | {_crons(worker, stacks)} | {_bindings(worker)} |")
            lines.append("")
    return lines


def _data(catalog: Catalog, stacks: dict[str, Settings]) -> list[str]:
    users: dict[tuple[str, str], list[str]] = defaultdict(list)
    for worker in catalog.workers:
        for kind, targets in (("d1", worker.d1), ("kv", worker.kv), ("r2", worker.r2)):
            for target in set(targets.values()):
                users[(kind, target)].append(worker.name)
    lines = ["## Databases", "", "| database | purpose | team | migration set | bound by |", "|---|---|---|---|---|"]
    for db in sorted(catalog.databases, key=lambda d: d.name):
        bound = sorted(users[("d1", db.name)])
        lines.append(f"| `{db.name}` | {db.purpose} | {db.team} | `workers/migrations/{db.migrations}` | {_cell(f'`{w}`' for w in bound)} |")
    lines += ["", "## KV namespaces", "", "| namespace | purpose | team | bound by |", "|---|---|---|---|"]
    for ns in sorted(catalog.namespaces, key=lambda n: n.name):
        lines.append(f"| `{ns.name}` | {ns.purpose} | {ns.team} | {_cell(f'`{w}`' for w in sorted(users[('kv', ns.name)]))} |")
    lines += ["", "## R2 buckets", "", "| bucket | purpose | CORS origins | lifecycle | bound by |", "|---|---|---|---|---|"]
    for bucket in sorted(catalog.buckets, key=lambda b: b.name):
        origins = [f"{o} ({name})" for name, s in stacks.items() for o in s.cors_origins.get(bucket.name, [])]
        rules = []
        for rule in bucket.lifecycle:
            actions = [f"expire after {rule.expire_after_days} days" if rule.expire_after_days else "",
                       f"abort uploads after {rule.abort_multipart_after_days} days" if rule.abort_multipart_after_days else ""]
            rules.append(f"`{rule.id}` ({rule.prefix or 'all'}): {', '.join(a for a in actions if a)}")
        lines.append(f"| `{bucket.name}` | {bucket.purpose} | {_cell(origins)} | {_cell(rules)} | "
                     f"{_cell(f'`{w}`' for w in sorted(users[('r2', bucket.name)]))} |")
    return lines + [""]


def _alerts(stacks: dict[str, Settings]) -> list[str]:
    lines = ["## Alerts", "", "| stack | policy | alert type | goes to |", "|---|---|---|---|"]
    for stack, settings in stacks.items():
        emails = settings.alerts.destinations.emails
        for policy in settings.alerts.policies:
            # Email addresses are shown; webhook URLs and PagerDuty keys are secrets or ids.
            targets = [f"webhook {key}" for key in policy.to.webhooks]
            targets += [f"email {key} ({emails[key]})" for key in policy.to.emails]
            targets += [f"PagerDuty {key}" for key in policy.to.pagerduty]
            lines.append(f"| {stack} | `{policy.name}` | `{policy.alert_type}` | {_cell(targets)} |")
    return lines + [""]


def _limits(catalog: Catalog, stacks: dict[str, Settings]) -> list[str]:
    # The pack's config is code, not data: always this checkout's.
    limits = json.loads((PROJECT_ROOT / LIMITS_FILE).read_text()).get("blaze-account-limits", {})
    crons = {name: sum(len(w.crons) for w in catalog.workers if w.name not in s.disabled_crons) for name, s in stacks.items()}
    used = {"Workers": len(catalog.workers), "D1 databases": len(catalog.databases), "KV namespaces": len(catalog.namespaces),
            "R2 buckets": len(catalog.buckets)}
    keys = {"Workers": "maxWorkers", "D1 databases": "maxD1Databases", "KV namespaces": "maxKvNamespaces", "R2 buckets": "maxR2Buckets"}
    lines = ["## Account limits in use", "",
             "Staging and prod share one account, so each stack's count is used twice. Limits: the policy pack's "
             f"`blaze-account-limits` (`{LIMITS_FILE}`) and Cloudflare's cron triggers per plan.", "",
             "| resource | per stack | both stacks | limit |", "|---|---|---|---|"]
    for label, count in used.items():
        lines.append(f"| {label} | {count} | {2 * count} | {limits.get(keys[label], '-')} |")
    per_stack = ", ".join(f"{n} {name}" for name, n in crons.items())
    plan = next(iter(stacks.values())).plan
    lines.append(f"| cron triggers | {per_stack} | {sum(crons.values())} | {limits.get('maxCronTriggers', '-')} "
                 f"(pack), {MAX_CRONS_PER_ACCOUNT[plan]} ({plan} plan) |")
    return lines + [""]


def split(title: str, workers: list[Worker], edges: Callable[[Worker], int],
          keys: list[Callable[[Worker], str]]) -> list[tuple[str, list[Worker]]]:
    """The Workers as one diagram, or split by the first key (then the next) while over MAX_EDGES."""
    if sum(edges(w) for w in workers) <= MAX_EDGES or not keys:
        return [(title, workers)]
    groups: dict[str, list[Worker]] = defaultdict(list)
    for worker in workers:
        groups[keys[0](worker)].append(worker)
    return [part for key, members in sorted(groups.items()) for part in split(f"{title}: {key}", members, edges, keys[1:])]


def _bound(worker: Worker) -> Iterator[tuple[str, str]]:
    """(kind, target) of each D1, KV, R2 and service binding, each target once, sorted."""
    for kind, targets in (("d1", worker.d1), ("kv", worker.kv), ("r2", worker.r2), ("svc", worker.services)):
        for target in sorted(set(targets.values())):
            yield kind, target


def diagrams(catalog: Catalog) -> list[tuple[str, list[str]]]:
    """(title, Mermaid lines) per domain, each domain's Workers with what they bind."""
    by_domain: dict[str, list[Worker]] = defaultdict(list)
    for worker in catalog.workers:
        by_domain[domain_of(worker.name)].append(worker)
    return [(title, _diagram(workers))
            for domain in sorted(by_domain, key=lambda d: (d == "platform", d))
            for title, workers in split(domain, by_domain[domain], _binding_edges, [lambda w: w.family])]


def _binding_edges(worker: Worker) -> int:
    return sum(1 for _ in _bound(worker))


def _diagram(workers: list[Worker]) -> list[str]:
    nodes: dict[str, str] = {}
    edges: list[str] = []
    for worker in sorted(workers, key=lambda w: w.name):
        nodes[node_id(worker.name)] = f'{node_id(worker.name)}["{worker.name}"]'
        for kind, target in _bound(worker):
            node, definition = target_node(kind, target)
            nodes.setdefault(node, definition)
            edges.append(f"{node_id(worker.name)} --> {node}")
    return flowchart(nodes, edges)


def _served(worker: Worker, catalog: Catalog) -> list[Worker]:
    """The Workers `worker` reaches through service bindings, transitively, in catalog order."""
    names = {worker.name}
    for candidate in reversed(catalog.workers):  # deploy order: targets before the Workers binding them
        if candidate.name in names:
            names |= set(candidate.services.values())
    return [w for w in catalog.workers if w.name in names and w.name != worker.name]


def _entries(worker: Worker, stacks: dict[str, Settings]) -> list[tuple[str, str]]:
    """(node id, definition) of each route and custom domain of `worker`, with every stack's hostname."""
    out = []
    for route in worker.routes:
        hosts = "<br>".join(f"{name}{route.path} ({stack})" for name, stack in _hostnames(stacks, route.host))
        out.append((re.sub(r"_+", "_", node_id(f"route-{route.host}{route.path}")).strip("_"), f"route<br>{hosts}"))
    for host in worker.domains:
        hosts = "<br>".join(f"{name} ({stack})" for name, stack in _hostnames(stacks, host))
        out.append((node_id(f"domain-{host}"), f"custom domain<br>{hosts}"))
    return [(node, f'{node}>"{label}"]') for node, label in out]


def request_diagrams(catalog: Catalog, stacks: dict[str, Settings]) -> list[tuple[str, list[str]]]:
    """The request path: routes and custom domains to the Workers they reach, and on through
    their service bindings (the gateway's read APIs); split per entry Worker over MAX_EDGES."""
    entry_workers = [w for w in catalog.workers if w.routes or w.domains]

    def edges(worker: Worker) -> int:
        return edge_count(_request_diagram([worker], catalog, stacks))

    return [(title, _request_diagram(workers, catalog, stacks))
            for title, workers in split("request path", entry_workers, edges, [lambda w: w.name])]


def _request_diagram(entry_workers: list[Worker], catalog: Catalog, stacks: dict[str, Settings]) -> list[str]:
    """Service targets are boxed by domain and family (fan_out: one edge to a box its binders share)."""
    entry_names = {w.name for w in entry_workers}

    def ref(name: str) -> str:
        return node_id(name) if name in entry_names else target_node("svc", name)[0]

    nodes: dict[str, str] = {}
    edges: list[str] = []
    for worker in sorted(entry_workers, key=lambda w: w.name):
        nodes[node_id(worker.name)] = f'{node_id(worker.name)}["{worker.name}"]'
        for node, definition in _entries(worker, stacks):
            nodes[node] = definition
            edges.append(f"{node} --> {node_id(worker.name)}")
    reached = {w.name: w for worker in entry_workers for w in [worker, *_served(worker, catalog)]}
    bindings = [(ref(name), ref(target)) for name in sorted(reached) for target in sorted(set(reached[name].services.values()))]
    boxes: dict[str, list[str]] = defaultdict(list)
    for target in sorted({t for w in reached.values() for t in w.services.values()} - entry_names):
        node, definition = target_node("svc", target)
        nodes[node] = definition
        boxes[f"{domain_of(target)}: {catalog.worker(target).family}"].append(node)
    groups, fanned = fan_out(bindings, boxes)
    return flowchart(nodes, edges + fanned, groups)


def scheduled_diagrams(catalog: Catalog, stacks: dict[str, Settings]) -> list[tuple[str, list[str]]]:
    """The scheduled work: each cron to the Workers it starts and on to the D1 databases they
    bind (the monitor's reach over every database among them); by family, then by domain."""
    scheduled = [w for w in catalog.workers if w.crons]

    def edges(worker: Worker) -> int:
        return len(worker.crons) + len(set(worker.d1.values()))

    return [(title, _scheduled_diagram(workers, stacks))
            for title, workers in split("scheduled", scheduled, edges, [lambda w: w.family, lambda w: domain_of(w.name)])]


def _scheduled_diagram(workers: list[Worker], stacks: dict[str, Settings]) -> list[str]:
    """One node per schedule, shared by the Workers it starts; a dotted edge where a stack
    deploys the Worker with its crons off. A Worker alone in binding many databases (the
    monitor, the backup) gets one edge to a box of them (fan_out)."""
    nodes: dict[str, str] = {}
    edges: list[str] = []
    bindings: list[tuple[str, str]] = []
    for worker in sorted(workers, key=lambda w: w.name):
        nodes[node_id(worker.name)] = f'{node_id(worker.name)}["{worker.name}"]'
        off = _crons_off(worker, stacks)
        for expression in worker.crons:
            node = cron_node(expression)
            nodes[node] = f'{node}{{{{"{_cron_words(expression)}<br>({expression})"}}}}'
            edges.append(f"{node} -.->|off in {', '.join(off)}| {node_id(worker.name)}" if off else f"{node} --> {node_id(worker.name)}")
        for database in sorted(set(worker.d1.values())):
            node, definition = target_node("d1", database)
            nodes[node] = definition
            bindings.append((node_id(worker.name), node))
    databases = sorted({target for _, target in bindings})
    groups, fanned = fan_out(bindings, {f"D1 databases ({len(databases)})": databases})
    return flowchart(nodes, edges + fanned, groups)


def cron_node(expression: str) -> str:
    """A schedule's node id, the same in every diagram (cron expressions are not valid ids)."""
    return f"cron_{hashlib.sha256(expression.encode()).hexdigest()[:8]}"


def all_diagrams(catalog: Catalog, stacks: dict[str, Settings]) -> list[tuple[str, list[str]]]:
    return diagrams(catalog) + request_diagrams(catalog, stacks) + scheduled_diagrams(catalog, stacks)


def render(root: Path = PROJECT_ROOT) -> str:
    catalog = load_catalog(root)
    stacks = _stacks(root)
    lines = [
        "# Infrastructure",
        "",
        "<!-- generated by `make docs` (python -m docgen.docs) from stacks/catalog/ and Pulumi.<stack>.yaml; do not edit -->",
        "",
        f"{len(catalog.workers)} Workers in {len(catalog.families)} families, {len(catalog.databases)} D1 databases, "
        f"{len(catalog.namespaces)} KV namespaces and {len(catalog.buckets)} R2 buckets per stack "
        f"({', '.join(stacks)}). Crons are UTC, in Cloudflare's dialect (day of week 1 = SUN).",
        "",
        "## The fleet by domain",
        "",
    ]
    lines += _diagram_sections(diagrams(catalog))
    lines += ["## The request path", "",
              "Each route and custom domain, with its hostname in every stack, to the Worker it reaches, and on "
              "through its service bindings. An arrow to a box is a service binding to every Worker in it.", ""]
    lines += _diagram_sections(request_diagrams(catalog, stacks))
    lines += ["## Scheduled work", "",
              "Each cron (UTC) to the Workers it starts and the D1 databases they bind: the ingestion Workers "
              "by sport, the backup and the monitor's reach over every database. A dotted arrow is a "
              "schedule a stack deploys switched off (`disabledCrons`).", ""]
    lines += _diagram_sections(scheduled_diagrams(catalog, stacks))
    lines += _workers(catalog, stacks) + _data(catalog, stacks) + _alerts(stacks) + _limits(catalog, stacks)
    return "\n".join(lines).rstrip() + "\n"


def _diagram_sections(titled: list[tuple[str, list[str]]]) -> list[str]:
    lines = []
    for title, diagram in titled:
        lines += [f"### {title} ({edge_count(diagram)} edges)", "", f"![{title}](diagrams/{slug(title)}.svg)", "",
                  "```mermaid", *diagram, "```", ""]
    return lines


def slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def _digest(diagram: list[str]) -> str:
    renderer = b"".join(hashlib.sha256((PROJECT_ROOT / path).read_bytes()).digest() for path in RENDERER)
    return hashlib.sha256(renderer + "\n".join(diagram).encode()).hexdigest()


def diagram_index(catalog: Catalog, stacks: dict[str, Settings]) -> dict[str, str]:
    """slug -> sha256 of the toolchain and the Mermaid source each committed SVG must be rendered from."""
    return {slug(title): _digest(diagram) for title, diagram in all_diagrams(catalog, stacks)}


def write_diagrams(catalog: Catalog, stacks: dict[str, Settings], out: Path = PROJECT_ROOT / DIAGRAMS) -> list[str]:
    """Renders into `out` the diagrams whose record in its index.json changed (or whose SVG
    is missing), removes those no longer drawn, and records them all; returns the rendered."""
    index = out / "index.json"
    recorded = json.loads(index.read_text()) if index.is_file() else {}
    current = diagram_index(catalog, stacks)
    sources = {slug(title): diagram for title, diagram in all_diagrams(catalog, stacks)}
    stale = {name: source for name, source in sources.items() if recorded.get(name) != current[name] or not (out / f"{name}.svg").is_file()}
    if stale:
        render_svgs(stale, out)
    for gone in out.glob("*.svg"):
        if gone.stem not in sources:
            gone.unlink()
    index.write_text(json.dumps(current, indent=2, sort_keys=True) + "\n")
    return sorted(stale)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="exit 1 if the committed file is not what would be written")
    args = parser.parse_args(argv)
    text = render()
    path = PROJECT_ROOT / OUT
    catalog = load_catalog(PROJECT_ROOT)
    stacks = _stacks(PROJECT_ROOT)
    if args.check:
        current = path.read_text() if path.is_file() else ""
        index = PROJECT_ROOT / DIAGRAMS / "index.json"
        recorded = json.loads(index.read_text()) if index.is_file() else {}
        missing = [name for name in recorded if not (PROJECT_ROOT / DIAGRAMS / f"{name}.svg").is_file()]
        if current != text or recorded != diagram_index(catalog, stacks) or missing:
            print(f"{OUT} or its diagrams are stale: run `make docs`", file=sys.stderr)
            return 1
        return 0
    path.write_text(text)
    try:
        rendered = write_diagrams(catalog, stacks)
    except RenderError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(f"wrote {OUT}; rendered {len(rendered)} of {len(diagram_index(catalog, stacks))} diagrams in {DIAGRAMS} (the others' sources are unchanged)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
