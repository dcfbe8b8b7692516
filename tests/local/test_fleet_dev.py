"""`make dev` without WORKER: the whole staging fleet in one Miniflare, through its front door.

The fleet runs as `make dev` runs it (`python -m local.fleet`), once for the module, on a
loopback port; every request below goes over HTTP to that port with a Host header, as
Cloudflare would route it. One Worker is started broken on purpose (`--var`, the same
option a developer has): blaze-nfl-scores with a DATASET that names no dataset.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import quote_plus

import pytest

from local.fixtures import games_on
from local.fleet import ROUTE_OVERRIDE
from stacks.catalog import Catalog
from stacks.stack_file import stack_settings
from tests.conftest import ROOT
from tests.local.test_dev import _free_port
from tests.workers.upstream import eastern_date, now_ms

READY = re.compile(r"^fleet staging: (\d+) Workers ready at (http://127\.0\.0\.1:\d+) in [\d.]+ s \(Ctrl-C stops it\)$")
BROKEN = "blaze-nfl-scores"
HOSTS = {key: host.hostname for key, host in stack_settings("staging").hosts.items()}


@dataclass
class Fleet:
    url: str
    workers: int
    api_key: str
    secrets: dict[str, str]
    lines: list[str]

    def get(self, host: str, path: str, headers: dict[str, str] | None = None) -> tuple[int, Any]:
        request = urllib.request.Request(self.url + path, headers={"Host": host, **(headers or {})})
        try:
            with urllib.request.urlopen(request, timeout=30) as reply:
                return reply.status, json.loads(reply.read())
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read())

    def api(self, path: str, key: str | None = None) -> tuple[int, Any]:
        return self.get(HOSTS["api"], path, {"x-api-key": key} if key else {})

    def cron(self, worker: str, cron: str) -> tuple[int, str]:
        """Fires `worker`'s cron the documented way: the trigger endpoint, the Worker named."""
        request = urllib.request.Request(f"{self.url}/cdn-cgi/handler/scheduled?cron={quote_plus(cron)}", headers={ROUTE_OVERRIDE: worker})
        try:
            with urllib.request.urlopen(request, timeout=60) as reply:
                return reply.status, reply.read().decode()
        except urllib.error.HTTPError as err:
            return err.code, err.read().decode()


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    home = tmp_path_factory.mktemp("fleet")
    secrets_file = home / "secrets.json"
    process = subprocess.Popen(
        [sys.executable, "-m", "local.fleet", "--port", str(_free_port()), "--state", str(home / "state"),
         "--secrets", str(secrets_file), "--fresh", "--var", f"{BROKEN}:DATASET=no-such-dataset"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    assert process.stdout
    lines: list[str] = []
    ready = None
    for line in process.stdout:
        lines.append(line.rstrip("\n"))
        ready = READY.match(lines[-1])
        if ready:
            break
    if ready is None:
        process.wait(timeout=10)
        raise AssertionError("the fleet stopped before it was ready:\n" + "\n".join(lines))
    (api_key,) = {m.group(1) for line in lines if (m := re.search(r"local API key: (\S+)", line))}
    try:
        yield Fleet(ready.group(2), int(ready.group(1)), api_key, json.loads(secrets_file.read_text()), lines)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            rest, _ = process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()  # fail without leaving the fleet behind
            raise
    assert process.returncode == 0, rest
    # Nothing the fleet ran reached past loopback: the driver refused and the fleet says so.
    assert "refused" not in rest, rest


def test_one_ready_line_counts_every_worker_of_the_catalog(fleet: Fleet, catalog: Catalog) -> None:
    assert fleet.workers == len(catalog.workers) == 72
    assert sum(1 for line in fleet.lines if READY.match(line)) == 1


def test_a_keyed_gateway_request_reaches_a_read_api_and_without_a_key_it_is_refused(fleet: Fleet) -> None:
    status, body = fleet.api("/api/v1/mlb/standings")
    assert status == 401 and body["error"]["code"] == "unauthorized", body
    status, body = fleet.api("/api/v1/mlb/standings", "dev-not-a-key")
    assert status == 401, body
    status, body = fleet.api("/api/v1/mlb/standings", fleet.api_key)
    # The answer is the read API's own (its meta), reached over the gateway's service binding.
    assert status == 200 and body["meta"] == {
        "sport": "mlb", "dataset": "standings", "cache": "MISS",
        "page": {"limit": 500, "offset": 0, "returned": 0, "truncated": False, "nextOffset": None}}, body


def test_routes_follow_the_stacks_hosts_and_paths(fleet: Fleet) -> None:
    # The gateway's route on the site host and its custom domain are the same Worker.
    status, body = fleet.get(HOSTS["site"], "/api/v1/mlb/standings", {"x-api-key": fleet.api_key})
    assert status == 200 and body["meta"]["dataset"] == "standings", body
    # blaze-storage answers its route on the site and its whole custom domain.
    for host, path in ((HOSTS["site"], "/api/media/objects"), (HOSTS["media"], "/api/media/objects")):
        status, body = fleet.get(host, path)
        assert status == 200 and "objects" in json.dumps(body), (host, body)
    # A path of the site that no route covers, and a host of no stack, reach no Worker.
    for host, path in ((HOSTS["site"], "/about"), ("example.com", "/api/v1/mlb/standings")):
        status, body = fleet.get(host, path)
        assert status == 404 and body["error"] == "no_route", (host, path, body)


def test_an_ingestion_run_on_the_fixture_server_is_served_fresh_through_the_gateway(fleet: Fleet, catalog: Catalog) -> None:
    today = eastern_date(now_ms())
    path = f"/api/v1/mlb/scores?date={today}"
    status, before = fleet.api(path, fleet.api_key)
    assert status == 200 and before["data"] == [], before
    status, cached = fleet.api(path, fleet.api_key)
    assert cached["meta"]["cache"] == "HIT", cached

    assert fleet.cron("blaze-mlb-ingest-live", catalog.worker("blaze-mlb-ingest-live").crons[0]) == (200, "ok")

    status, after = fleet.api(path, fleet.api_key)
    expected = {str(g["GameID"]): g["HomeTeam"] for g in games_on(today)}
    assert status == 200 and {g["game_id"]: g["home_team"] for g in after["data"]} == expected, after
    # Fresh: the run invalidated the cached empty day by tag; the read went to D1 again.
    assert after["meta"]["cache"] == "MISS", after


def test_the_monitors_cron_records_every_database_the_catalog_binds_to_it(fleet: Fleet, catalog: Catalog) -> None:
    monitor = catalog.worker("blaze-monitor")
    token = fleet.secrets[monitor.secrets["DASHBOARD_TOKEN"]]
    collect = next(c for c in monitor.crons if c != monitor.vars["REPORT_CRON"])
    assert fleet.cron("blaze-monitor", collect) == (200, "ok")
    status, body = fleet.get(HOSTS["site"], "/api/monitor/metrics/latest", {"authorization": f"Bearer {token}"})
    assert status == 200, body
    measured = {m["database"]: m for m in body["databases"]}
    assert set(measured) == set(monitor.d1)
    failed = {name: m["error"] for name, m in measured.items() if m["error"] is not None or m["sizeBytes"] is None}
    assert failed == {}


def test_a_failing_worker_answers_5xx_and_the_others_keep_serving(fleet: Fleet) -> None:
    status, body = fleet.api("/api/v1/nfl/scores", fleet.api_key)
    assert status == 500 and body["error"]["code"] == "misconfigured", body
    for path in ("/api/v1/mlb/standings", "/api/v1/nfl/standings", "/api/v1/nba/scores"):
        status, body = fleet.api(path, fleet.api_key)
        assert status == 200, (path, body)
    status, body = fleet.api("/api/v1/nfl/scores", fleet.api_key)
    assert status == 500, body


def test_an_unknown_stack_is_refused_naming_its_file(tmp_path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "local.fleet", "--stack", "dev", "--state", str(tmp_path / "state"), "--secrets", str(tmp_path / "s.json")],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )
    assert done.returncode == 2 and "Pulumi.dev.yaml" in done.stderr and "no such stack file" in done.stderr
