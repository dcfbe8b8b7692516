"""The gateway Worker in workerd, in front of every read API over service bindings."""

from __future__ import annotations

import hashlib
import json
import time

import pytest

from local.driver import Instance, Reply
from stacks.catalog import Catalog
from tests.conftest import Start

WORKER = "blaze-gateway"
KEY = "partner-key-0c41f2"
# Requests with an invalid key one address may send per window (workers/README.md, "Gateway").
MAX_FAILED_KEYS = 10


def register(mf: Instance, key: str, **record: object) -> None:
    digest = hashlib.sha256(key.encode()).hexdigest()
    mf.kv_put(WORKER, "API_KEYS", f"key:{digest}", json.dumps({"name": "test partner", **record}))


@pytest.fixture(scope="module")
def gateway(module_start: Start) -> Instance:
    """One gateway and its 39 APIs for the module (41 Workers take seconds to start):
    each test uses its own keys, flags, dates and sports, and undoes what it switches."""
    mf = module_start([WORKER])
    register(mf, KEY)
    return mf


def call(mf: Instance, path: str, key: str | None = KEY, **headers: str) -> Reply:
    sent = {"x-api-key": key} if key else {}
    return mf.fetch(WORKER, f"https://api.blazesportsintel.com{path}", headers={**sent, **headers})


def test_every_service_binding_is_reachable_through_its_path(gateway: Instance, catalog: Catalog) -> None:
    services = catalog.worker(WORKER).services
    assert len(services) == len([w for w in catalog.workers if w.family == "api"])
    queries = {"players": "?team=NYY", "odds": "?sport=mlb", "search": "?q=x", "teams": "?sport=mlb"}
    for binding, target in services.items():
        sport, dataset = catalog.worker(target).vars["SPORT"], catalog.worker(target).vars["DATASET"]
        path = f"/api/v1/{dataset}" if sport == "all" else f"/api/v1/{sport}/{dataset}"
        reply = call(gateway, path + queries.get(dataset, ""))
        assert reply.status == 200, (binding, reply.text)
        meta = reply.json()["meta"]
        assert (meta["sport"], meta["dataset"]) == (sport, dataset), binding
        assert int(reply.headers["ratelimit-remaining"]) >= 0


def test_requests_without_a_valid_key_are_refused(gateway: Instance) -> None:
    register(gateway, "disabled-key", disabled=True)
    for key in (None, "not-a-key", "disabled-key"):
        reply = call(gateway, "/api/v1/mlb/scores", key)
        assert (reply.status, reply.json()["error"]["code"]) == (401, "unauthorized"), key
    assert call(gateway, "/api/v1/mlb/scores", None, authorization=f"Bearer {KEY}").status == 200


def test_paths_reach_only_services(gateway: Instance) -> None:
    for path in ("/api/v1/api/keys", "/api/v1/rate/limits", "/api/v1/mlb/nothing", "/api/v1/MLB/scores", "/api/v2/mlb/scores", "/api/v1/"):
        reply = call(gateway, path)
        assert (reply.status, reply.json()["error"]["code"]) == (404, "not_found"), path
    assert call(gateway, "/api/v1/mlb/scores").status == 200
    posted = gateway.fetch(WORKER, "https://api.blazesportsintel.com/api/v1/mlb/scores", "POST", headers={"x-api-key": KEY})
    assert posted.json()["error"]["code"] == "method_not_allowed"


def test_each_key_has_its_own_rate_limit(gateway: Instance) -> None:
    register(gateway, "small-key", rateLimit=2)
    statuses = [call(gateway, "/api/v1/mlb/standings", "small-key").status for _ in range(3)]
    assert statuses == [200, 200, 429]
    limited = call(gateway, "/api/v1/mlb/standings", "small-key")
    assert limited.json()["error"]["code"] == "rate_limited" and int(limited.headers["retry-after"]) >= 1
    assert call(gateway, "/api/v1/mlb/standings").status == 200  # another key is not affected


def test_a_route_can_be_switched_off_by_flag(gateway: Instance) -> None:
    gateway.kv_put(WORKER, "FLAGS", "route:CBASE_STATS", "off")
    off = call(gateway, "/api/v1/cbase/stats")
    assert (off.status, off.json()["error"]["code"]) == (503, "route_disabled")
    assert call(gateway, "/api/v1/cbase/standings").status == 200
    gateway.kv_put(WORKER, "FLAGS", "route:CBASE_STATS", "on")
    assert call(gateway, "/api/v1/cbase/stats").status == 200


def test_the_ticker_is_served_from_its_snapshot(gateway: Instance) -> None:
    snapshot = {"sport": "mlb", "updatedAt": "2025-04-01T20:00:00Z", "games": [{"game_id": "1", "status": "in_progress"}]}
    gateway.kv_put(WORKER, "TICKER", "ticker:mlb", json.dumps(snapshot))
    assert call(gateway, "/api/v1/ticker?sport=mlb").json() == snapshot
    assert call(gateway, "/api/v1/ticker?sport=nfl").status == 404
    assert call(gateway, "/api/v1/ticker").status == 400


def insert_past_game(mf: Instance, game_id: str, day: str) -> None:
    mf.d1("blaze-nba-scores", "DB", "INSERT INTO games (game_id, season, game_date, status, home_team, away_team, updated_at) "
          "VALUES (?, ?, ?, 'final', 'NYY', 'BOS', '2024')", game_id, int(day[:4]), day)


def test_answers_are_kept_whole_at_the_gateway_for_a_minute_at_most(gateway: Instance) -> None:
    insert_past_game(gateway, "g1", "2024-09-01")
    first = call(gateway, "/api/v1/nba/scores?date=2024-09-01")
    second = call(gateway, "/api/v1/nba/scores?date=2024-09-01")
    assert (first.headers["x-gateway-cache"], second.headers["x-gateway-cache"]) == ("MISS", "HIT")
    assert first.json()["data"] == second.json()["data"] and [g["game_id"] for g in second.json()["data"]] == ["g1"]
    # The copy says it is one, in its header and its meta, not what the first answer said.
    assert (first.headers["x-cache"], first.json()["meta"]["cache"]) == ("MISS", "MISS")
    assert (second.headers["x-cache"], second.json()["meta"]["cache"]) == ("HIT", "HIT")
    # Ingestion rewrites past games (those ending after midnight), and only the API's own
    # cache hears of it: the gateway's copy must not outlive a minute, nor claim to be final.
    assert "immutable" not in first.headers["cache-control"]
    kept = gateway.kv_expirations(WORKER, "CACHE", "response:")
    assert kept and all(expiration is not None and expiration <= time.time() + 61 for expiration in kept.values()), kept
    live = call(gateway, "/api/v1/nba/scores")  # today: live data is never kept at the gateway
    assert "x-gateway-cache" not in live.headers


def test_long_urls_are_answered_and_kept_under_a_bounded_key(gateway: Instance) -> None:
    insert_past_game(gateway, "g2", "2024-09-02")
    tracked = "/api/v1/nba/scores?date=2024-09-02&utm_campaign=" + "x" * 1000
    first, second = call(gateway, tracked), call(gateway, tracked)
    assert (first.status, second.status) == (200, 200), first.text
    assert (first.headers["x-gateway-cache"], second.headers["x-gateway-cache"]) == ("MISS", "HIT")
    assert [g["game_id"] for g in second.json()["data"]] == ["g2"]
    assert all(len(key.encode()) <= 512 for key in gateway.kv_list(WORKER, "CACHE"))
    bad = call(gateway, "/api/v1/nba/scores?date=" + "9" * 600)  # a bad value the API refuses, at length
    assert (bad.status, bad.json()["error"]["code"]) == (400, "bad_request")
    too_long = call(gateway, "/api/v1/nba/scores?date=2024-09-02&x=" + "y" * 2048)
    assert (too_long.status, too_long.json()["error"]["code"]) == (414, "uri_too_long")


def test_head_is_served_and_allowed(gateway: Instance) -> None:
    head = gateway.fetch(WORKER, "https://api.blazesportsintel.com/api/v1/mlb/standings", "HEAD", headers={"x-api-key": KEY})
    assert (head.status, head.body) == (200, b"")
    posted = gateway.fetch(WORKER, "https://api.blazesportsintel.com/api/v1/mlb/standings", "POST", headers={"x-api-key": KEY})
    assert posted.status == 405 and posted.headers["allow"] == "GET, HEAD"


def test_invalid_keys_are_rate_limited_per_address(gateway: Instance) -> None:
    register(gateway, "valid-key-of-b")
    guesser = {"cf-connecting-ip": "203.0.113.7"}
    refused = [call(gateway, "/api/v1/mlb/standings", f"guess-{i}", **guesser).status for i in range(MAX_FAILED_KEYS + 2)]
    assert refused == [401] * MAX_FAILED_KEYS + [429, 429]
    # Once over, even a valid key from that address is refused: a guess must teach nothing.
    held = call(gateway, "/api/v1/mlb/standings", KEY, **guesser)
    assert (held.status, held.json()["error"]["code"]) == (429, "rate_limited") and int(held.headers["retry-after"]) >= 1
    # Another address is not held back, with a valid key or a wrong one.
    other = {"cf-connecting-ip": "198.51.100.9"}
    assert call(gateway, "/api/v1/mlb/standings", "valid-key-of-b", **other).status == 200
    assert call(gateway, "/api/v1/mlb/standings", "guess-x", **other).status == 401
