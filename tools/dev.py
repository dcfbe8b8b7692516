"""Run one Worker locally in workerd (Miniflare), as the catalog declares it.

    make dev WORKER=blaze-storage [PORT=8787] [ARGS="--var MAX_UPLOAD_BYTES=1048576 --fresh"]

The Worker runs from the same bundle the program deploys, with the catalog's bindings,
its service-binding targets, and local D1, KV and R2 kept in build/dev/state (in
wrangler's layout) with every bound database's migrations applied. Secret bindings take
their value from the environment variable of the same name, or a random local value
that is printed. Ctrl-C stops it.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import signal
import sys
import threading

from stacks import PROJECT_ROOT
from stacks.catalog import load_catalog
from workers.local import Driver, DriverError

STATE = PROJECT_ROOT / "build" / "dev" / "state"
# Secret bindings whose value is an address, not a token: a random string would not
# even be a URL, so they default to a closed local port.
_URL_SUFFIX = "_URL"
_CLOSED_PORT_URL = "http://127.0.0.1:9/"


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
    args = parser.parse_args(argv)

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
        shutil.rmtree(STATE, ignore_errors=True)
    STATE.mkdir(parents=True, exist_ok=True)

    driver = Driver(PROJECT_ROOT)
    try:
        instance = driver.start(catalog, [args.worker], vars=_pairs(args.var), secrets=values, persist=STATE, port=args.port, triggers=True)
    except DriverError as err:
        print(f"error: {err}", file=sys.stderr)
        driver.close()
        return 1
    url = instance.url.rstrip("/")
    print(f"{args.worker} ({worker.family}) is running at {url}")
    print(f"  state: {STATE.relative_to(PROJECT_ROOT)} (migrations applied to {len(worker.d1)} database(s))")
    for route in worker.routes:
        print(f"  deployed at {route.host}{route.path}; try: curl {url}{route.path.rstrip('*')}")
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
