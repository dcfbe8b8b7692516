"""The fleet catalog: what exists, loaded once from `stacks/catalog/*.yaml` and cross-checked.

Shape is checked by pydantic models (`extra="forbid"`, strict types); references between
entries (binding targets, families, service cycles, names) by `load_catalog`. Every
failure is one `InputError` naming the file, the entry and the field.
"""

from __future__ import annotations

import datetime
import functools
from dataclasses import dataclass
from graphlib import CycleError, TopologicalSorter
from pathlib import Path
from typing import Annotated, Iterator, Literal

from pydantic import AfterValidator, Field, model_validator

from stacks import cron
from stacks.errors import InputError
from stacks.validation import BindingName, ConfigKey, ResourceName, Strict, validate
from stacks.yamlfile import parse_yaml

CATALOG_DIR = "stacks/catalog"
# Each database's ordered SQL migrations live in MIGRATIONS_DIR/<schema>/.
MIGRATIONS_DIR = "workers/migrations"

# Cloudflare removed the per-Worker cap of 3 Cron Triggers in October 2023; what remains
# is the per-account cap (developers.cloudflare.com/workers/platform/limits: 5 on Free,
# 250 on Paid). So no single Worker may carry more than the Paid account's whole budget;
# the stack's own plan and total are checked in stacks/__init__.py.
MAX_CRONS_PER_ACCOUNT = {"free": 5, "paid": 250}

Team = Literal["platform", "data", "api", "analytics"]
BindingKind = Literal["d1", "kv", "r2", "service", "var", "secret", "origins"]


def _iso_date(value: str) -> str:
    try:
        datetime.date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a date in YYYY-MM-DD form") from None
    return value


def _cron(value: str) -> str:
    # Cloudflare's dialect (1 = SUN), and days of the week by name: see stacks/cron.py.
    try:
        return cron.day_names_required(value)
    except cron.CronError as err:
        raise ValueError(str(err)) from None


# Words that stand in for a reason instead of giving one (cdk-nag rejects the same kind).
_PLACEHOLDER_WORDS = frozenset({"todo", "tbd", "fixme", "xxx", "placeholder", "changeme", "lorem", "ipsum", "n/a"})


def _reason(value: str) -> str:
    text = value.strip()
    if len(text) < 10:
        raise ValueError("a waiver reason needs at least 10 characters saying why the rule does not apply")
    words = {word.strip(".,;:!?()[]'\"").lower() for word in text.split()}
    if words & _PLACEHOLDER_WORDS or set(text) <= set(".-_ *?"):
        raise ValueError(f"{value!r} is placeholder text, not a reason")
    return text


def _host_key(value: str) -> str:
    if not value or not value.replace("-", "").isalnum() or not value[0].isalpha() or value.lower() != value:
        raise ValueError(f"{value!r} is not a host key (lowercase letters, digits, hyphens)")
    return value


IsoDate = Annotated[str, AfterValidator(_iso_date)]
Cron = Annotated[str, AfterValidator(_cron)]
HostKey = Annotated[str, AfterValidator(_host_key)]
Text = Annotated[str, Field(min_length=1)]
Reason = Annotated[str, AfterValidator(_reason)]
RuleId = Annotated[str, Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")]


class Waiver(Strict):
    """One policy rule (policies/RULES.md) that does not apply to this one catalog entry, and why."""

    rule: RuleId
    reason: Reason


def _one_waiver_per_rule(waivers: list[Waiver]) -> list[Waiver]:
    rules = [w.rule for w in waivers]
    for rule in rules:
        if rules.count(rule) > 1:
            raise ValueError(f"rule {rule!r} is waived twice; give it one waiver with one reason")
    return waivers


WaiverList = Annotated[list[Waiver], AfterValidator(_one_waiver_per_rule)]


class Family(Strict):
    """A runtime family: one TypeScript entry point that several Workers deploy."""

    entry: Text
    description: Text


class Defaults(Strict):
    compatibility_date: IsoDate
    compatibility_flags: list[Text]


class Route(Strict):
    host: HostKey
    path: Annotated[str, Field(pattern=r"^/[A-Za-z0-9/_.*-]*$")]


class Worker(Strict):
    name: ResourceName
    family: Text
    team: Team
    purpose: Text
    d1: dict[BindingName, ResourceName] = {}
    kv: dict[BindingName, ResourceName] = {}
    r2: dict[BindingName, ResourceName] = {}
    services: dict[BindingName, ResourceName] = {}
    vars: dict[BindingName, str] = {}
    secrets: dict[BindingName, ConfigKey] = {}
    # Plain-text vars holding a bucket's CORS origins as the stack sets them
    # (`corsOrigins` in Pulumi.<stack>.yaml), comma-separated: the Worker answers browsers
    # from exactly the origins the bucket's own CORS rule allows.
    cors_origins: dict[BindingName, ResourceName] = {}
    crons: list[Cron] = []
    routes: list[Route] = []
    domains: list[HostKey] = []
    compatibility_date: IsoDate | None = None
    compatibility_flags: list[Text] | None = None
    waivers: WaiverList = []

    def bindings(self) -> Iterator[tuple[BindingKind, str, str, str]]:
        """Every binding as (kind, catalog field, binding name, target or value)."""
        groups: tuple[tuple[BindingKind, str, dict[str, str]], ...] = (
            ("d1", "d1", self.d1),
            ("kv", "kv", self.kv),
            ("r2", "r2", self.r2),
            ("service", "services", self.services),
            ("var", "vars", self.vars),
            ("secret", "secrets", self.secrets),
            ("origins", "cors_origins", self.cors_origins),
        )
        for kind, field, mapping in groups:
            for binding, target in mapping.items():
                yield kind, field, binding, target


class Database(Strict):
    name: ResourceName
    purpose: Text
    team: Team
    # The migration set the database follows: databases of the same shape (the games of
    # every sport) share one, so a schema change reaches all of them together.
    migrations: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    waivers: WaiverList = []

    @property
    def migrations_dir(self) -> str:
        return f"{MIGRATIONS_DIR}/{self.migrations}"


class Namespace(Strict):
    name: ResourceName
    purpose: Text
    team: Team
    waivers: WaiverList = []


CorsMethod = Literal["GET", "HEAD", "PUT", "POST", "DELETE"]


class Cors(Strict):
    """Browser access to a bucket; the allowed origins are per stack (Pulumi.<stack>.yaml)."""

    methods: Annotated[list[CorsMethod], Field(min_length=1)]
    headers: list[Text] = []
    expose_headers: list[Text] = []
    max_age_seconds: Annotated[int, Field(ge=0, le=86400)]


class LifecycleRule(Strict):
    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$")]
    prefix: str
    expire_after_days: Annotated[int, Field(ge=1)] | None = None
    abort_multipart_after_days: Annotated[int, Field(ge=1)] | None = None

    @model_validator(mode="after")
    def _has_an_action(self) -> LifecycleRule:
        if self.expire_after_days is None and self.abort_multipart_after_days is None:
            raise ValueError("a rule needs expire_after_days or abort_multipart_after_days")
        return self


class Bucket(Strict):
    name: ResourceName
    purpose: Text
    team: Team
    cors: Cors | None = None
    lifecycle: list[LifecycleRule] = []
    waivers: WaiverList = []


class WorkersFile(Strict):
    defaults: Defaults
    families: dict[Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]*$")], Family]
    workers: list[Worker]


class DatabasesFile(Strict):
    databases: list[Database]


class NamespacesFile(Strict):
    namespaces: list[Namespace]


class BucketsFile(Strict):
    buckets: list[Bucket]


@dataclass(frozen=True)
class Catalog:
    """The validated fleet. Workers are in deploy order: service-binding targets first."""

    defaults: Defaults
    families: dict[str, Family]
    workers: tuple[Worker, ...]
    databases: tuple[Database, ...]
    namespaces: tuple[Namespace, ...]
    buckets: tuple[Bucket, ...]

    def worker(self, name: str) -> Worker:
        return next(w for w in self.workers if w.name == name)

    def secret_keys(self) -> list[str]:
        """The config keys the Workers' secret bindings read, sorted, each once."""
        return sorted({key for w in self.workers for key in w.secrets.values()})

    def host_keys(self) -> list[str]:
        return sorted({r.host for w in self.workers for r in w.routes} | {d for w in self.workers for d in w.domains})


def _unique(items: tuple, kind: str, file: str) -> set[str]:
    seen: set[str] = set()
    for item in items:
        if item.name in seen:
            raise InputError(file, f"{kind}[{item.name}]", "name", f"duplicate name {item.name!r}")
        seen.add(item.name)
    return seen


def _check_workers(
    root: Path,
    file: str,
    workers_file: WorkersFile,
    targets: dict[str, tuple[set[str], str]],
    with_cors: set[str],
    buckets_file: str,
) -> None:
    for family, spec in workers_file.families.items():
        if not (root / spec.entry).is_file():
            raise InputError(file, f"families.{family}", "entry", f"no file {spec.entry}")
    names = {w.name for w in workers_file.workers}
    for worker in workers_file.workers:
        entry = f"workers[{worker.name}]"
        if worker.family not in workers_file.families:
            known = ", ".join(sorted(workers_file.families))
            raise InputError(file, entry, "family", f"unknown family {worker.family!r} (known: {known})")
        seen: dict[str, str] = {}
        for kind, field, binding, target in worker.bindings():
            where = f"{field}.{binding}"
            if binding in seen:
                raise InputError(file, entry, where, f"binding name {binding!r} is also used in {seen[binding]}")
            seen[binding] = field
            if kind == "service":
                if target == worker.name:
                    raise InputError(file, entry, where, "a Worker cannot bind to itself")
                if target not in names:
                    raise InputError(file, entry, where, f"no Worker named {target!r} in {file}")
            elif kind == "origins":
                if target not in with_cors:
                    raise InputError(file, entry, where, f"no bucket named {target!r} with a cors section in {buckets_file}")
            elif kind in targets:
                known, target_file = targets[kind]
                if target not in known:
                    raise InputError(file, entry, where, f"no {kind} resource named {target!r} in {target_file}")
        if len(worker.crons) > MAX_CRONS_PER_ACCOUNT["paid"]:
            raise InputError(
                file, entry, "crons",
                f"{len(worker.crons)} cron triggers exceed Cloudflare's {MAX_CRONS_PER_ACCOUNT['paid']} per account",
            )
        if len(set(worker.crons)) != len(worker.crons):
            raise InputError(file, entry, "crons", "the same schedule is listed twice")


def _deploy_order(workers: list[Worker], file: str) -> tuple[Worker, ...]:
    graph = {w.name: set(w.services.values()) for w in workers}
    try:
        order = list(TopologicalSorter(graph).static_order())
    except CycleError as err:
        cycle = " -> ".join(err.args[1])
        raise InputError(file, f"workers[{err.args[1][0]}]", "services", f"service bindings form a cycle: {cycle}") from None
    by_name = {w.name: w for w in workers}
    return tuple(by_name[name] for name in order)


_FILES = ("databases.yaml", "kv.yaml", "buckets.yaml", "workers.yaml")


def load_catalog(root: Path) -> Catalog:
    """Load and cross-check every catalog file under `root/stacks/catalog`.

    The result is cached by the files' contents: the offline runner and the tests load the
    same catalog many times in one process, and an edited file is always read afresh.
    """
    contents = []
    for name in _FILES:
        display = f"{CATALOG_DIR}/{name}"
        try:
            contents.append((display, (root / display).read_bytes()))
        except OSError as err:
            raise InputError(display, "file", "-", f"cannot be read: {err.strerror}") from None
    return _load(root, tuple(contents))


@functools.lru_cache(maxsize=8)
def _load(root: Path, contents: tuple[tuple[str, bytes], ...]) -> Catalog:
    (dbs_file, dbs), (kv_file, kv), (r2_file, r2), (w_file, w) = contents
    databases = validate(DatabasesFile, parse_yaml(dbs, dbs_file), dbs_file).databases
    namespaces = validate(NamespacesFile, parse_yaml(kv, kv_file), kv_file).namespaces
    buckets = validate(BucketsFile, parse_yaml(r2, r2_file), r2_file).buckets
    workers_file = validate(WorkersFile, parse_yaml(w, w_file), w_file)

    targets = {
        "d1": (_unique(tuple(databases), "databases", dbs_file), dbs_file),
        "kv": (_unique(tuple(namespaces), "namespaces", kv_file), kv_file),
        "r2": (_unique(tuple(buckets), "buckets", r2_file), r2_file),
    }
    _unique(tuple(workers_file.workers), "workers", w_file)
    for database in databases:
        if not any((root / database.migrations_dir).glob("*.sql")):
            raise InputError(dbs_file, f"databases[{database.name}]", "migrations", f"no migrations in {database.migrations_dir}/")
    for bucket in buckets:
        ids = [rule.id for rule in bucket.lifecycle]
        if len(set(ids)) != len(ids):
            raise InputError(r2_file, f"buckets[{bucket.name}]", "lifecycle", "rule ids must be unique")
    _check_workers(root, w_file, workers_file, targets, {b.name for b in buckets if b.cors is not None}, r2_file)

    return Catalog(
        defaults=workers_file.defaults,
        families=dict(workers_file.families),
        workers=_deploy_order(workers_file.workers, w_file),
        databases=tuple(databases),
        namespaces=tuple(namespaces),
        buckets=tuple(buckets),
    )
