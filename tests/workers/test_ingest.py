"""Ingestion Workers in workerd against a loopback upstream: validation, atomic writes, ledger."""

from __future__ import annotations

import json
import re
from typing import Callable, Iterator

import pytest

from local.driver import Instance
from local.fixtures import SEASON_GAMES, season_games
from stacks.catalog import Catalog
from tests.conftest import ROOT, Start
from tests.workers.stubs import Answer, LoopbackStub
from tests.workers.upstream import API_KEY, eastern_date, game, games_by_date_path, json_answer, now_ms, stadium

LIVE = "blaze-mlb-ingest-live"
SCHEDULE = "blaze-mlb-ingest-schedule"
WEATHER = "blaze-mlb-ingest-weather"


@pytest.fixture
def upstream(stub: LoopbackStub) -> LoopbackStub:
    return stub


@pytest.fixture
def stub_factory() -> Iterator[Callable[[], LoopbackStub]]:
    """More loopback upstreams, each on its own port: another origin than `upstream`'s."""
    started: list[LoopbackStub] = []

    def _start() -> LoopbackStub:
        started.append(LoopbackStub())
        return started[-1]

    yield _start
    for server in started:
        server.close()


def start_ingest(start: Start, upstream: LoopbackStub, names: list[str], **vars: str) -> Instance:
    return start(names, vars={"UPSTREAM_URL": f"{upstream.url}/v3/mlb", **vars}, secrets={"UPSTREAM_API_KEY": API_KEY})


def run(mf: Instance, worker: str, at_ms: int, cron: str) -> str:
    return mf.scheduled(worker, cron, at_ms)["outcome"]


def games(mf: Instance) -> list[dict]:
    return mf.d1(LIVE, "DB", "SELECT game_id, status, home_team, away_team, home_score, away_score FROM games ORDER BY game_id")


def ledger(mf: Instance) -> list[dict]:
    return mf.d1(LIVE, "LOG", "SELECT sport, feed, status, upstream_status, rows_written, error FROM ingest_runs ORDER BY id")


@pytest.fixture
def live(start: Start, upstream: LoopbackStub, catalog: Catalog) -> tuple[Instance, int, str]:
    mf = start_ingest(start, upstream, [LIVE], UPSTREAM_TIMEOUT_MS="400")
    return mf, now_ms(), catalog.worker(LIVE).crons[0]


def test_a_run_writes_normalised_rows_and_records_itself(live: tuple[Instance, int, str], upstream: LoopbackStub) -> None:
    mf, t0, cron = live
    today = eastern_date(t0)
    upstream.answer(games_by_date_path(t0), json_answer([
        game(1, today, "NYY", "BOS", "InProgress", 3, 2, inning=5),
        game(2, today, "LAD", "SF"),
    ]))
    assert run(mf, LIVE, t0, cron) == "ok"
    assert games(mf) == [
        {"game_id": "1", "status": "in_progress", "home_team": "NYY", "away_team": "BOS", "home_score": 3, "away_score": 2},
        {"game_id": "2", "status": "scheduled", "home_team": "LAD", "away_team": "SF", "home_score": None, "away_score": None},
    ]
    assert ledger(mf) == [{"sport": "mlb", "feed": "live", "status": "ok", "upstream_status": 200, "rows_written": 2, "error": None}]
    (request,) = upstream.received()
    assert request.headers["ocp-apim-subscription-key"] == API_KEY
    ticker = json.loads(mf.kv_get(LIVE, "TICKER", "ticker:mlb"))
    assert [g["game_id"] for g in ticker["games"]] == ["1"]
    archived = mf.r2_list(LIVE, "ARCHIVE", "raw/mlb/live/")
    assert len(archived) == 1 and API_KEY not in archived[0]
    assert json.loads(mf.r2_get(LIVE, "ARCHIVE", archived[0]))[0]["GameID"] == 1

    # The same payload again changes nothing, and says so.
    assert run(mf, LIVE, t0 + 120_000, cron) == "ok"
    assert ledger(mf)[-1]["rows_written"] == 0


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        pytest.param(json_answer({"message": "boom"}, status=500), "the upstream answered 500", id="upstream-500"),
        pytest.param(json_answer([], delay_s=1.5), "the upstream did not answer in time", id="timeout"),
        pytest.param(Answer(200, b"<html>maintenance</html>", {"content-type": "text/html"}), "the upstream's response is not JSON", id="not-json"),
        pytest.param(json_answer({"games": []}), "invalid upstream payload at the payload", id="wrong-shape"),
    ],
)
def test_a_failed_run_writes_nothing_and_the_next_run_succeeds(
    live: tuple[Instance, int, str], upstream: LoopbackStub, answer: Answer, error: str
) -> None:
    mf, t0, cron = live
    today = eastern_date(t0)
    upstream.answer(games_by_date_path(t0), answer)
    assert run(mf, LIVE, t0, cron) == "exception"
    assert games(mf) == []
    (failed,) = ledger(mf)
    assert failed["status"] == "failed" and failed["error"].startswith(error)
    assert API_KEY not in failed["error"]

    upstream.answer(games_by_date_path(t0), json_answer([game(7, today, "NYY", "BOS")]))
    assert run(mf, LIVE, t0 + 120_000, cron) == "ok"
    assert [g["game_id"] for g in games(mf)] == ["7"]
    assert [r["status"] for r in ledger(mf)] == ["failed", "ok"]


def test_one_invalid_item_rejects_the_whole_payload(live: tuple[Instance, int, str], upstream: LoopbackStub) -> None:
    mf, t0, cron = live
    today = eastern_date(t0)
    broken = game(9, today, "NYY", "BOS")
    del broken["HomeTeam"]
    upstream.answer(games_by_date_path(t0), json_answer([game(8, today, "LAD", "SF"), broken]))
    assert run(mf, LIVE, t0, cron) == "exception"
    assert games(mf) == []
    assert ledger(mf)[0]["error"].startswith("invalid upstream payload at 1.HomeTeam")


def test_an_unchanged_upstream_is_skipped_by_etag(live: tuple[Instance, int, str], upstream: LoopbackStub) -> None:
    mf, t0, cron = live
    path = games_by_date_path(t0)
    upstream.answer(path, json_answer([game(1, eastern_date(t0), "NYY", "BOS")], etag='"v1"'))
    assert run(mf, LIVE, t0, cron) == "ok"
    upstream.answer(path, Answer(304, b"", {"etag": '"v1"'}))
    assert run(mf, LIVE, t0 + 120_000, cron) == "ok"
    assert upstream.received(path)[1].headers["if-none-match"] == '"v1"'
    assert [(r["status"], r["upstream_status"]) for r in ledger(mf)] == [("ok", 200), ("unchanged", 304)]


def test_a_feed_of_several_requests_writes_all_of_them_or_none(start: Start, upstream: LoopbackStub, catalog: Catalog) -> None:
    mf = start_ingest(start, upstream, [SCHEDULE])
    cron = catalog.worker(SCHEDULE).crons[0]
    t0 = now_ms()
    season = int(eastern_date(t0)[:4])
    upstream.answer(f"/v3/mlb/scores/json/Games/{season}", json_answer([game(1, f"{season}-04-01", "NYY", "BOS")]))
    upstream.answer(f"/v3/mlb/scores/json/Standings/{season}", json_answer({"error": "rate limited"}, status=429))
    upstream.answer("/v3/mlb/scores/json/Stadiums", json_answer([stadium(3, "Yankee Stadium", 40.8296, -73.9262), stadium(4, "Unplaced Park", None, None)]))
    assert run(mf, SCHEDULE, t0, cron) == "exception"
    assert mf.d1(SCHEDULE, "DB", "SELECT COUNT(*) AS n FROM games") == [{"n": 0}]
    assert mf.d1(SCHEDULE, "DB", "SELECT COUNT(*) AS n FROM venues") == [{"n": 0}]

    standing = {"Season": season, "Key": "NYY", "Conference": "AL", "Division": "East", "Wins": 10, "Losses": 5, "Percentage": 0.667, "GamesBehind": 0, "DivisionRank": 1}
    upstream.answer(f"/v3/mlb/scores/json/Standings/{season}", json_answer([standing]))
    assert run(mf, SCHEDULE, t0 + 3_600_000, cron) == "ok"
    assert mf.d1(SCHEDULE, "DB", "SELECT COUNT(*) AS n FROM games") == [{"n": 1}]
    assert mf.d1(SCHEDULE, "DB", "SELECT team, wins, losses, rank FROM standings") == [{"team": "NYY", "wins": 10, "losses": 5, "rank": 1}]
    # Stadiums give the weather feed its coordinates; one without a position is left out.
    assert mf.d1(SCHEDULE, "DB", "SELECT venue, latitude, longitude FROM venues") == [{"venue": "Yankee Stadium", "latitude": 40.8296, "longitude": -73.9262}]


STATCAST_CSV = (
    '"last_name, first_name",player_id,year,pa,bip,ba,est_ba,woba,est_woba\n'
    '"Judge, Aaron",592450,{season},704,420,.322,.317,.458,.461\n'
    '"Soto, Juan",665742,{season},713,449,.288,.296,.419,.421\n'
)


def test_csv_feeds_become_season_statistics(start: Start, upstream: LoopbackStub, catalog: Catalog) -> None:
    worker = "blaze-mlb-ingest-statcast"
    mf = start([worker], vars={"UPSTREAM_URL": upstream.url})
    cron = catalog.worker(worker).crons[0]
    t0 = now_ms()
    season = eastern_date(t0)[:4]
    path = "/leaderboard/expected_statistics"
    upstream.answer(path, Answer(200, b'"last_name, first_name",player_id,year\n"Judge, Aaron,592450,2025\n', {"content-type": "text/csv"}))
    assert run(mf, worker, t0, cron) == "exception"
    failed = mf.d1(worker, "LOG", "SELECT error FROM ingest_runs")[0]["error"]
    assert failed.startswith("the upstream's CSV is malformed")
    assert mf.d1(worker, "DB", "SELECT COUNT(*) AS n FROM player_stats") == [{"n": 0}]

    upstream.answer(path, Answer(200, STATCAST_CSV.format(season=season).encode(), {"content-type": "text/csv"}))
    assert run(mf, worker, t0 + 60_000, cron) == "ok"
    (request,) = upstream.received(path)[1:]
    assert f"year={season}" in request.path and "csv=true" in request.path
    stats = mf.d1(worker, "DB", "SELECT player_id, season, category, stats FROM player_stats ORDER BY player_id")
    assert [(s["player_id"], s["season"], s["category"]) for s in stats] == [("mlbam:592450", int(season), "statcast"), ("mlbam:665742", int(season), "statcast")]
    assert json.loads(stats[0]["stats"]) == {"name": "Judge, Aaron", "pa": 704, "bip": 420, "ba": 0.322, "est_ba": 0.317, "woba": 0.458, "est_woba": 0.461}
    assert mf.r2_list(worker, "ARCHIVE", "raw/mlb/statcast/")[-1].endswith(".csv")



def test_nflverse_season_stats_arrive_from_its_release_csv(start: Start, upstream: LoopbackStub, catalog: Catalog) -> None:
    worker = "blaze-nfl-ingest-nflverse"
    mf = start([worker], vars={"UPSTREAM_URL": f"{upstream.url}/nflverse/nflverse-data/releases/download"})
    season = eastern_date(now_ms())[:4]
    csv = f"player_id,player_display_name,position,recent_team,season,completions,passing_yards\n00-0033873,Patrick Mahomes,QB,KC,{season},401,4183\n"
    upstream.answer(f"/nflverse/nflverse-data/releases/download/stats_player/stats_player_reg_{season}.csv", Answer(200, csv.encode()))
    assert run(mf, worker, now_ms(), catalog.worker(worker).crons[0]) == "ok"
    (row,) = mf.d1(worker, "DB", "SELECT player_id, category, stats FROM player_stats")
    assert (row["player_id"], row["category"]) == ("gsis:00-0033873", "season")
    assert json.loads(row["stats"]) == {"name": "Patrick Mahomes", "completions": 401, "passing_yards": 4183}


# Feeds of the catalog that have no adapter yet (workers/README.md, "Ingestion"): none.
# Pinned here so the documentation and the code cannot drift apart silently.
WITHOUT_ADAPTER: set[tuple[str, str]] = set()


def test_every_catalog_feed_reaches_its_upstream_or_is_a_documented_gap(start: Start, stub: LoopbackStub, catalog: Catalog) -> None:
    ingest = [w for w in catalog.workers if w.family == "ingest"]
    mf = start([w.name for w in ingest], vars={"UPSTREAM_URL": stub.url}, secrets={"UPSTREAM_API_KEY": API_KEY})
    # The weather feed asks only about upcoming games at venues it can place.
    today = eastern_date(now_ms())
    mf.d1(WEATHER, "DB", "INSERT INTO venues (venue, latitude, longitude, updated_at) VALUES ('Yankee Stadium', 40.83, -73.93, ?)", today)
    mf.d1(WEATHER, "DB", "INSERT INTO games (game_id, season, game_date, start_time, status, home_team, away_team, venue, updated_at) VALUES ('1', ?, ?, ?, 'scheduled', 'NYY', 'BOS', 'Yankee Stadium', ?)", int(today[:4]), today, f"{today}T23:05:00Z", today)
    for worker in ingest:
        assert mf.scheduled(worker.name, worker.crons[0], now_ms())["outcome"] == "exception", worker.name
    runs = mf.d1(ingest[0].name, "LOG", "SELECT sport, feed, error FROM ingest_runs ORDER BY id")
    assert len(runs) == len(ingest)
    for worker, run in zip(ingest, runs):
        gap = (worker.vars["PROVIDER"], worker.vars["FEED"]) in WITHOUT_ADAPTER
        expected = f"no adapter for feed {worker.vars['FEED']}" if gap else "the upstream answered 404"
        assert run["error"].startswith(expected), (worker.name, run["error"])
    assert {(w.vars["PROVIDER"], w.vars["FEED"]) for w in ingest} >= WITHOUT_ADAPTER
    assert len(stub.received()) >= len(ingest) - len(WITHOUT_ADAPTER)


# Cloudflare allows a Worker 1,000 KV operations per invocation (local workerd does not
# enforce it, so the test counts them); a whole MLB regular season is 2,430 games.
KV_OPERATIONS_PER_INVOCATION = 1000


def test_a_whole_season_changing_stays_within_the_kv_operations_of_one_invocation(start: Start, upstream: LoopbackStub, catalog: Catalog) -> None:
    kv = ("CACHE", "CURSORS", "ETAGS")
    mf = start([SCHEDULE, "blaze-mlb-scores", "blaze-mlb-schedule"], vars={"UPSTREAM_URL": f"{upstream.url}/v3/mlb"},
               secrets={"UPSTREAM_API_KEY": API_KEY}, count_kv=[(SCHEDULE, binding) for binding in kv])
    cron = catalog.worker(SCHEDULE).crons[0]
    t0 = now_ms()
    season = int(eastern_date(t0)[:4])
    upstream.answer(f"/v3/mlb/scores/json/Standings/{season}", json_answer([]))
    upstream.answer("/v3/mlb/scores/json/Stadiums", json_answer([]))

    def season_run(runs: int, at_ms: int) -> int:
        upstream.answer(f"/v3/mlb/scores/json/Games/{season}", json_answer(season_games(season, runs)))
        assert run(mf, SCHEDULE, at_ms, cron) == "ok"
        return sum(sum(mf.kv_operations(SCHEDULE, binding).values()) for binding in kv)

    assert season_run(1, t0) <= KV_OPERATIONS_PER_INVOCATION
    assert mf.d1(SCHEDULE, "DB", "SELECT COUNT(*) AS n FROM games") == [{"n": SEASON_GAMES}]
    first_day = f"{season}-03-27"
    views = [("blaze-mlb-scores", f"/api/v1/mlb/scores?date={first_day}"), ("blaze-mlb-scores", "/api/v1/mlb/scores/1"),
             ("blaze-mlb-schedule", f"/api/v1/mlb/schedule?team=T00&from={first_day}&to={first_day}")]
    cached = [mf.fetch(worker, f"https://api.blazesportsintel.com{path}") for worker, path in views]
    assert [r.headers["x-cache"] for r in cached] == ["MISS"] * len(views)

    # Every game of the season changes in one run: still within the budget, and every view goes.
    assert season_run(2, t0 + 3_600_000) <= KV_OPERATIONS_PER_INVOCATION
    again = [mf.fetch(worker, f"https://api.blazesportsintel.com{path}") for worker, path in views]
    assert [r.headers["x-cache"] for r in again] == ["MISS"] * len(views)
    assert again[1].json()["data"]["home_score"] == 2


# A page on one line, as minified ones are: read as CSV, all of it is a header.
HTML_PAGE = b"<!DOCTYPE html><html><head><title>Maintenance</title></head><body>We will be back soon.</body></html>"


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        pytest.param(Answer(200, HTML_PAGE, {"content-type": "text/html"}), "the upstream's CSV lacks the columns", id="html-page"),
        pytest.param(Answer(200, b"name,hr\n", {"content-type": "text/csv"}), "the upstream's CSV lacks the columns", id="other-csv"),
        pytest.param(Answer(200, b"", {"content-type": "text/csv"}), "the upstream's response is empty", id="empty"),
        pytest.param(Answer(200, b" \r\n\n", {"content-type": "text/csv"}), "the upstream's response is empty", id="blank"),
    ],
)
def test_a_feed_sending_garbage_is_a_failed_run(start: Start, upstream: LoopbackStub, catalog: Catalog, answer: Answer, error: str) -> None:
    worker = "blaze-mlb-ingest-statcast"
    mf = start([worker], vars={"UPSTREAM_URL": upstream.url})
    upstream.answer("/leaderboard/expected_statistics", answer)
    assert run(mf, worker, now_ms(), catalog.worker(worker).crons[0]) == "exception"
    (failed,) = mf.d1(worker, "LOG", "SELECT status, rows_written, error FROM ingest_runs")
    assert (failed["status"], failed["rows_written"]) == ("failed", 0) and failed["error"].startswith(error), failed
    # What came is kept for the operator to look at.
    assert len(mf.r2_list(worker, "ARCHIVE", "raw/mlb/statcast/")) == 1


def test_a_header_only_csv_is_an_honest_empty_run(start: Start, upstream: LoopbackStub, catalog: Catalog) -> None:
    worker = "blaze-mlb-ingest-statcast"
    mf = start([worker], vars={"UPSTREAM_URL": upstream.url})
    upstream.answer("/leaderboard/expected_statistics", Answer(200, b'"last_name, first_name",player_id,year,pa\n', {"content-type": "text/csv"}))
    assert run(mf, worker, now_ms(), catalog.worker(worker).crons[0]) == "ok"
    assert mf.d1(worker, "LOG", "SELECT status, rows_written FROM ingest_runs") == [{"status": "ok", "rows_written": 0}]


def test_the_key_never_follows_a_redirect_to_another_origin(live: tuple[Instance, int, str], upstream: LoopbackStub, stub_factory: Callable[[], LoopbackStub]) -> None:
    mf, t0, cron = live
    elsewhere = stub_factory()
    path = games_by_date_path(t0)
    elsewhere.answer(path, json_answer([game(1, eastern_date(t0), "NYY", "BOS")]))
    upstream.answer(path, Answer(302, b"", {"location": f"{elsewhere.url}{path}"}))
    assert run(mf, LIVE, t0, cron) == "exception"
    assert elsewhere.received() == []
    (failed,) = ledger(mf)
    assert failed["error"] == f"the upstream redirected to {elsewhere.url}, another origin than UPSTREAM_URL's: the key is only ever sent to UPSTREAM_URL", failed
    assert games(mf) == []

    # Within the configured origin a redirect is followed, the key with it.
    upstream.answer("/moved" + path, json_answer([game(2, eastern_date(t0), "LAD", "SF")]))
    upstream.answer(path, Answer(301, b"", {"location": "/moved" + path}))
    assert run(mf, LIVE, t0 + 120_000, cron) == "ok"
    (moved,) = upstream.received("/moved" + path)
    assert moved.headers["ocp-apim-subscription-key"] == API_KEY
    assert [g["game_id"] for g in games(mf)] == ["2"]


def test_a_keyless_feed_follows_a_redirect_anywhere(start: Start, upstream: LoopbackStub, stub_factory: Callable[[], LoopbackStub], catalog: Catalog) -> None:
    # nflverse's release assets answer with a redirect to GitHub's object storage.
    worker = "blaze-nfl-ingest-nflverse"
    season = eastern_date(now_ms())[:4]
    assets = stub_factory()
    csv = f"player_id,player_display_name,season,passing_yards\n00-0033873,Patrick Mahomes,{season},4183\n"
    assets.answer("/asset", Answer(200, csv.encode()))
    mf = start([worker], vars={"UPSTREAM_URL": f"{upstream.url}/releases/download"})
    upstream.answer(f"/releases/download/stats_player/stats_player_reg_{season}.csv", Answer(302, b"", {"location": f"{assets.url}/asset?token=signed"}))
    assert run(mf, worker, now_ms(), catalog.worker(worker).crons[0]) == "ok"
    assert len(assets.received("/asset")) == 1
    assert mf.d1(worker, "DB", "SELECT player_id FROM player_stats") == [{"player_id": "gsis:00-0033873"}]


# The most an upstream response may be (workers/README.md, "Ingestion").
MAX_UPSTREAM_BYTES = 10 * 1024 * 1024


@pytest.mark.parametrize("declared", [True, False], ids=["announced", "unannounced"])
def test_an_oversized_upstream_response_fails_the_run_unread(live: tuple[Instance, int, str], upstream: LoopbackStub, declared: bool) -> None:
    mf, t0, cron = live
    # Valid JSON, so only its size can refuse it.
    oversized = b"[]" + b" " * MAX_UPSTREAM_BYTES
    upstream.answer(games_by_date_path(t0), Answer(200, oversized, {"content-type": "application/json"}, declare_length=declared))
    assert run(mf, LIVE, t0, cron) == "exception"
    (failed,) = ledger(mf)
    assert (failed["status"], failed["error"]) == ("failed", "the upstream's response is larger than 10 MiB")
    assert mf.r2_list(LIVE, "ARCHIVE", "raw/") == []


def test_the_runbooks_query_leads_from_a_failed_run_to_its_archived_body(start: Start, upstream: LoopbackStub, catalog: Catalog) -> None:
    # docs/RUNBOOK.md, "A feed sends garbage": its ledger query, run here on a local ledger.
    runbook = (ROOT / "docs" / "RUNBOOK.md").read_text()
    (query,) = re.findall(r'npx wrangler d1 execute blaze-ingest-log --remote --command "([^"]+)"', runbook)
    worker = "blaze-mlb-ingest-statcast"
    mf = start([worker], vars={"UPSTREAM_URL": upstream.url})
    upstream.answer("/leaderboard/expected_statistics", Answer(200, HTML_PAGE, {"content-type": "text/html"}))
    assert run(mf, worker, now_ms(), catalog.worker(worker).crons[0]) == "exception"
    (failed,) = mf.d1(worker, "LOG", query)
    assert failed["error"].startswith("the upstream's CSV lacks the columns") and failed["upstream_status"] == 200
    assert mf.r2_get(worker, "ARCHIVE", failed["archived"] + "0.csv") == HTML_PAGE
