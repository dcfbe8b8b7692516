"""Read APIs in workerd: D1 through the database manager, KV through the cache manager."""

from __future__ import annotations

import json
import re
import time
from datetime import date, timedelta
from urllib.parse import quote

import pytest

from local.driver import Instance, Reply
from stacks.catalog import Catalog
from tests.conftest import Start
from tests.workers.stubs import LoopbackStub
from tests.workers.upstream import API_KEY, eastern_date, game, games_by_date_path, json_answer, now_ms

INGEST = "blaze-mlb-ingest-live"
SCORES = "blaze-mlb-scores"
SCHEDULE = "blaze-mlb-schedule"
STANDINGS = "blaze-mlb-standings"
PLAYERS = "blaze-mlb-players"
SEARCH = "blaze-search"
STACK_FRAME = re.compile(r"\bat \S+ \(|\.(js|ts):\d+|D1_ERROR|SQLITE")


WORKERS = [INGEST, SCORES, SCHEDULE, STANDINGS, PLAYERS, SEARCH]
# The longest page of a list (workers/README.md, "Read APIs"), where it is not 500.
MAX_PAGE = {"odds": 100, "search": 50}


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
    # Only this Worker's cache hears of ingestion: copies elsewhere may live a minute at most.
    assert get(mlb, SCORES, "/api/v1/mlb/scores?date=2025-04-01").headers["cache-control"] == "public, max-age=60"
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
        page = {"limit": MAX_PAGE.get(dataset, 500), "offset": 0, "returned": 0, "truncated": False, "nextOffset": None}
        assert reply.json() == {"data": [], "meta": {"sport": sport, "dataset": dataset, "cache": "MISS", "page": page}}, worker.name


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


def insert_document(mf: Instance, doc_id: str, title: str, sport: str = "mlb") -> None:
    mf.d1(SEARCH, "DB", "INSERT INTO search_documents (doc_id, sport, kind, title, search_text, url, updated_at) "
          "VALUES (?, ?, 'team', ?, lower(?), '/x', '2025')", doc_id, sport, title, title)


def test_search_takes_every_query_length_it_admits(mlb: Instance) -> None:
    # D1 refuses LIKE patterns over 50 bytes; the API admits 100 characters of any script.
    long_title = "The " + "Extraordinarily Long Named Baseball Club " * 3
    insert_document(mlb, "long", long_title.strip())
    insert_document(mlb, "accents", "Équipe " + "é" * 60)
    insert_document(mlb, "other", "Boston Red Sox")
    for q, expected in ((long_title.strip()[:100], ["long"]), ("é" * 60, ["accents"]), ("x" * 49, [])):
        reply = get(mlb, SEARCH, f"/api/v1/search?q={quote(q)}")
        assert reply.status == 200, (q, reply.text)
        assert [d["doc_id"] for d in reply.json()["data"]] == expected, q
    too_long = get(mlb, SEARCH, f"/api/v1/search?q={'y' * 101}")
    assert (too_long.status, too_long.json()["error"]["code"]) == (400, "bad_request")


@pytest.mark.parametrize(
    ("worker", "path"),
    [
        (SEARCH, "/api/v1/search?q=%00"),
        (SEARCH, "/api/v1/search?q=red%00"),
        (SEARCH, "/api/v1/search?q=red%1Fsox"),
        (SEARCH, "/api/v1/search?q=red&sport=mlb%00"),
        (SCHEDULE, "/api/v1/mlb/schedule?team=NYY%00"),
        (SCORES, "/api/v1/mlb/scores?date=2025-04-01%0A"),
        (PLAYERS, "/api/v1/mlb/players?team=NYY&limit=5%00"),
    ],
)
def test_control_characters_are_refused_in_every_text_parameter(seeded: Instance, worker: str, path: str) -> None:
    reply = get(seeded, worker, path)
    assert (reply.status, reply.json()["error"]["code"]) == (400, "bad_request"), reply.text


@pytest.mark.parametrize("season", ["0x7e9", "2e3", "+2025", " 2025", "2025.0", "02025"])
def test_a_season_is_written_as_a_year(seeded: Instance, season: str) -> None:
    reply = get(seeded, STANDINGS, f"/api/v1/mlb/standings?season={quote(season)}")
    assert (reply.status, reply.json()["error"]["code"]) == (400, "bad_request"), season
    assert get(seeded, STANDINGS, "/api/v1/mlb/standings?season=2025").status == 200


def test_different_questions_never_share_a_cache_entry(start: Start) -> None:
    mf = start(["blaze-odds", "blaze-teams", "blaze-mlb-stats", SEARCH])
    mf.d1("blaze-odds", "DB", "INSERT INTO odds_events (event_id, sport, commence_time, home_team, away_team, updated_at) "
          "VALUES ('X', 'mlb', '2099-04-01T23:05:00Z', 'Home', 'Away', '2025')")
    mf.d1("blaze-teams", "DB", "INSERT INTO teams (team_id, sport, abbreviation, name, updated_at) VALUES ('mlb:SEA', 'mlb', 'SEA', 'Mariners', '2025')")
    season = eastern_date(now_ms())[:4]
    mf.d1("blaze-mlb-stats", "DB", "INSERT INTO player_stats (player_id, season, category, stats, updated_at) VALUES ('P', ?, 'season', '{\"hr\": 3}', '2025')", int(season))
    insert_document(mf, "d1", "Team:NYY", sport="mlb")
    pairs = [
        ("blaze-odds", "/api/v1/odds/X", "/api/v1/odds?sport=event:X"),
        ("blaze-teams", "/api/v1/teams/mlb:SEA", "/api/v1/teams?sport=team:mlb:SEA"),
        ("blaze-mlb-stats", "/api/v1/mlb/stats/P", "/api/v1/mlb/stats?category=player:P"),
        (SEARCH, "/api/v1/search?q=team:nyy&sport=mlb", "/api/v1/search?q=nyy&sport=mlb:team"),
    ]
    for worker, first, second in pairs:
        one, other = get(mf, worker, first), get(mf, worker, second)
        assert (one.status, other.status) == (200, 200), (one.text, other.text)
        assert other.headers["x-cache"] == "MISS", (first, second)
        assert one.json()["data"] != other.json()["data"], (first, second)


def test_odds_of_a_busy_day_are_served_in_pages_with_their_lines(start: Start) -> None:
    mf = start(["blaze-odds"])
    events = 150  # more than D1's 100 bound parameters per query
    mf.d1("blaze-odds", "DB", f"""
        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {events})
        INSERT INTO odds_events (event_id, sport, commence_time, home_team, away_team, updated_at)
        SELECT printf('e%03d', i), 'ncaab', printf('2099-03-%02dT%02d:00:00Z', 1 + i / 24, i % 24), 'Home ' || i, 'Away ' || i, '2025' FROM n""")
    mf.d1("blaze-odds", "DB", "INSERT INTO odds_lines (event_id, bookmaker, market, outcome, price, point, updated_at) "
          "SELECT event_id, 'book', 'h2h', side, 1.9, NULL, '2025' FROM odds_events, (SELECT 'home' AS side UNION ALL SELECT 'away')")
    first = get(mf, "blaze-odds", "/api/v1/odds?sport=ncaab")
    assert first.status == 200, first.text
    page = first.json()["meta"]["page"]
    assert page == {"limit": 100, "offset": 0, "returned": 100, "truncated": True, "nextOffset": 100}
    rest = get(mf, "blaze-odds", "/api/v1/odds?sport=ncaab&offset=100")
    assert rest.json()["meta"]["page"] == {"limit": 100, "offset": 100, "returned": 50, "truncated": False, "nextOffset": None}
    served = first.json()["data"] + rest.json()["data"]
    assert [e["event_id"] for e in served] == [f"e{i:03d}" for i in range(1, events + 1)]
    assert all(sorted(line["outcome"] for line in e["lines"]) == ["away", "home"] for e in served)


def test_every_list_is_paged_and_says_when_it_was_cut(mlb: Instance) -> None:
    players = 620
    mlb.d1(PLAYERS, "DB", f"""
        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {players})
        INSERT INTO players (player_id, team, name, updated_at) SELECT printf('p%04d', i), 'NYY', 'Same Name', '2025' FROM n""")
    seen: list[str] = []
    offset: int | None = 0
    while offset is not None:
        reply = get(mlb, PLAYERS, f"/api/v1/mlb/players?team=NYY&offset={offset}")
        assert reply.status == 200, reply.text
        seen += [p["player_id"] for p in reply.json()["data"]]
        offset = reply.json()["meta"]["page"]["nextOffset"]
    assert seen == [f"p{i:04d}" for i in range(1, players + 1)]  # equal names: the order is still total
    small = get(mlb, PLAYERS, "/api/v1/mlb/players?team=NYY&limit=7&offset=613").json()
    assert [p["player_id"] for p in small["data"]] == [f"p{i:04d}" for i in range(614, 621)] and not small["meta"]["page"]["truncated"]
    mlb.d1(SCORES, "DB", """
        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 700)
        INSERT INTO games (game_id, season, game_date, status, home_team, away_team, updated_at)
        SELECT printf('g%04d', i), 2025, '2025-04-01', 'final', 'H', 'A', '2025' FROM n""")
    for worker, path in ((SCORES, "/api/v1/mlb/scores?date=2025-04-01"), (SCHEDULE, "/api/v1/mlb/schedule?from=2025-04-01&to=2025-04-01")):
        cut = get(mlb, worker, path).json()
        assert len(cut["data"]) == 500 and cut["meta"]["page"]["truncated"] and cut["meta"]["page"]["nextOffset"] == 500, path
    for path in ("/api/v1/mlb/players?team=NYY&limit=501", "/api/v1/mlb/players?team=NYY&limit=0", "/api/v1/mlb/players?team=NYY&offset=-1",
                 "/api/v1/mlb/players?team=NYY&offset=100001", "/api/v1/mlb/players?team=NYY&limit=1e2"):
        assert get(mlb, PLAYERS, path).status == 400, path
    for doc in range(60):
        insert_document(mlb, f"doc{doc:02d}", f"Club {doc:02d}")
    searched = get(mlb, SEARCH, "/api/v1/search?q=club").json()
    assert len(searched["data"]) == 50 and searched["meta"]["page"]["nextOffset"] == 50
