"""Adopt a live account: an import file read from it, migration baselines, what is unmanaged.

    make adopt STACK=prod        (.venv/bin/python -m operations.adopt prod)

Reads the account with the official `cloudflare` SDK, read-only calls only (lists, a
script's schedules, and SELECTs of a database's `sqlite_master` and `d1_migrations`
through the D1 query API). The SDK takes the token from CLOUDFLARE_API_TOKEN and the API's
base URL from CLOUDFLARE_BASE_URL. Every list is read to its last page; a 429 is retried
after its Retry-After by the SDK, at most MAX_RETRIES times.

Every resource the stack's offline plan (build/plan/<stack>.json) declares is matched to a
live one by its natural key (script name; database name; namespace title; bucket name;
route pattern in its zone; custom-domain hostname; a matched script's cron triggers;
notification policy name; webhook name). Writes:
- build/adopt/<stack>.json: the file `pulumi import --file` reads, each id in the form the
  installed provider documents for its type (its "## Import" section), no placeholder;
- build/adopt/<stack>.md: matched, to be created, created by the first `pulumi up` (types
  the provider cannot import), unmanaged (live, declared by no stack), ambiguous (two live
  candidates: nothing is guessed and no import file is written), and per database the
  proposed migration baseline against its live schema.

Exit codes: 0 written; 1 bad input or config (a missing plan, no token, a zone the stack
names that the account lacks, an ambiguous match); 2 the API failed (auth, permission,
network, a malformed answer): nothing is written and an earlier file stays.
"""

from __future__ import annotations

import argparse
import functools
import importlib.metadata
import importlib.util
import json
import os
import re
import sqlite3
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Optional

import cloudflare

from d1.migration_set import load_migration_set
from d1.schema import APPLIED_QUERY, MASTER_QUERY, TRACKING_TABLE, Baseline, baseline, schema_of_master
from engine.provider_schema import terraform_type
from policies.resource_types import D1_MIGRATIONS
from stacks import PROJECT_ROOT
from stacks.errors import InputError
from stacks.settings import Settings
from stacks.stack_file import stack_settings

MAX_RETRIES = 5
PLAN_DIR = Path("build/plan")
ADOPT_DIR = Path("build/adopt")
ORGANIZATION = "blazesportsintel"


class AdoptError(Exception):
    """Bad input or config: exit 1."""


class ApiFailure(Exception):
    """The API refused, could not be reached or answered something unreadable: exit 2."""


# --- what the program declares -------------------------------------------------------

# Type token -> (the kind of live thing it is, its natural key from the plan's inputs).
KEYS: dict[str, tuple[str, Callable[[Mapping[str, Any]], tuple[str, ...]]]] = {
    "cloudflare:index/workersScript:WorkersScript": ("script", lambda i: (i["scriptName"],)),
    "cloudflare:index/workersCronTrigger:WorkersCronTrigger": ("schedules", lambda i: (i["scriptName"],)),
    "cloudflare:index/d1Database:D1Database": ("database", lambda i: (i["name"],)),
    "cloudflare:index/workersKvNamespace:WorkersKvNamespace": ("namespace", lambda i: (i["title"],)),
    "cloudflare:index/r2Bucket:R2Bucket": ("bucket", lambda i: (i["name"],)),
    "cloudflare:index/workersRoute:WorkersRoute": ("route", lambda i: (i["zoneId"], i["pattern"])),
    "cloudflare:index/workersCustomDomain:WorkersCustomDomain": ("domain", lambda i: (i["hostname"],)),
    "cloudflare:index/notificationPolicy:NotificationPolicy": ("policy", lambda i: (i["name"],)),
    "cloudflare:index/notificationPolicyWebhooks:NotificationPolicyWebhooks": ("webhook", lambda i: (i["name"],)),
}


@dataclass(frozen=True)
class Declared:
    urn: str
    type: str
    name: str
    parent: Optional[str]  # the parent's URN; None under the root stack
    custom: bool
    inputs: Mapping[str, Any]

    @property
    def kind(self) -> Optional[str]:
        return KEYS[self.type][0] if self.type in KEYS else None

    @property
    def key(self) -> tuple[str, ...]:
        return KEYS[self.type][1](self.inputs)


def read_plan(stack: str, root: Path) -> list[Declared]:
    path = root / PLAN_DIR / f"{stack}.json"
    if not path.is_file():
        raise AdoptError(f"{path.relative_to(root)}: no plan of {stack}; run `make plan STACK={stack}` first")
    try:
        resources = json.loads(path.read_text())["resources"]
        return [
            Declared(r["urn"], r["type"], r["name"], _parent(r.get("parent")), r["type"].startswith(("cloudflare:", "command:")), r.get("inputs") or {})
            for r in resources
        ]
    except (ValueError, KeyError, TypeError) as err:
        raise AdoptError(f"{path.relative_to(root)}: not a plan this project wrote ({err}); run `make plan STACK={stack}`") from None


def _parent(urn: Optional[str]) -> Optional[str]:
    """A parent the import file names: none for the root stack, which is never imported."""
    return None if not urn or "::pulumi:pulumi:Stack::" in urn else urn


@functools.cache
def import_id_template(type_token: str) -> Optional[str]:
    """The import id the installed provider documents for a type, or None: not importable.

    Read from the SDK's own docstring (`pulumi import <type> example '<account_id>/...'`),
    so the ids follow the pinned provider, not a table copied from its docs.
    """
    module_name = terraform_type(type_token).removeprefix("cloudflare_")  # the SDK's module of the type
    # The module's file, read without importing the SDK (seconds of class building).
    package = importlib.util.find_spec("pulumi_cloudflare")
    if package is None or not package.submodule_search_locations:
        raise AdoptError("pulumi_cloudflare is not installed: run make setup")
    source = (Path(list(package.submodule_search_locations)[0]) / f"{module_name}.py").read_text()
    if "does not currently support `pulumi import`" in source:
        return None
    found = re.search(rf"pulumi import {re.escape(type_token)} example '([^']+)'", source)
    if found is None:
        raise AdoptError(f"pulumi_cloudflare.{module_name} documents no import id for {type_token}")
    return found.group(1)


# --- what the account has --------------------------------------------------------------

@dataclass(frozen=True)
class Live:
    kind: str
    key: tuple[str, ...]
    ids: Mapping[str, str]  # the values an import id template names (<account_id>, <script_name>, ...)
    label: str  # how the report names it

    def import_id(self, template: str) -> str:
        def fill(match: re.Match[str]) -> str:
            if match.group(1) not in self.ids:
                raise AdoptError(f"the import id {template} names <{match.group(1)}>, which {self.label} does not give")
            return self.ids[match.group(1)]

        return re.sub(r"<([a-z_]+)>", fill, template)


@dataclass
class Account:
    id: str
    things: list[Live] = field(default_factory=list)
    schedules: dict[str, tuple[str, ...]] = field(default_factory=dict)  # matched script -> its live crons
    baselines: dict[str, Baseline] = field(default_factory=dict)  # catalog database name -> its baseline


def _text(item: Any, attribute: str, what: str) -> str:
    value = getattr(item, attribute, None)
    if not isinstance(value, str) or not value:
        raise ApiFailure(f"{what}: malformed answer: an item without {attribute!r}")
    return value


def _errors(err: cloudflare.APIStatusError) -> str:
    body = err.body if isinstance(err.body, dict) else {}
    errors = body.get("errors") if isinstance(body.get("errors"), list) else []
    text = "; ".join(f"{e.get('message')} (code {e.get('code')})" for e in errors if isinstance(e, dict))
    return text or err.message


def _reading(what: str, call: Callable[[], Any]) -> Any:
    """One read, with the SDK's errors turned into one line naming what was being read."""
    try:
        return call()
    except cloudflare.APIStatusError as err:
        hint = {401: " (is CLOUDFLARE_API_TOKEN valid?)", 403: " (the token lacks a read permission it needs)"}.get(err.status_code, "")
        raise ApiFailure(f"{what}: HTTP {err.status_code}: {_errors(err)}{hint}") from None
    except cloudflare.APIConnectionError as err:
        raise ApiFailure(f"{what}: cannot reach the API: {err.__cause__ or err}") from None
    except cloudflare.APIError as err:
        raise ApiFailure(f"{what}: malformed answer: {err}") from None


def _listing(what: str, first_page: Callable[[], Any]) -> list[Any]:
    """Every item of a listing, page after page to the last. A page whose `result` is not
    a list is a malformed answer: the SDK would read it as an empty page and so as "none"."""

    def read() -> list[Any]:
        items: list[Any] = []
        for page in first_page().iter_pages():
            if not isinstance(getattr(page, "result", None), list):
                raise ApiFailure(f"{what}: malformed answer: its result is not a list")
            items += page.result
        return items

    return _reading(what, read)


def _r2_buckets(client: cloudflare.Cloudflare, account: str) -> list[dict[str, Any]]:
    """R2 lists by cursor, which the SDK leaves to its caller: every page, to the end."""
    buckets: list[dict[str, Any]] = []
    cursor: Optional[str] = None
    for _ in range(10_000):
        kwargs: dict[str, Any] = {"account_id": account, **({"cursor": cursor} if cursor else {})}
        raw = _reading("list R2 buckets", lambda: client.r2.buckets.with_raw_response.list(**kwargs))
        try:
            envelope = json.loads(raw.http_response.text)
            page = envelope["result"]["buckets"]
            cursor = (envelope.get("result_info") or {}).get("cursor") or None
        except (ValueError, KeyError, TypeError):
            raise ApiFailure("list R2 buckets: malformed answer: no result.buckets") from None
        if not isinstance(page, list) or not all(isinstance(b, dict) and isinstance(b.get("name"), str) for b in page):
            raise ApiFailure("list R2 buckets: malformed answer: a bucket without a name")
        buckets += page
        if not cursor:
            return buckets
    raise ApiFailure("list R2 buckets: the cursor never ends")


def _rows(client: cloudflare.Cloudflare, account: str, database_id: str, sql: str, what: str) -> list[dict[str, Any]]:
    page = _reading(what, lambda: client.d1.database.query(database_id, account_id=account, sql=sql))
    results = list(page)
    rows = results[0].results if results else None
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise ApiFailure(f"{what}: malformed answer: no rows")
    return rows


def read_account(client: cloudflare.Cloudflare, account: str, zones: Mapping[str, str]) -> Account:
    """Everything the stack could declare in the account and its zones (zone id -> name)."""
    found = Account(account)
    add = found.things.append
    live_zones = {
        _text(z, "id", "list zones"): _text(z, "name", "list zones")
        for z in _listing("list zones", lambda: client.zones.list(account={"id": account}))
    }
    for zone_id, name in sorted(zones.items()):
        if live_zones.get(zone_id) != name:
            raise AdoptError(f"zone {name} ({zone_id}) is not a zone of account {account}: check the stack file's blaze-infra:zones")
    for script in _listing("list Workers scripts", lambda: client.workers.scripts.list(account_id=account)):
        name = _text(script, "id", "list Workers scripts")
        add(Live("script", (name,), {"account_id": account, "script_name": name}, f"Worker {name}"))
    for db in _listing("list D1 databases", lambda: client.d1.database.list(account_id=account)):
        name, uuid = _text(db, "name", "list D1 databases"), _text(db, "uuid", "list D1 databases")
        add(Live("database", (name,), {"account_id": account, "database_id": uuid}, f"D1 database {name} ({uuid})"))
    for ns in _listing("list KV namespaces", lambda: client.kv.namespaces.list(account_id=account)):
        title, ns_id = _text(ns, "title", "list KV namespaces"), _text(ns, "id", "list KV namespaces")
        add(Live("namespace", (title,), {"account_id": account, "namespace_id": ns_id}, f"KV namespace {title} ({ns_id})"))
    for bucket in _r2_buckets(client, account):
        jurisdiction = str(bucket.get("jurisdiction") or "default")
        add(Live("bucket", (bucket["name"],), {"account_id": account, "bucket_name": bucket["name"], "jurisdiction": jurisdiction},
                 f"R2 bucket {bucket['name']} ({jurisdiction})"))
    for zone_id, zone_name in sorted(zones.items()):
        for route in _listing(f"list Workers routes of {zone_name}", lambda: client.workers.routes.list(zone_id=zone_id)):
            route_id, pattern = _text(route, "id", "list Workers routes"), _text(route, "pattern", "list Workers routes")
            script = getattr(route, "script", None) or "(no Worker)"
            add(Live("route", (zone_id, pattern), {"zone_id": zone_id, "route_id": route_id}, f"route {pattern} -> {script} ({route_id})"))
    for domain in _listing("list Workers custom domains", lambda: client.workers.domains.list(account_id=account)):
        hostname, domain_id = _text(domain, "hostname", "list custom domains"), _text(domain, "id", "list custom domains")
        service = getattr(domain, "service", None) or "?"
        add(Live("domain", (hostname,), {"account_id": account, "domain_id": domain_id}, f"custom domain {hostname} -> {service} ({domain_id})"))
    for policy in _listing("list notification policies", lambda: client.alerting.policies.list(account_id=account)):
        name, policy_id = _text(policy, "name", "list notification policies"), _text(policy, "id", "list notification policies")
        add(Live("policy", (name,), {"account_id": account, "policy_id": policy_id}, f"notification policy {name} ({policy_id})"))
    hooks = _listing("list webhook destinations", lambda: client.alerting.destinations.webhooks.list(account_id=account))
    for hook in hooks:
        name, hook_id = _text(hook, "name", "list webhook destinations"), _text(hook, "id", "list webhook destinations")
        add(Live("webhook", (name,), {"account_id": account, "webhook_id": hook_id}, f"webhook {name} ({hook_id})"))
    return found


def read_schedules(client: cloudflare.Cloudflare, account: str, script: str) -> tuple[str, ...]:
    answer = _reading(f"read the cron triggers of {script}", lambda: client.workers.scripts.schedules.get(script, account_id=account))
    schedules = getattr(answer, "schedules", None)
    if not isinstance(schedules, list):
        raise ApiFailure(f"read the cron triggers of {script}: malformed answer: no schedules")
    return tuple(sorted(_text(s, "cron", f"the cron triggers of {script}") for s in schedules))


def read_baseline(client: cloudflare.Cloudflare, account: str, catalog_name: str, database_id: str, migrations_dir: str, root: Path) -> Baseline:
    """The live schema and migration record of one database, against its migration files."""
    what = f"read the schema of {catalog_name}"
    master = _rows(client, account, database_id, MASTER_QUERY, what)
    applied = None
    if any(row.get("type") == "table" and row.get("name") == TRACKING_TABLE for row in master):
        applied = [str(r.get("name")) for r in _rows(client, account, database_id, APPLIED_QUERY, f"read {TRACKING_TABLE} of {catalog_name}")]
    try:
        live = schema_of_master(master)
    except sqlite3.Error as err:  # the DDL a live database reports is SQLite's; one it cannot run is malformed
        raise ApiFailure(f"{what}: malformed answer: its sqlite_master does not run: {err}") from None
    return baseline(catalog_name, load_migration_set(root, migrations_dir).migrations, live, applied)


# --- matching --------------------------------------------------------------------------

@dataclass(frozen=True)
class Match:
    declared: Declared
    live: Live
    import_id: str


@dataclass
class Adoption:
    stack: str
    account: str
    matched: list[Match] = field(default_factory=list)
    to_create: list[Declared] = field(default_factory=list)
    first_up: list[tuple[Declared, str]] = field(default_factory=list)  # not importable, and why
    ambiguous: list[tuple[Declared, list[Live]]] = field(default_factory=list)
    unmanaged: list[str] = field(default_factory=list)
    other_stacks: dict[str, int] = field(default_factory=dict)  # stack -> live things it declares
    schedule_changes: list[str] = field(default_factory=list)
    baselines: dict[str, Baseline] = field(default_factory=dict)
    configured_baselines: Mapping[str, str] = field(default_factory=dict)
    declared: list[Declared] = field(default_factory=list)  # the stack's plan, in its order


def _catalog_name(declared: Declared) -> str:
    """The catalog's name of a child: its component's name (`...$blaze:d1:Database::<name>`)."""
    return (declared.parent or "").rsplit("::", 1)[-1]


def match(stack: str, settings: Settings, plans: Mapping[str, list[Declared]], account: Account) -> Adoption:
    adoption = Adoption(stack, account.id, configured_baselines=dict(settings.d1_baselines), declared=plans[stack])
    by_key: dict[tuple[str, tuple[str, ...]], list[Live]] = {}
    for thing in account.things:
        by_key.setdefault((thing.kind, thing.key), []).append(thing)
    scripts = {t.key[0] for t in account.things if t.kind == "script"}
    declared = plans[stack]
    for resource in declared:
        if resource.type == D1_MIGRATIONS:
            adoption.first_up.append((resource, "the migration step, not a Cloudflare resource: the first `pulumi up` runs it "
                                                 "(the database's migrations after its baseline)"))
            continue
        if not resource.custom:
            continue
        template = import_id_template(resource.type)
        if template is None or resource.type not in KEYS:
            reason = "the provider cannot import this type" if template is None else "this tool knows no natural key for it"
            adoption.first_up.append((resource, f"{reason}: the first `pulumi up` writes it from the catalog"))
            continue
        if resource.kind == "schedules":
            script = resource.key[0]
            if script not in scripts:
                adoption.to_create.append(resource)
                continue
            live = Live("schedules", resource.key, {"account_id": account.id, "script_name": script}, f"cron triggers of {script}")
            adoption.matched.append(Match(resource, live, live.import_id(template)))
            have = account.schedules.get(script, ())
            want = tuple(sorted(s["cron"] for s in resource.inputs.get("schedules", [])))
            if have != want:
                adoption.schedule_changes.append(f"{script}: live {list(have) or 'none'}, declared {list(want)}")
            continue
        candidates = by_key.get((KEYS[resource.type][0], resource.key), [])
        if len(candidates) > 1:
            adoption.ambiguous.append((resource, candidates))
        elif candidates:
            adoption.matched.append(Match(resource, candidates[0], candidates[0].import_id(template)))
        else:
            adoption.to_create.append(resource)

    # A matched script whose stack declares no cron trigger keeps any schedule it has live.
    with_triggers = {r.key[0] for r in declared if r.kind == "schedules"}
    for script, crons in sorted(account.schedules.items()):
        if crons and script not in with_triggers:
            adoption.unmanaged.append(f"cron triggers of Worker {script}: {', '.join(crons)} (the stack declares none; they keep running)")

    claimed: dict[tuple[str, tuple[str, ...]], str] = {}
    for name, resources in plans.items():
        for resource in resources:
            if resource.kind and resource.kind != "schedules":
                claimed.setdefault((resource.kind, resource.key), name)
    for thing in account.things:
        owner = claimed.get((thing.kind, thing.key))
        if owner is None:
            adoption.unmanaged.append(thing.label)
        elif owner != stack:
            adoption.other_stacks[owner] = adoption.other_stacks.get(owner, 0) + 1
    adoption.baselines = dict(account.baselines)
    return adoption


def matched_databases(plan: list[Declared], account: Account) -> list[tuple[str, str, str]]:
    """(catalog name, database id, migrations dir) of every declared database found live."""
    live = {t.key: t.ids["database_id"] for t in account.things if t.kind == "database"}
    dirs = {_catalog_name(r): str(r.inputs.get("directory")) for r in plan if r.type == D1_MIGRATIONS}
    return [
        (_catalog_name(r), live[r.key], dirs[_catalog_name(r)])
        for r in plan if r.kind == "database" and r.key in live and _catalog_name(r) in dirs
    ]


# --- what is written -------------------------------------------------------------------

def _file_names(plan: list[Declared]) -> dict[str, str]:
    """URN -> the name the import file gives it: unique in the file, as the CLI's own
    generator makes it (a repeated name gets its type's name appended: `blaze-oddsDatabase`
    beside `blaze-oddsWorkerService`); `logicalName` keeps the program's name."""
    counts: dict[str, int] = {}
    for resource in plan:
        counts[resource.name] = counts.get(resource.name, 0) + 1
    taken = {r.name for r in plan if counts[r.name] == 1}
    names: dict[str, str] = {}
    for resource in plan:
        name = resource.name
        if counts[name] > 1:
            base = name + resource.type.rsplit(":", 1)[-1]
            name, counter = base, 2
            while name in taken:
                name, counter = f"{base}{counter}", counter + 1
            taken.add(name)
        names[resource.urn] = name
    return names


def import_file(adoption: Adoption) -> dict[str, Any]:
    """`pulumi import --file`: components that hold an imported resource, then the resources."""
    plan = adoption.declared
    by_urn = {r.urn: r for r in plan}
    names = _file_names(plan)
    wanted: set[str] = set()
    for found in adoption.matched:
        parent = found.declared.parent
        while parent is not None and parent in by_urn:
            wanted.add(parent)
            parent = by_urn[parent].parent
    version = importlib.metadata.version("pulumi_cloudflare")
    ids = {m.declared.urn: m.import_id for m in adoption.matched}
    entries: list[dict[str, Any]] = []
    for resource in plan:
        entry: dict[str, Any] = {"type": resource.type, "name": names[resource.urn]}
        if resource.urn in wanted:
            entry["component"] = True
        elif resource.urn in ids:
            entry |= {"id": ids[resource.urn], "version": version}
        else:
            continue
        if resource.parent in by_urn:
            entry["parent"] = names[resource.parent]
        if entry["name"] != resource.name:
            entry["logicalName"] = resource.name
        entries.append(entry)
    return {"resources": entries}


def _stack_ref(stack: str) -> str:
    return f"{ORGANIZATION}/{stack}"


def report(adoption: Adoption) -> str:
    a = adoption
    lines = [
        f"# Adopting account {a.account} into stack {a.stack}",
        "",
        f"- matched (in `build/adopt/{a.stack}.json`): {len(a.matched)}",
        f"- to be created by the first `pulumi up`: {len(a.to_create)}",
        f"- written by the first `pulumi up` (not importable): {len(a.first_up)}",
        f"- ambiguous: {len(a.ambiguous)}",
        f"- unmanaged (live, declared by no stack): {len(a.unmanaged)}",
    ]
    lines += [f"- declared by stack {name}: {count}" for name, count in sorted(a.other_stacks.items())]
    if a.ambiguous:
        lines += ["", "## Ambiguous: resolve these first (no import file was written)", ""]
        for resource, candidates in a.ambiguous:
            lines.append(f"- `{resource.name}` ({resource.type.rsplit(':', 1)[-1]} {' '.join(resource.key)}) matches "
                         + " and ".join(c.label for c in candidates))
    lines += ["", "## Migration baselines", ""]
    lines += baseline_lines(a) or ["No declared database is live yet."]
    lines += ["", "## Unmanaged", ""]
    lines += [f"- {label}" for label in a.unmanaged] or ["Nothing: every live resource is declared by a stack."]
    lines += ["", "## To be created", ""]
    lines += [f"- `{r.name}` ({r.type.rsplit(':', 1)[-1]} {' '.join(r.key)})" for r in a.to_create] or ["Nothing."]
    lines += ["", "## Written by the first `pulumi up`", ""]
    lines += [f"- `{r.name}` ({r.type.rsplit(':', 1)[-1]}): {why}" for r, why in a.first_up] or ["Nothing."]
    if a.schedule_changes:
        lines += ["", "## Cron triggers the first `pulumi up` changes", ""]
        lines += [f"- {change}" for change in a.schedule_changes]
    lines += ["", "## Matched", "", "| type | name | import id |", "|---|---|---|"]
    lines += [f"| {m.declared.type.rsplit(':', 1)[-1]} | `{m.declared.name}` | `{m.import_id}` |" for m in a.matched]
    return "\n".join(lines) + "\n"


def baseline_lines(a: Adoption) -> list[str]:
    lines: list[str] = []
    for name, found in sorted(a.baselines.items()):
        configured = a.configured_baselines.get(name)
        if found.applied:
            lines.append(f"- {name}: its {TRACKING_TABLE} records {len(found.applied)} file(s); no baseline needed"
                         + ("".join(f"; {d}" for d in found.differences)))
        elif found.proposed:
            command = (f"`pulumi config set --path 'blaze-infra:d1Baselines.{name}' {found.proposed} -s {_stack_ref(a.stack)}`")
            state = "set" if configured == found.proposed else (f"the stack sets {configured}: change it" if configured else "set it")
            lines.append(f"- {name}: the live schema is the one files up to {found.proposed} make ({state}): {command}")
        elif found.differences:
            lines.append(f"- {name}: NEEDS ATTENTION: its live schema is not one its migration files make, so its first deploy "
                         f"will refuse to migrate it: {'; '.join(found.differences)}")
        else:
            lines.append(f"- {name}: empty; its first deploy applies every file")
    return lines


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text)
    partial.replace(path)


def client_from_environment(environ: Mapping[str, str] = os.environ) -> cloudflare.Cloudflare:
    if not environ.get("CLOUDFLARE_API_TOKEN"):
        raise AdoptError("CLOUDFLARE_API_TOKEN is not set (a token with read permissions on the account and its zones)")
    # The SDK reads the token and CLOUDFLARE_BASE_URL from the environment itself.
    return cloudflare.Cloudflare(max_retries=MAX_RETRIES)


def stacks(root: Path) -> list[str]:
    return sorted(p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in root.glob("Pulumi.*.yaml"))


def adopt(stack: str, root: Path, client: cloudflare.Cloudflare, baselines: bool = True) -> Adoption:
    """Read the account and match it to every stack's plan; raises AdoptError or ApiFailure.

    With `baselines`, also reads each matched database's schema (what the audit skips)."""
    if stack not in stacks(root):
        raise AdoptError(f"no Pulumi.{stack}.yaml: stacks are {', '.join(stacks(root))}")
    try:
        settings = stack_settings(stack, root)
    except (InputError, ValueError) as err:
        raise AdoptError(f"Pulumi.{stack}.yaml: {err}") from None
    plans = {name: read_plan(name, root) for name in stacks(root)}
    account = read_account(client, settings.account_id, {z.id: z.name for z in settings.zones.values()})
    live_scripts = {t.key[0] for t in account.things if t.kind == "script"}
    for resource in plans[stack]:
        if resource.kind == "script" and resource.key[0] in live_scripts:
            account.schedules[resource.key[0]] = read_schedules(client, account.id, resource.key[0])
    for name, database_id, directory in matched_databases(plans[stack], account) if baselines else []:
        account.baselines[name] = read_baseline(client, account.id, name, database_id, directory, root)
    return match(stack, settings, plans, account)


def main(argv: Optional[list[str]] = None, root: Path = PROJECT_ROOT) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("stack")
    args = parser.parse_args(argv)
    try:
        adoption = adopt(args.stack, root, client_from_environment())
    except AdoptError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except ApiFailure as err:
        print(f"error: the Cloudflare API: {err}; nothing was written", file=sys.stderr)
        return 2
    out = root / ADOPT_DIR
    _write(out / f"{args.stack}.md", report(adoption))
    if adoption.ambiguous:
        for resource, candidates in adoption.ambiguous:
            print(f"error: {resource.name}: {' and '.join(c.label for c in candidates)} both match; "
                  f"no import file was written (build/adopt/{args.stack}.md)", file=sys.stderr)
        return 1
    _write(out / f"{args.stack}.json", json.dumps(import_file(adoption), indent=4) + "\n")
    print(f"build/adopt/{args.stack}.json: {len(adoption.matched)} resources to import; "
          f"{len(adoption.to_create)} to create, {len(adoption.unmanaged)} unmanaged (build/adopt/{args.stack}.md)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
