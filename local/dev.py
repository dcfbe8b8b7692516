"""Run one Worker locally in workerd (Miniflare), as the catalog declares it.

    make dev WORKER=blaze-storage [PORT=8787] [ARGS="--var MAX_UPLOAD_BYTES=1048576 --fresh"]

It prints where each route is deployed (the hostname in every stack) and a curl that
answers locally (tests/local/test_dev.py runs each printed curl).

The Worker runs from the same bundle the program deploys, with the catalog's bindings,
its service-binding targets, and local D1, KV and R2 kept in build/dev/state (in
wrangler's layout) with every bound database's migrations applied. Secret bindings take
their value from the environment variable of the same name, or a random local value
that is printed. Ctrl-C stops it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import secrets
import shutil
import signal
import sys
import threading
from pathlib import Path

from local.driver import Driver, DriverError, Instance
from stacks import PROJECT_ROOT
from stacks.catalog import Worker, load_catalog
from stacks.stack_file import stack_settings

STATE = PROJECT_ROOT / "build" / "dev" / "state"
# Secret bindings whose value is an address, not a token: a random string would not
# even be a URL, so they default to a closed local port.
_URL_SUFFIX = "_URL"
_CLOSED_PORT_URL = "http://127.0.0.1:9/"


# Per family, a request under the Worker's route that answers on fresh local state, and
# the secret binding it sends as a Bearer token, if it needs one.
_EXAMPLES: dict[str, tuple[str, str | None]] = {
    "storage": ("/api/media/objects", None),
    "monitor": ("/api/monitor/alerts", "DASHBOARD_TOKEN"),
    "gateway": ("/api/v1/teams?sport=mlb", None),
}
# The gateway takes API keys whose hashes live in this namespace (workers/src/gateway/keys.ts).
API_KEYS_BINDING = "API_KEYS"


def _hostnames(host: str) -> list[str]:
    """`<hostname> (<stack>)` for each stack whose settings name the host key."""
    found = []
    for path in sorted(PROJECT_ROOT.glob("Pulumi.*.yaml")):
        stack = path.name.split(".")[1]
        hosts = stack_settings(stack).hosts
        if host in hosts:
            found.append(f"{hosts[host].hostname} ({stack})")
    return found


def local_api_key(instance: Instance, worker: Worker) -> str | None:
    """An API key for the local gateway, its hash stored as the gateway looks it up."""
    if API_KEYS_BINDING not in worker.kv:
        return None
    key = f"dev-{secrets.token_hex(16)}"
    digest = hashlib.sha256(key.encode()).hexdigest()
    instance.kv_put(worker.name, API_KEYS_BINDING, f"key:{digest}", json.dumps({"name": "make-dev"}))
    return key


def route_hints(worker: Worker, url: str, api_key: str | None, secret_values: dict[str, str]) -> list[str]:
    lines = []
    path, bearer = _EXAMPLES.get(worker.family, ("", None))
    header = f" -H 'x-api-key: {api_key}'" if api_key else ""
    if bearer and bearer in secret_values:
        header += f" -H 'authorization: Bearer {secret_values[bearer]}'"
    for route in worker.routes:
        where = ", ".join(f"https://{name}" for name in _hostnames(route.host)) or f"host {route.host!r}"
        lines.append(f"  route {route.path} deployed on {where}")
        if path and path.startswith(route.path.rstrip("*")):
            lines.append(f"    try: curl{header} '{url}{path}'")
    return lines


def _pairs(items: list[str]) -> dict[str, str]:
    pairs = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"error: --var {item!r} is not NAME=VALUE")
        pairs[name] = value
    return pairs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("worker", help="a Worker name from stacks/catalog/workers.yaml")
    parser.add_argument("--port", type=int, default=8787)
    parser.add_argument("--var", action="append", default=[], help="NAME=VALUE replacing a catalog var (repeatable)")
    parser.add_argument("--fresh", action="store_true", help="start from empty local state")
    parser.add_argument("--state", type=Path, default=STATE, help=f"local state folder (default {STATE.relative_to(PROJECT_ROOT)})")
    args = parser.parse_args(argv)
    state: Path = args.state.resolve()

    catalog = load_catalog(PROJECT_ROOT)
    names = {w.name for w in catalog.workers}
    if args.worker not in names:
        print(f"error: no Worker {args.worker!r} in the catalog (e.g. {', '.join(sorted(names)[:4])}, ...)", file=sys.stderr)
        return 2
    worker = catalog.worker(args.worker)
    values: dict[str, str] = {}
    generated: dict[str, str] = {}
    for kind, _, binding, _ in worker.bindings():
        if kind != "secret":
            continue
        if binding in os.environ:
            values[binding] = os.environ[binding]
        else:
            values[binding] = _CLOSED_PORT_URL if binding.endswith(_URL_SUFFIX) else f"dev-{secrets.token_hex(12)}"
            generated[binding] = values[binding]
    if args.fresh:
        shutil.rmtree(state, ignore_errors=True)
    state.mkdir(parents=True, exist_ok=True)

    driver = Driver(PROJECT_ROOT)
    try:
        instance = driver.start(catalog, [args.worker], vars=_pairs(args.var), secrets=values, persist=state, port=args.port, triggers=True)
    except DriverError as err:
        print(f"error: {err}", file=sys.stderr)
        driver.close()
        return 1
    url = instance.url.rstrip("/")
    print(f"{args.worker} ({worker.family}) is running at {url}")
    shown = state.relative_to(PROJECT_ROOT) if state.is_relative_to(PROJECT_ROOT) else state
    print(f"  state: {shown} (migrations applied to {len(worker.d1)} database(s))")
    api_key = local_api_key(instance, worker)
    for line in route_hints(worker, url, api_key, values):
        print(line)
    if api_key:
        print(f"  local API key: {api_key} (its hash is in the local {API_KEYS_BINDING} namespace)")
    for cron in worker.crons:
        print(f"  cron {cron!r}: curl '{url}/cdn-cgi/handler/scheduled?cron={cron.replace(' ', '+')}'")
    for binding, value in sorted(generated.items()):
        print(f"  secret {binding} = {value}   (set {binding}=... in the environment to choose it)")
    if len(instance.workers) > 1:
        print(f"  with its service targets: {len(instance.workers) - 1} more Workers")
    print("  outbound fetches reach only 127.0.0.1 (point UPSTREAM_URL or a webhook at a local server with --var or the environment)")
    print("Ctrl-C stops it.", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        threading.Event().wait()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        instance.close()
        driver.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
