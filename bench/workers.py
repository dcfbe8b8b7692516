"""Workers in workerd on this machine: cached read latency, upload throughput, and one
ingestion run of a whole MLB season (its time and its KV operations).

Requests go over real HTTP (keep-alive) to the port Miniflare opens for the entry
Worker, so each number includes workerd's HTTP handling, as a client would see it
locally; they say nothing about Cloudflare's network.
"""

from __future__ import annotations

import http.client
import os
import statistics
import tempfile
import time
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from local.driver import Driver, Instance
from local.fixtures import SEASON_GAMES, FixtureServer, season_games
from stacks import PROJECT_ROOT
from stacks.catalog import load_catalog

READS = 1000
UPLOAD_MIB = 16
# Ours for a local run; the seed's production figure is reads under 200 ms at the edge.
READ_TARGET_P99_MS = 20.0


def _connection(instance: Instance) -> http.client.HTTPConnection:
    url = urlsplit(instance.url)
    return http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=60)


def _request(connection: http.client.HTTPConnection, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], float]:
    start = time.perf_counter()
    connection.request(method, path, body=body, headers=headers or {})
    response = connection.getresponse()
    response.read()
    elapsed = time.perf_counter() - start
    return response.status, {k.lower(): v for k, v in response.getheaders()}, elapsed


def _percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def measure_reads(driver: Driver) -> list[str]:
    catalog = load_catalog(PROJECT_ROOT)
    instance = driver.start(catalog, ["blaze-mlb-scores"])
    try:
        for i in range(15):
            instance.d1("blaze-mlb-scores", "DB", "INSERT INTO games (game_id, season, game_date, status, home_team, away_team, home_score, away_score, updated_at) "
                        "VALUES (?, 2024, '2024-07-04', 'final', ?, ?, 3, 2, '2024')", f"g{i}", f"H{i}", f"A{i}")
        connection = _connection(instance)
        path = "/api/v1/mlb/scores?date=2024-07-04"
        status, headers, _ = _request(connection, "GET", path)
        assert status == 200 and headers["x-cache"] == "MISS", (status, headers)
        hits = []
        for _ in range(READS):
            status, headers, elapsed = _request(connection, "GET", path)
            assert status == 200 and headers["x-cache"] == "HIT"
            hits.append(elapsed * 1000)
        misses = []
        for day in range(1, 29):
            status, headers, elapsed = _request(connection, "GET", f"/api/v1/mlb/scores?date=2024-08-{day:02d}")
            assert status == 200 and headers["x-cache"] == "MISS"
            misses.append(elapsed * 1000)
        connection.close()
    finally:
        instance.close()
    p99 = _percentile(hits, 0.99)
    verdict = "meets" if p99 <= READ_TARGET_P99_MS else "misses"
    return [
        "## Cached reads in workerd (`blaze-mlb-scores`, KV cache HIT)",
        "",
        f"{READS} sequential GETs of one day's scores (15 games) over keep-alive HTTP to Miniflare.",
        "",
        "| requests | p50 | p99 | max |",
        "|---|---|---|---|",
        f"| cache HIT | {statistics.median(hits):.2f} ms | {p99:.2f} ms | {max(hits):.2f} ms |",
        f"| cache MISS (D1 query + KV writes), {len(misses)} | {statistics.median(misses):.2f} ms | {_percentile(misses, 0.99):.2f} ms | {max(misses):.2f} ms |",
        "",
        f"Target: cached p99 under {READ_TARGET_P99_MS:.0f} ms; this run {verdict} it.",
        "",
    ]


def measure_uploads(driver: Driver, runs: int) -> list[str]:
    catalog = load_catalog(PROJECT_ROOT)
    token = os.urandom(16).hex()
    size = UPLOAD_MIB * 1024 * 1024
    body = b"\x89PNG\r\n\x1a\n" + os.urandom(size - 8)
    with tempfile.TemporaryDirectory() as state:
        # On disk, as R2 keeps objects in Miniflare's file store when persisted.
        instance = driver.start(catalog, ["blaze-storage"], secrets={"UPLOAD_TOKEN": token}, persist=Path(state))
        try:
            connection = _connection(instance)
            headers = {"authorization": f"Bearer {token}", "content-type": "image/png", "content-length": str(size)}
            seconds = []
            for run in range(runs):
                status, _, elapsed = _request(connection, "PUT", f"/api/media/objects/bench/{run}.png", body, headers)
                assert status == 201, status
                seconds.append(elapsed)
            connection.close()
        finally:
            instance.close()
    rates = [UPLOAD_MIB / s for s in seconds]
    return [
        "## Uploads in workerd (`blaze-storage`, single PUT into R2 on disk)",
        "",
        f"{runs} uploads of {UPLOAD_MIB} MiB each: magic-byte check, stream into R2, metadata row in D1.",
        "",
        "| uploads | median throughput | slowest | median time |",
        "|---|---|---|---|",
        f"| {UPLOAD_MIB} MiB | {statistics.median(rates):.1f} MiB/s | {min(rates):.1f} MiB/s | {statistics.median(seconds) * 1000:.0f} ms |",
        "",
    ]


def measure_ingestion(driver: Driver, runs: int) -> list[str]:
    worker, kv = "blaze-mlb-ingest-schedule", ("CACHE", "CURSORS", "ETAGS")
    catalog = load_catalog(PROJECT_ROOT)
    at_ms = int(time.time() * 1000)
    season = int(datetime.fromtimestamp(at_ms / 1000, ZoneInfo("America/New_York")).strftime("%Y"))
    # SportsDataIO's schedule feed of the season: every game, no standings or stadiums.
    games: list[dict[str, object]] = []
    upstream = FixtureServer(answers=lambda path: (200, games if path.startswith(f"/v3/mlb/scores/json/Games/{season}") else []))
    seconds: dict[str, list[float]] = {"insert": [], "change": []}
    operations: dict[str, int] = {}
    try:
        for _ in range(runs):
            instance = driver.start(catalog, [worker], vars={"UPSTREAM_URL": f"{upstream.url}/v3/mlb"},
                                    secrets={"UPSTREAM_API_KEY": "bench"}, count_kv=[(worker, binding) for binding in kv])
            try:
                for step, scores in (("insert", 1), ("change", 2)):
                    games[:] = season_games(season, scores)
                    began = time.perf_counter()
                    assert instance.scheduled(worker, "7 * * * *", at_ms)["outcome"] == "ok"
                    seconds[step].append(time.perf_counter() - began)
                    operations[step] = sum(sum(instance.kv_operations(worker, binding).values()) for binding in kv)
            finally:
                instance.close()
    finally:
        upstream.close()
    return [
        f"## A whole season in one ingestion run (`{worker}`)",
        "",
        f"{SEASON_GAMES} games of SportsDataIO's schedule feed from loopback, written by one cron run into a fresh",
        f"local D1, then all of them changed by the next; median of {runs} fresh instances. KV operations are",
        "counted on the Worker's bindings (Cloudflare allows 1,000 per invocation; workerd does not count).",
        "",
        "| run | wall time | KV operations |",
        "|---|---|---|",
        *(f"| {step}: {SEASON_GAMES} games {'written' if step == 'insert' else 'changed'} | {statistics.median(seconds[step]) * 1000:.0f} ms | {operations[step]} |" for step in seconds),
        "",
    ]


def measure_workers(runs: int) -> list[str]:
    """The Markdown section for BENCHMARKS.md (bench/__main__.py)."""
    driver = Driver(PROJECT_ROOT)
    try:
        return measure_reads(driver) + measure_uploads(driver, runs) + measure_ingestion(driver, runs)
    finally:
        driver.close()


if __name__ == "__main__":
    print("\n".join(measure_workers(5)))
