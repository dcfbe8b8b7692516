"""Run the fleet's Workers locally in workerd (Miniflare), as the catalog declares them.

The client of `local/driver.mjs`: one Node process, started once, that creates
Miniflare instances on request. An instance runs the very bundles the program deploys
(`build/workers/<family>.js`) with the binding names of `stacks/catalog/workers.yaml`;
databases, namespaces and buckets are keyed by their catalog names, so two Workers that
bind the same database share it, as in the account. Every database bound gets its
migrations applied the way `wrangler d1 migrations apply --local` does.

Used by the tests (tests/workers/), `make dev` (local/dev.py) and `make bench`.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Iterable, Mapping

from d1.migration_set import load_migration_set
from d1.migration_set import split_statements as split_with_lines
from d1.schema import TRACKING_TABLE
from stacks.catalog import Catalog, Worker
from toolchain.node import JsonLinesProcess, NodeProcessError
from workers.bundle import OUT_DIR, build_bundles

DRIVER = "local/driver.mjs"


class DriverError(Exception):
    """The driver could not do what was asked (its message names the reason)."""


def split_statements(sql: str) -> list[str]:
    """The statements of a migration file, split where SQLite's own tokenizer ends one."""
    return [statement.text for statement in split_with_lines(sql)]


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode(errors="replace")


def _service_closure(catalog: Catalog, names: Iterable[str]) -> list[Worker]:
    """The named Workers and every Worker they reach through service bindings."""
    wanted: list[str] = []
    queue = list(names)
    while queue:
        name = queue.pop(0)
        if name in wanted:
            continue
        wanted.append(name)
        queue.extend(catalog.worker(name).services.values())
    return [catalog.worker(name) for name in wanted]


def miniflare_workers(
    root: Path,
    catalog: Catalog,
    names: Iterable[str],
    vars: Mapping[str, str],
    secrets: Mapping[str, str],
    per_worker: Mapping[str, Mapping[str, str]] | None = None,
    routes: Mapping[str, list[str]] | None = None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Miniflare's `workers` option and the migrations to apply, derived from the catalog.

    `vars` replaces catalog values of plain-text bindings by binding name (a stub's URL, a
    small limit, CORS origins, which are a stack's and so empty otherwise); `secrets` gives
    the values of secret bindings, which the catalog only names. Both refuse names that no
    started Worker binds. `per_worker` gives values of one Worker's bindings (var, origins
    or secret) by Worker name, before either: one stack's values differ between Workers
    that use the same binding name (two feeds' UPSTREAM_URL). `routes` are Miniflare's
    route patterns (`host/path*`) by Worker name.
    """
    workers = _service_closure(catalog, names)
    per_worker = per_worker or {}
    unknown_workers = set(per_worker) - {w.name for w in workers}
    if unknown_workers:
        raise DriverError(f"values given for Workers not started: {', '.join(sorted(unknown_workers))}")
    used_vars: set[str] = set()
    configs = []
    first_binding: dict[str, tuple[str, str]] = {}
    for worker in workers:
        own = per_worker.get(worker.name, {})
        bound = {binding for kind, _, binding, _ in worker.bindings() if kind in ("var", "origins", "secret")}
        if set(own) - bound:
            raise DriverError(f"{worker.name} has no var or secret named {', '.join(sorted(set(own) - bound))}")
        config: dict[str, Any] = {
            "name": worker.name,
            # The bundle as its one module: given `scriptPath`, Miniflare would parse every
            # copy with acorn to find imports a bundle cannot have (seconds for the fleet).
            "modules": [{"type": "ESModule", "path": str(root / OUT_DIR / f"{worker.family}.js")}],
            "modulesRoot": str(root / OUT_DIR),
            "compatibilityDate": worker.compatibility_date or catalog.defaults.compatibility_date,
            "compatibilityFlags": list(worker.compatibility_flags or catalog.defaults.compatibility_flags),
            "d1Databases": {},
            "kvNamespaces": {},
            "r2Buckets": {},
            "serviceBindings": {},
            "bindings": {},
        }
        if routes and routes.get(worker.name):
            config["routes"] = list(routes[worker.name])
        for kind, _, binding, target in worker.bindings():
            if kind == "d1":
                config["d1Databases"][binding] = target
                first_binding.setdefault(target, (worker.name, binding))
            elif kind == "kv":
                config["kvNamespaces"][binding] = target
            elif kind == "r2":
                config["r2Buckets"][binding] = target
            elif kind == "service":
                config["serviceBindings"][binding] = target
            elif binding in own:
                config["bindings"][binding] = own[binding]
            elif kind == "var":
                config["bindings"][binding] = vars.get(binding, target)
                used_vars.add(binding)
            elif kind == "origins":
                config["bindings"][binding] = vars.get(binding, "")
                used_vars.add(binding)
            else:
                if binding not in secrets:
                    raise DriverError(f"{worker.name} binds secret {binding}: give it a value")
                config["bindings"][binding] = secrets[binding]
        configs.append(config)
    unknown = set(vars) - used_vars
    if unknown:
        raise DriverError(f"no started Worker has a var named {', '.join(sorted(unknown))}")
    databases = {db.name: db for db in catalog.databases}
    migrations = []
    for target, (worker_name, binding) in first_binding.items():
        migration_set = load_migration_set(root, databases[target].migrations_dir)
        migrations.append(
            {
                "worker": worker_name,
                "binding": binding,
                "table": TRACKING_TABLE,
                "files": [{"name": m.name, "statements": split_statements(m.sql)} for m in migration_set.migrations],
            }
        )
    return configs, migrations


class Driver:
    """One Node process running the driver; thread-safe, one request at a time."""

    def __init__(self, root: Path, stderr: IO[bytes] | None = None) -> None:
        self.root = root
        # Its own session, so a terminal's Ctrl-C (sent to the whole foreground group)
        # reaches only the Python side, which then closes the driver in order.
        self._node = JsonLinesProcess(root / DRIVER, root, stderr, new_session=True)

    def call(self, op: str, **args: Any) -> Any:
        try:
            reply = self._node.request(op, op=op, **args)
        except NodeProcessError as err:
            raise DriverError(str(err)) from None
        if not reply["ok"]:
            raise DriverError(reply["error"])
        return reply["result"]

    def start(
        self,
        catalog: Catalog,
        names: Iterable[str],
        vars: Mapping[str, str] | None = None,
        secrets: Mapping[str, str] | None = None,
        persist: Path | None = None,
        port: int | None = None,
        migrate: bool = True,
        triggers: bool = False,
        per_worker: Mapping[str, Mapping[str, str]] | None = None,
        routes: Mapping[str, list[str]] | None = None,
        entry: Mapping[str, Any] | None = None,
        count_kv: Iterable[tuple[str, str]] = (),
    ) -> Instance:
        """A fresh Miniflare with the named Workers (and their service targets).

        With `persist`, state survives the instance in that folder; `migrate=False` starts
        on such a state without touching its databases first. `triggers` lets HTTP
        requests to /cdn-cgi/handler/scheduled?cron=... run the crons (for make dev).
        `per_worker` and `routes`: see `miniflare_workers`. `entry` is a Miniflare worker
        put first, so it answers what no route matches (Miniflare's fallback is the first).
        `count_kv` names (Worker, KV binding) pairs whose operations `kv_operations` counts.
        """
        build_bundles(self.root, {family: spec.entry for family, spec in catalog.families.items()})
        workers, migrations = miniflare_workers(self.root, catalog, names, vars or {}, secrets or {}, per_worker, routes)
        if entry is not None:
            workers = [dict(entry), *workers]
        options: dict[str, Any] = {"workers": workers, "migrations": migrations if migrate else []}
        if persist is not None:
            options["persist"] = str(persist)
        if port is not None:
            options["port"] = port
        if triggers:
            options["triggers"] = True
        counted = [{"worker": worker, "binding": binding} for worker, binding in count_kv]
        if counted:
            options["countKv"] = counted
        started = self.call("start", **options)
        return Instance(self, started["handle"], started["url"], [w["name"] for w in workers], start_seconds=started["seconds"])

    def close(self) -> None:
        self._node.close()


def _request(
    path: str,
    method: str = "GET",
    headers: Mapping[str, str] | None = None,
    body: bytes | None = None,
    host: str = "https://blazesportsintel.com",
) -> dict[str, Any]:
    return {
        "url": path if "://" in path else host + path,
        "method": method,
        "headers": dict(headers or {}),
        "body": base64.b64encode(body).decode() if body is not None else None,
    }


def _reply(reply: Mapping[str, Any]) -> Reply:
    headers: dict[str, str] = {}
    for name, value in reply["headers"]:
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return Reply(reply["status"], headers, base64.b64decode(reply["body"]))


@dataclass
class Instance:
    """One running Miniflare; `workers` are the names it runs, the first is the entry."""

    driver: Driver
    handle: int
    url: str
    workers: list[str] = field(default_factory=list)
    closed: bool = False
    # What `blocked()` answered when the instance closed.
    blocked_at_close: list[str] = field(default_factory=list)
    # How long the driver took to start it: "runtime" (Miniflare's config and workerd's
    # start, until ready) and "migrations" (every bound database migrated).
    start_seconds: dict[str, float] = field(default_factory=dict)

    def fetch(
        self,
        worker: str,
        path: str,
        method: str = "GET",
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
        host: str = "https://blazesportsintel.com",
    ) -> Reply:
        reply = self.driver.call("fetch", handle=self.handle, worker=worker, **_request(path, method, headers, body, host))
        return _reply(reply)

    def fetch_all(self, worker: str, requests: Iterable[Mapping[str, Any]]) -> list[Reply]:
        """Sends every request at once (concurrent clients); the replies in request order.

        Each request takes `fetch`'s arguments by name, and optionally `after_ms` (it is
        sent that long after the first) and `trickle=(chunks, delay_ms)`: the body then
        arrives in that many pieces that far apart, as from a slow client, so the Worker is
        still reading it while the other requests run.
        """
        sent = []
        for request in requests:
            options = dict(request)
            trickle = options.pop("trickle", None)
            after_ms = options.pop("after_ms", 0)
            encoded = {**_request(**options), "afterMs": after_ms}
            if trickle is not None:
                encoded["trickle"] = {"chunks": trickle[0], "delayMs": trickle[1]}
            sent.append(encoded)
        replies = self.driver.call("fetchAll", handle=self.handle, worker=worker, requests=sent)
        return [_reply(reply) for reply in replies]

    def scheduled(self, worker: str, cron: str, at_ms: int) -> dict[str, Any]:
        """Run `worker`'s scheduled handler for `cron` as if fired at `at_ms` (epoch ms)."""
        return self.driver.call("scheduled", handle=self.handle, worker=worker, cron=cron, scheduledTime=at_ms)

    def d1(self, worker: str, binding: str, sql: str, *params: Any) -> list[dict[str, Any]]:
        return self.driver.call("d1", handle=self.handle, worker=worker, binding=binding, sql=sql, params=list(params))["results"]

    def kv_get(self, worker: str, binding: str, key: str) -> str | None:
        return self.driver.call("kv", handle=self.handle, worker=worker, binding=binding, action="get", key=key)["value"]

    def kv_put(self, worker: str, binding: str, key: str, value: str, **options: Any) -> None:
        self.driver.call("kv", handle=self.handle, worker=worker, binding=binding, action="put", key=key, value=value, options=options)

    def kv_list(self, worker: str, binding: str, prefix: str = "") -> list[str]:
        return self.driver.call("kv", handle=self.handle, worker=worker, binding=binding, action="list", key=prefix)

    def kv_expirations(self, worker: str, binding: str, prefix: str = "") -> dict[str, int | None]:
        """Each key under `prefix` with its expiration (epoch seconds), None for a key that never expires."""
        return self.driver.call("kv", handle=self.handle, worker=worker, binding=binding, action="expirations", key=prefix)

    def r2_list(self, worker: str, binding: str, prefix: str = "") -> list[str]:
        return self.driver.call("r2", handle=self.handle, worker=worker, binding=binding, action="list", key=prefix)

    def r2_get(self, worker: str, binding: str, key: str) -> bytes | None:
        found = self.driver.call("r2", handle=self.handle, worker=worker, binding=binding, action="get", key=key)
        return None if found is None else base64.b64decode(found["body"])

    def r2_stat(self, worker: str, binding: str, key: str) -> dict[str, Any] | None:
        """The object's `size` and `etag` (R2's, unquoted), or None if there is none."""
        found = self.driver.call("r2", handle=self.handle, worker=worker, binding=binding, action="get", key=key)
        return None if found is None else {"size": found["size"], "etag": found["etag"]}

    def r2_put(self, worker: str, binding: str, key: str, body: bytes) -> None:
        self.driver.call("r2", handle=self.handle, worker=worker, binding=binding, action="put", key=key, body=base64.b64encode(body).decode())

    def kv_operations(self, worker: str, binding: str, reset: bool = True) -> dict[str, int]:
        """The calls a counted KV binding (`count_kv`) received, by operation, since the last reset."""
        return self.driver.call("kvOperations", handle=self.handle, worker=worker, binding=binding, reset=reset)

    def blocked(self) -> list[str]:
        """URLs the Workers tried to fetch outside loopback (answered 502 by the driver)."""
        return self.driver.call("blocked", handle=self.handle)

    def close(self) -> None:
        if not self.closed:
            self.blocked_at_close = self.blocked()
            self.closed = True
            self.driver.call("dispose", handle=self.handle)
