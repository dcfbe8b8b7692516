"""Run every Worker of a stack locally, in one workerd (Miniflare), wired as in the account.

    make dev [STACK=staging] [PORT=8787] [ARGS="--fresh --var blaze-nfl-scores:DATASET=x"]

(`make dev WORKER=<name>` runs one Worker instead: local/dev.py.)

- Bindings come from the catalog: service bindings between the Workers, and D1, KV and R2
  keyed by catalog name, so every Worker that binds a database shares one local SQLite
  file (each database migrated once), kept in build/dev/fleet/<stack>/state.
- Requests are routed as Cloudflare routes them, by Host and path: the stack's routes
  (`<hostname>/<path>*`) and custom domains (`<hostname>/*`) become Miniflare routes, so
  `curl -H 'Host: api-staging.blazesportsintel.com' http://127.0.0.1:8787/api/v1/...`
  reaches the gateway. What no route matches gets a 404 naming the host and path.
- Secrets come from build/dev/secrets.<stack>.json, keyed by the stack's config keys
  (`pulumi config set --secret blaze-infra:<key>`); keys missing there are added with
  throwaway values on start. Addresses (`*Url` keys) default to a closed local port.
- Every UPSTREAM_URL points at a local fixture server (local/fixtures.py), keeping its
  path; outbound fetches to anything but 127.0.0.1 are answered 502 and counted.
- A Worker's cron runs on demand through Miniflare's trigger endpoint, with the Worker
  named in Miniflare's route-override header (printed at start).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets as random_secrets
import shutil
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus, urlsplit

from local.dev import API_KEYS_BINDING, local_api_key
from local.driver import Driver, DriverError, Instance
from local.fixtures import FixtureServer
from stacks import PROJECT_ROOT
from stacks.catalog import Catalog, load_catalog
from stacks.errors import InputError
from stacks.settings import Settings
from stacks.stack_file import stack_settings

DEV = PROJECT_ROOT / "build" / "dev"
UPSTREAM_VAR = "UPSTREAM_URL"
CLOSED_PORT_URL = "http://127.0.0.1:9/"
# Miniflare's entry Worker runs the Worker this header names (its own mechanism, which
# the driver uses too); with the trigger endpoint it fires that Worker's cron.
ROUTE_OVERRIDE = "MF-Route-Override"
GATEWAY = "blaze-gateway"

# First in the instance, so it answers every request no route of the stack matches
# (Miniflare sends those to its first Worker), as Cloudflare serves no Worker there.
UNROUTED = {
    "name": "fleet-unrouted",
    "script": """export default { fetch(request) {
  const url = new URL(request.url);
  return Response.json({ error: "no_route", message: `no Worker route of this stack matches ${url.host}${url.pathname}` }, { status: 404 });
} };""",
}


def route_patterns(catalog: Catalog, settings: Settings) -> dict[str, list[str]]:
    """Per Worker, its routes and custom domains as Miniflare route patterns."""
    patterns: dict[str, list[str]] = {}
    for worker in catalog.workers:
        found = [f"{settings.hosts[r.host].hostname}{r.path}" for r in worker.routes]
        found += [f"{settings.hosts[d].hostname}/*" for d in worker.domains]
        if found:
            patterns[worker.name] = found
    return patterns


def load_secrets(path: Path, catalog: Catalog) -> dict[str, str]:
    """The secrets file's values by config key, adding throwaway values for missing keys."""
    values: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    wanted = sorted({key for w in catalog.workers for kind, _, _, key in w.bindings() if kind == "secret"})
    missing = [key for key in wanted if key not in values]
    for key in missing:
        values[key] = CLOSED_PORT_URL if key.endswith("Url") else f"dev-{random_secrets.token_hex(12)}"
    if missing or not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values, indent=2, sort_keys=True) + "\n")
        path.chmod(0o600)
    return values


def parse_vars(items: list[str], catalog: Catalog) -> dict[str, dict[str, str]]:
    """`--var WORKER:NAME=VALUE` for one Worker, `--var NAME=VALUE` for every Worker binding NAME."""
    chosen: dict[str, dict[str, str]] = {}
    for item in items:
        target, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"error: --var {item!r} is not [WORKER:]NAME=VALUE")
        worker, _, name = target.rpartition(":")
        workers = [worker] if worker else [w.name for w in catalog.workers if any(b == name for _, _, b, _ in w.bindings())]
        if not workers:
            raise SystemExit(f"error: no Worker binds {name!r}")
        for found in workers:
            chosen.setdefault(found, {})[name] = value
    return chosen


def local_upstream(url: str, fixtures: str) -> str:
    """The provider's URL on the fixture server: same path, local host."""
    return fixtures + urlsplit(url).path


def per_worker_values(
    catalog: Catalog, settings: Settings, secret_values: dict[str, str], fixtures: str, chosen: dict[str, dict[str, str]]
) -> dict[str, dict[str, str]]:
    """Every Worker's stack-specific binding values: secrets, CORS origins, local upstreams."""
    values: dict[str, dict[str, str]] = {}
    for worker in catalog.workers:
        own: dict[str, str] = {}
        for kind, _, binding, target in worker.bindings():
            if kind == "secret":
                own[binding] = secret_values[target]
            elif kind == "origins":
                own[binding] = ",".join(settings.cors_origins[target])
            elif kind == "var" and binding == UPSTREAM_VAR:
                own[binding] = local_upstream(target, fixtures)
        own.update(chosen.get(worker.name, {}))
        values[worker.name] = own
    return values


def cron_command(url: str, worker: str, cron: str) -> str:
    return f"curl -H '{ROUTE_OVERRIDE}: {worker}' '{url}/cdn-cgi/handler/scheduled?cron={quote_plus(cron)}'"


class Fleet:
    """A running fleet: the fixture server, the driver and its one Miniflare instance."""

    def __init__(self, stack: str, port: int, state: Path, secrets_file: Path, chosen_vars: list[str]) -> None:
        # Started first: Node loads Miniflare (about 0.35 s) while Python reads the catalog.
        self.driver = Driver(PROJECT_ROOT)
        fixtures: FixtureServer | None = None
        try:
            self.catalog = load_catalog(PROJECT_ROOT)
            self.settings = stack_settings(stack)
            secret_values = load_secrets(secrets_file, self.catalog)
            chosen = parse_vars(chosen_vars, self.catalog)
            self.fixtures = fixtures = FixtureServer()
            self.instance: Instance = self.driver.start(
                self.catalog,
                [w.name for w in self.catalog.workers],
                secrets={},
                persist=state,
                port=port,
                triggers=True,
                per_worker=per_worker_values(self.catalog, self.settings, secret_values, self.fixtures.url, chosen),
                routes=route_patterns(self.catalog, self.settings),
                entry={**UNROUTED, "compatibilityDate": self.catalog.defaults.compatibility_date},
            )
        except BaseException:
            self.driver.close()
            if fixtures is not None:
                fixtures.close()
            raise
        self.url = self.instance.url.rstrip("/")

    @property
    def workers(self) -> list[str]:
        return [name for name in self.instance.workers if name != UNROUTED["name"]]

    def close(self) -> list[str]:
        """Stops everything; the outbound fetches the driver refused."""
        try:
            self.instance.close()
            return self.instance.blocked_at_close
        finally:
            self.driver.close()
            self.fixtures.close()


def _hints(fleet: Fleet, stack: str, api_key: str | None) -> list[str]:
    lines = []
    for worker, patterns in route_patterns(fleet.catalog, fleet.settings).items():
        lines.append(f"  {worker}: {', '.join(patterns)}")
    api = fleet.settings.hosts["api"].hostname if "api" in fleet.settings.hosts else None
    if api_key and api:
        lines.append(f"  try: curl -H 'Host: {api}' -H 'x-api-key: {api_key}' '{fleet.url}/api/v1/mlb/scores'")
        lines.append(f"  local API key: {api_key} (its hash is in the local {API_KEYS_BINDING} namespace)")
    with_crons = [w for w in fleet.catalog.workers if w.crons]
    disabled = sum(1 for w in with_crons if w.name in fleet.settings.disabled_crons)
    lines.append(f"  crons never fire by themselves here; {len(with_crons)} Workers have one ({disabled} disabled in {stack}), run one with e.g.")
    lines.append("    " + cron_command(fleet.url, with_crons[0].name, with_crons[0].crons[0]))
    lines.append(f"  upstream feeds: the fixture server at {fleet.fixtures.url}; other hosts are refused (502)")
    return lines


def main(argv: list[str] | None = None) -> int:
    started = time.perf_counter()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stack", default="staging")
    parser.add_argument("--port", type=int, default=8787)
    parser.add_argument("--var", action="append", default=[], help="[WORKER:]NAME=VALUE replacing a binding's value (repeatable)")
    parser.add_argument("--fresh", action="store_true", help="start from empty local state")
    parser.add_argument("--state", type=Path, help="local state folder (default build/dev/fleet/<stack>/state)")
    parser.add_argument("--secrets", type=Path, help="secrets file (default build/dev/secrets.<stack>.json)")
    args = parser.parse_args(argv)
    state: Path = (args.state or DEV / "fleet" / args.stack / "state").resolve()
    secrets_file: Path = (args.secrets or DEV / f"secrets.{args.stack}.json").resolve()
    if args.fresh:
        shutil.rmtree(state, ignore_errors=True)
    state.mkdir(parents=True, exist_ok=True)

    try:
        constructing = time.perf_counter()
        fleet = Fleet(args.stack, args.port, state, secrets_file, args.var)
        constructed = time.perf_counter() - constructing
    except InputError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except DriverError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        gateway = fleet.catalog.worker(GATEWAY)
        api_key = local_api_key(fleet.instance, gateway)
        for line in _hints(fleet, args.stack, api_key):
            print(line)
        print(f"  secrets: {os.path.relpath(secrets_file, PROJECT_ROOT)}; state: {os.path.relpath(state, PROJECT_ROOT)}")
        runtime, migrations = fleet.instance.start_seconds["runtime"], fleet.instance.start_seconds["migrations"]
        print(
            f"  start: {constructed - runtime - migrations:.2f} s in Python (catalog, stack, bundles), {runtime:.2f} s for "
            f"Miniflare to configure and start workerd, {migrations:.2f} s to migrate the databases"
        )
        elapsed = time.perf_counter() - started
        print(f"fleet {args.stack}: {len(fleet.workers)} Workers ready at {fleet.url} in {elapsed:.1f} s (Ctrl-C stops it)", flush=True)
        threading.Event().wait()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        blocked = fleet.close()
        if blocked:
            print(f"  refused {len(blocked)} outbound fetch(es), e.g. {blocked[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
