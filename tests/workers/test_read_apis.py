"""Read APIs in workerd: D1 through the database manager, KV through the cache manager."""

from __future__ import annotations

import json
import re
import time
from datetime import date, timedelta

import pytest

from stacks.catalog import Catalog
from tests.workers.conftest import Start
from tests.workers.stubs import LoopbackStub
from tests.workers.upstream import API_KEY, eastern_date, game, games_by_date_path, json_answer, now_ms
from workers.local import Instance, Reply

INGEST = "blaze-mlb-ingest-live"
SCORES = "blaze-mlb-scores"
SCHEDULE = "blaze-mlb-schedule"
STANDINGS = "blaze-mlb-standings"
PLAYERS = "blaze-mlb-players"
SEARCH = "blaze-search"
STACK_FRAME = re.compile(r"\bat \S+ \(|\.(js|ts):\d+|D1_ERROR|SQLITE")


WORKERS = [INGEST, SCORES, SCHEDULE, STANDINGS, PLAYERS, SEARCH]


@pytest.fixture
def mlb(start: Start, stub: LoopbackStub) -> Instance:
    return start(WORKERS, vars={"UPSTREAM_URL": f"{stub.url}/v3/mlb"}, secrets={"UPSTREAM_API_KEY": API_KEY})


@pytest.fixture(scope="module")
def seeded(module_start: Start) -> Instance:
    """One instance for the injection attempts: each asserts it changed nothing."""
    mf = module_start(WORKERS, secrets={"UPSTREAM_API_KEY": API_KEY})
    insert_game(mf, "g1", "2025-04-01", "NYY", "BOS")
    mf.d1(PLAYERS, "DB", "INSERT INTO players (player_id, team, name, updated_at) VALUES ('p1', 'NYY', 'Aaron Judge', '2025')")
    mf.d1(SEARCH, "DB", "INSERT INTO teams (team_id, sport, abbreviation, name, updated_at) VALUES ('mlb:NYY', 'mlb', 'NYY', 'Yankees', '2025')")
    return mf


def get(mf: Instance, worker: str, path: str) -> Reply:
    return mf.fetch(worker, f"https://api.blazesportsintel.com{path}")


def cached(mf: Instance, worker: str, path: str) -> tuple[str, object]:
    reply = get(mf, worker, path)
    assert reply.status == 200, reply.text
    assert reply.headers["x-cache"] == reply.json()["meta"]["cache"]
    return reply.headers["x-cache"], reply.json()["data"]


def ingest(mf: Instance, stub: LoopbackStub, at_ms: int, payload: list[dict]) -> None:
    stub.answer(games_by_date_path(at_ms), json_answer(payload))
    assert mf.scheduled(INGEST, "*/2 * * * *", at_ms)["outcome"] == "ok"


def insert_game(mf: Instance, game_id: str, day: str, home: str, away: str) -> None:
    mf.d1(SCORES, "DB", "INSERT INTO games (game_id, season, game_date, status, home_team, away_team, updated_at) "
          "VALUES (?, ?, ?, 'final', ?, ?, '2025-01-01')", game_id, int(day[:4]), day, home, away)


def test_a_miss_then_hits_until_the_entry_is_no_longer_fresh(mlb: Instance) -> None:
    insert_game(mlb, "g1", "2025-04-01", "NYY", "BOS")
    status, data = cached(mlb, SCORES, "/api/v1/mlb/scores?date=2025-04-01")
    assert status == "MISS" and [g["game_id"] for g in data] == ["g1"]
    # A past date is history: cached for a day, however the table changes meanwhile.
    insert_game(mlb, "g2", "2025-04-01", "LAD", "SF")
    assert cached(mlb, SCORES, "/api/v1/mlb/scores?date=2025-04-01") == ("HIT", data)
    assert get(mlb, SCORES, "/api/v1/mlb/scores?date=2025-04-01").headers["cache-control"] == "public, max-age=86400, immutable"
    # Another date is another entry.
    assert cached(mlb, SCORES, "/api/v1/mlb/scores?date=2025-04-02") == ("MISS", [])


def test_a_stale_entry_is_served_while_it_revalidates(mlb: Instance) -> None:
    insert_game(mlb, "g1", "2025-04-01", "NYY", "BOS")
    path = "/api/v1/mlb/scores?date=2025-04-01"
    assert cached(mlb, SCORES, path)[0] == "MISS"
    (key,) = [k for k in mlb.kv_list(SCORES, "CACHE", "c:")]
    entry = json.loads(mlb.kv_get(SCORES, "CACHE", key))
    entry["freshUntil"] = int(time.time() * 1000) - 1000  # no longer fresh, still within its stale window
    mlb.kv_put(SCORES, "CACHE", key, json.dumps(entry))
    mlb.d1(SCORES, "DB", "UPDATE games SET home_score = 5, away_score = 4 WHERE game_id = 'g1'")

    status, stale = cached(mlb, SCORES, path)
    assert status == "STALE" and stale[0]["home_score"] is None
    deadline = time.time() + 5
    while True:
        status, fresh = cached(mlb, SCORES, path)
        if status == "HIT" and fresh[0]["home_score"] == 5 or time.time() > deadline:
            break
        time.sleep(0.05)
    assert (status, fresh[0]["home_score"], fresh[0]["away_score"]) == ("HIT", 5, 4)


def test_an_ingestion_run_invalidates_exactly_the_affected_tags(mlb: Instance, stub: LoopbackStub) -> None:
    t0 = now_ms()
    today = eastern_date(t0)
    yesterday = (date.fromisoformat(today) - timedelta(days=1)).isoformat()
    ingest(mlb, stub, t0, [game(1, today, "NYY", "BOS", "InProgress", 1, 0, inning=2), game(2, today, "LAD", "SF")])
    insert_game(mlb, "old", yesterday, "NYY", "TB")
    season = today[:4]
    views = {
        "today": (SCORES, f"/api/v1/mlb/scores?date={today}"),
        "yesterday": (SCORES, f"/api/v1/mlb/scores?date={yesterday}"),
        "game-1": (SCORES, "/api/v1/mlb/scores/1"),
        "game-2": (SCORES, "/api/v1/mlb/scores/2"),
        "nyy-schedule": (SCHEDULE, f"/api/v1/mlb/schedule?team=NYY&from={today}&to={today}"),
        "lad-schedule": (SCHEDULE, f"/api/v1/mlb/schedule?team=LAD&from={today}&to={today}"),
        "standings": (STANDINGS, f"/api/v1/mlb/standings?season={season}"),
        "roster": (PLAYERS, "/api/v1/mlb/players?team=NYY"),
    }
    assert {name: cached(mlb, *view)[0] for name, view in views.items()} == {name: "MISS" for name in views}
    assert {name: cached(mlb, *view)[0] for name, view in views.items()} == {name: "HIT" for name in views}

    # Only game 1 changes (a run scores); game 2 comes back identical.
    ingest(mlb, stub, t0 + 120_000, [game(1, today, "NYY", "BOS", "InProgress", 2, 0, inning=3), game(2, today, "LAD", "SF")])
    after = {name: cached(mlb, *view)[0] for name, view in views.items()}
    assert after == {
        "today": "MISS", "yesterday": "HIT", "game-1": "MISS", "game-2": "HIT",
        "nyy-schedule": "MISS", "lad-schedule": "HIT", "standings": "HIT", "roster": "HIT",
    }
    assert cached(mlb, SCORES, "/api/v1/mlb/scores/1")[1]["home_score"] == 2


@pytest.mark.parametrize(
    ("worker", "path", "status"),
    [
        (SCHEDULE, "/api/v1/mlb/schedule?team=NYY' OR 1 OR 'x", 200),
        (SCHEDULE, "/api/v1/mlb/schedule?team=NYY'); DROP TABLE games; --", 400),
        (SCORES, "/api/v1/mlb/scores?date=2025-04-01' OR 1=1 --", 400),
        (SCORES, "/api/v1/mlb/scores/1%20OR%201=1", 400),
        (SCORES, "/api/v1/mlb/scores/g1'--", 400),
        (PLAYERS, "/api/v1/mlb/players?team=x' OR 1 --", 200),
        (STANDINGS, "/api/v1/mlb/standings?season=2025 OR 1=1", 400),
        (SEARCH, "/api/v1/search?q=%25' OR 1=1; DELETE FROM teams; --", 200),
        (SEARCH, "/api/v1/search?q=x&sport=mlb' OR '1'='1", 400),
    ],
)
def test_sql_injection_in_parameters_changes_nothing(seeded: Instance, worker: str, path: str, status: int) -> None:
    mlb = seeded
    schema = {w: mlb.d1(w, "DB", "SELECT name, sql FROM sqlite_master ORDER BY name") for w in (SCORES, PLAYERS, SEARCH)}

    reply = get(mlb, worker, path)
    assert reply.status == status, reply.text
    if status == 200:
        assert reply.json()["data"] == []
    else:
        assert reply.json()["error"]["code"] == "bad_request"
    assert {w: mlb.d1(w, "DB", "SELECT name, sql FROM sqlite_master ORDER BY name") for w in schema} == schema
    assert mlb.d1(SCORES, "DB", "SELECT COUNT(*) AS n FROM games") == [{"n": 1}]
    assert mlb.d1(PLAYERS, "DB", "SELECT COUNT(*) AS n FROM players") == [{"n": 1}]
    assert mlb.d1(SEARCH, "DB", "SELECT COUNT(*) AS n FROM teams") == [{"n": 1}]


def test_search_matches_text_and_expands_synonyms(mlb: Instance) -> None:
    for doc_id, title in (("t1", "New York Yankees"), ("t2", "Boston Red Sox"), ("t3", "100% Club")):
        mlb.d1(SEARCH, "DB", "INSERT INTO search_documents (doc_id, sport, kind, title, search_text, url, updated_at) "
               "VALUES (?, 'mlb', 'team', ?, lower(?), '/x', '2025')", doc_id, title, title)
    mlb.kv_put(SEARCH, "SYNONYMS", "synonym:yanks", "yankees")
    assert [d["doc_id"] for d in cached(mlb, SEARCH, "/api/v1/search?q=red%20sox")[1]] == ["t2"]
    assert [d["doc_id"] for d in cached(mlb, SEARCH, "/api/v1/search?q=yanks")[1]] == ["t1"]
    assert [d["doc_id"] for d in cached(mlb, SEARCH, "/api/v1/search?q=%25")[1]] == ["t3"]  # '%' is literal


def test_errors_come_back_in_one_shape_without_internals(mlb: Instance) -> None:
    cases = [
        (get(mlb, SCORES, "/api/v1/mlb/scores/nope"), 404, "not_found"),
        (get(mlb, SCORES, "/api/v1/nfl/scores"), 404, "not_found"),
        (mlb.fetch(SCORES, "https://api.blazesportsintel.com/api/v1/mlb/scores", "POST"), 405, "method_not_allowed"),
        (get(mlb, SCHEDULE, "/api/v1/mlb/schedule?from=2025-01-01&to=2025-12-31"), 400, "bad_request"),
        (get(mlb, PLAYERS, "/api/v1/mlb/players"), 400, "bad_request"),
    ]
    for reply, status, code in cases:
        assert (reply.status, reply.json()["error"]["code"]) == (status, code), reply.text
        assert set(reply.json()) == {"error"} and not STACK_FRAME.search(reply.text)
    mlb.d1(SCORES, "DB", "DROP TABLE games")
    broken = get(mlb, SCORES, "/api/v1/mlb/scores?date=2025-04-01")
    assert (broken.status, broken.json()) == (500, {"error": {"code": "internal", "message": "internal error"}})
    assert not STACK_FRAME.search(broken.text)


def test_every_catalog_read_api_serves_its_dataset(start: Start, catalog: Catalog) -> None:
    apis = [w for w in catalog.workers if w.family == "api"]
    mf = start([w.name for w in apis])
    for worker in apis:
        sport, dataset = worker.vars["SPORT"], worker.vars["DATASET"]
        base = f"/api/v1/{dataset}" if sport == "all" else f"/api/v1/{sport}/{dataset}"
        query = {"players": "?team=NYY", "odds": "?sport=mlb", "search": "?q=york", "teams": "?sport=mlb"}.get(dataset, "")
        reply = get(mf, worker.name, base + query)
        assert reply.status == 200, (worker.name, reply.text)
        assert reply.json() == {"data": [], "meta": {"sport": sport, "dataset": dataset, "cache": "MISS"}}, worker.name


def test_odds_arrive_through_their_feed_and_are_served_with_their_lines(start: Start, stub: LoopbackStub) -> None:
    mf = start(["blaze-odds-ingest", "blaze-odds"], vars={"UPSTREAM_URL": f"{stub.url}/v4"}, secrets={"UPSTREAM_API_KEY": API_KEY})
    event = {
        "id": "e1", "sport_key": "baseball_mlb", "commence_time": "2099-04-01T23:05:00Z",
        "home_team": "New York Yankees", "away_team": "Boston Red Sox",
        "bookmakers": [{"key": "draftkings", "markets": [
            {"key": "h2h", "outcomes": [{"name": "New York Yankees", "price": 1.8}, {"name": "Boston Red Sox", "price": 2.05}]},
            {"key": "totals", "outcomes": [{"name": "Over", "price": 1.91, "point": 8.5}, {"name": "Under", "price": 1.91, "point": 8.5}]},
        ]}],
    }
    stub.answer("/v4/sports/upcoming/odds", json_answer([event]))
    assert mf.scheduled("blaze-odds-ingest", "*/10 * * * *", now_ms())["outcome"] == "ok"
    (request,) = stub.received()
    assert f"apiKey={API_KEY}" in request.path  # this provider takes its key in the query
    status, data = cached(mf, "blaze-odds", "/api/v1/odds?sport=mlb")
    assert status == "MISS" and [e["event_id"] for e in data] == ["e1"]
    assert sorted((l["market"], l["outcome"], l["price"], l["point"]) for l in data[0]["lines"]) == [
        ("h2h", "Boston Red Sox", 2.05, None), ("h2h", "New York Yankees", 1.8, None),
        ("totals", "Over", 1.91, 8.5), ("totals", "Under", 1.91, 8.5),
    ]
    assert cached(mf, "blaze-odds", "/api/v1/odds/e1")[1]["lines"] == data[0]["lines"]

    event["bookmakers"][0]["markets"][0]["outcomes"][0]["price"] = 1.75
    stub.answer("/v4/sports/upcoming/odds", json_answer([event]))
    assert mf.scheduled("blaze-odds-ingest", "*/10 * * * *", now_ms())["outcome"] == "ok"
    assert cached(mf, "blaze-odds", "/api/v1/odds?sport=mlb")[0] == "MISS"

    stub.answer("/v4/sports/upcoming/odds", json_answer({"message": "quota"}, status=401))
    assert mf.scheduled("blaze-odds-ingest", "*/10 * * * *", now_ms())["outcome"] == "exception"
    ledger = mf.d1("blaze-odds-ingest", "LOG", "SELECT status, error FROM ingest_runs ORDER BY id")
    assert [r["status"] for r in ledger] == ["ok", "ok", "failed"]
    assert API_KEY not in json.dumps(ledger) and mf.blocked() == []
