"""The feeds that need more than one fixed request, in workerd against loopback upstreams.

ESPN rosters (per team id, over several runs from a cursor), Open-Meteo ballpark weather
(per venue coordinates) and stats.ncaa.org's RPI (an HTML page). Each: a good run writes
the expected rows and invalidates exactly the tags of what changed; a malformed payload
writes nothing.
"""

from __future__ import annotations

import json
from urllib.parse import quote
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from local.driver import Instance
from stacks.catalog import Catalog
from tests.conftest import Start
from tests.workers.stubs import Answer, LoopbackStub
from tests.workers.upstream import eastern_date, json_answer, now_ms

ROSTERS = "blaze-cbase-ingest-rosters"
WEATHER = "blaze-mlb-ingest-weather"
RPI = "blaze-cbase-ingest-rpi"
ESPN_BASE = "/apis/site/v2/sports/baseball/college-baseball"
# The adapter's bound on roster requests per run (ROSTERS_PER_RUN in providers/espn.ts).
ROSTERS_PER_RUN = 40


def run(mf: Instance, worker: str, catalog: Catalog, at_ms: int) -> str:
    return mf.scheduled(worker, catalog.worker(worker).crons[0], at_ms)["outcome"]


def ledger(mf: Instance, worker: str) -> list[dict]:
    return mf.d1(worker, "LOG", "SELECT status, rows_written, error FROM ingest_runs ORDER BY id")


def generations(mf: Instance, worker: str, tags: list[str]) -> dict[str, str | None]:
    """Each tag's cache generation as the cache manager keeps it (`g:<tag>`, percent-encoded):
    a new one invalidates every view the tag is on."""
    return {tag: mf.kv_get(worker, "CACHE", "g:" + quote(tag, safe="")) for tag in tags}


def untouched(mf: Instance, worker: str, before: dict[str, str | None]) -> set[str]:
    """The tags of `before` whose generation a run left as it was."""
    return {tag for tag, generation in generations(mf, worker, list(before)).items() if generation == before[tag]}


# --- ESPN rosters ---------------------------------------------------------------------

# 45 teams, more than one run's share; ids out of order and of different lengths, so the
# order is numeric, not textual or as listed.
TEAM_IDS = [str(i) for i in [*range(300, 255, -1)]]
TEAM_IDS[3], TEAM_IDS[4] = "9", "1000"
ORDERED_IDS = sorted(TEAM_IDS, key=int)


def espn_teams(ids: list[str]) -> dict:
    teams = [{"team": {"id": i, "uid": f"s:1~l:14~t:{i}", "abbreviation": f"T{i}", "displayName": f"Team {i}", "location": "Somewhere"}} for i in ids]
    return {"sports": [{"id": "1", "name": "Baseball", "leagues": [{"id": "14", "abbreviation": "NCAA", "teams": teams}]}]}


def athlete(player_id: str, name: str, position: str = "P") -> dict:
    return {
        "id": player_id,
        "displayName": name,
        "jersey": "7",
        "position": {"name": "Pitcher", "abbreviation": position},
        "dateOfBirth": "2004-03-09T08:00Z",
        "status": {"id": "1", "name": "Active", "type": "active"},
    }


def espn_roster(team_id: str) -> dict:
    players = [athlete(f"{team_id}01", f"Ace {team_id}"), athlete(f"{team_id}02", f"Catcher {team_id}", "C")]
    # Both observed shapes: athletes listed flat, or grouped by position.
    athletes = players if int(team_id) % 2 else [{"position": "pitchers", "items": players[:1]}, {"position": "catchers", "items": players[1:]}]
    return {"team": {"id": team_id, "abbreviation": f"T{team_id}"}, "athletes": athletes}


@pytest.fixture
def rosters(start: Start, stub: LoopbackStub) -> Instance:
    stub.answer(f"{ESPN_BASE}/teams", json_answer(espn_teams(TEAM_IDS)))
    for team_id in TEAM_IDS:
        stub.answer(f"{ESPN_BASE}/teams/{team_id}/roster", json_answer(espn_roster(team_id)))
    return start([ROSTERS], vars={"UPSTREAM_URL": f"{stub.url}{ESPN_BASE}"})


def rostered_teams(stub: LoopbackStub) -> list[str]:
    """The team ids whose rosters were asked for, in id order (the requests run concurrently)."""
    return sorted((r.path.split("/")[-2] for r in stub.received() if r.path.split("?")[0].endswith("/roster")), key=int)


def position(mf: Instance) -> str | None:
    return json.loads(mf.kv_get(ROSTERS, "CURSORS", "cursor:cbase:espn:rosters") or "{}").get("position")


def test_rosters_cover_the_teams_over_runs_resuming_from_the_cursor(rosters: Instance, stub: LoopbackStub, catalog: Catalog) -> None:
    t0 = now_ms()
    # The first run learns the team ids; nothing is known to ask rosters for yet.
    assert run(rosters, ROSTERS, catalog, t0) == "ok"
    assert rostered_teams(stub) == []
    assert rosters.d1(ROSTERS, "DB", "SELECT COUNT(*) AS n FROM provider_teams WHERE provider = 'espn'") == [{"n": 45}]
    assert rosters.d1(ROSTERS, "DB", "SELECT team, name FROM provider_teams WHERE provider_team_id = '1000'") == [{"team": "T1000", "name": "Team 1000"}]

    stub.clear()
    assert run(rosters, ROSTERS, catalog, t0 + 86_400_000) == "ok"
    first = ORDERED_IDS[:ROSTERS_PER_RUN]
    assert rostered_teams(stub) == first
    assert len(stub.received()) == ROSTERS_PER_RUN + 1  # and the team list
    assert position(rosters) == first[-1]
    assert rosters.d1(ROSTERS, "DB", "SELECT COUNT(*) AS n FROM players") == [{"n": 2 * ROSTERS_PER_RUN}]
    grouped, flat = next(i for i in first if int(i) % 2 == 0), next(i for i in first if int(i) % 2)
    for team_id in (grouped, flat):
        assert rosters.d1(ROSTERS, "DB", "SELECT player_id, team, name, position, jersey, status, birth_date FROM players WHERE team = ? ORDER BY player_id", f"T{team_id}") == [
            {"player_id": f"espn:{team_id}01", "team": f"T{team_id}", "name": f"Ace {team_id}", "position": "P", "jersey": "7", "status": "active", "birth_date": "2004-03-09"},
            {"player_id": f"espn:{team_id}02", "team": f"T{team_id}", "name": f"Catcher {team_id}", "position": "C", "jersey": "7", "status": "active", "birth_date": "2004-03-09"},
        ]

    # The next run continues after the cursor: the rest, and only their tags go.
    rest = ORDERED_IDS[ROSTERS_PER_RUN:]
    watched = generations(rosters, ROSTERS, [f"cbase:roster:t{rest[0]}", f"cbase:player:espn_{rest[-1]}02", f"cbase:roster:t{first[0]}", f"cbase:player:espn_{first[0]}01", "cbase:standings:2026"])
    stub.clear()
    assert run(rosters, ROSTERS, catalog, t0 + 2 * 86_400_000) == "ok"
    assert rostered_teams(stub) == rest
    assert untouched(rosters, ROSTERS, watched) == {f"cbase:roster:t{first[0]}", f"cbase:player:espn_{first[0]}01", "cbase:standings:2026"}
    assert rosters.d1(ROSTERS, "DB", "SELECT COUNT(*) AS n FROM players") == [{"n": 2 * len(TEAM_IDS)}]

    # Once every team is covered, the following run starts over.
    stub.clear()
    assert run(rosters, ROSTERS, catalog, t0 + 3 * 86_400_000) == "ok"
    assert rostered_teams(stub) == first
    assert [r["rows_written"] for r in ledger(rosters, ROSTERS)] == [45, 80, 10, 0]


def test_a_malformed_roster_writes_nothing_and_holds_the_cursor(rosters: Instance, stub: LoopbackStub, catalog: Catalog) -> None:
    t0 = now_ms()
    assert run(rosters, ROSTERS, catalog, t0) == "ok"
    broken = espn_roster(ORDERED_IDS[5])
    broken["athletes"] = [{k: v for k, v in a.items() if k != "displayName"} for a in espn_roster("301")["athletes"]]
    stub.answer(f"{ESPN_BASE}/teams/{ORDERED_IDS[5]}/roster", json_answer(broken))
    assert run(rosters, ROSTERS, catalog, t0 + 86_400_000) == "exception"
    failed = ledger(rosters, ROSTERS)[-1]
    assert failed["status"] == "failed" and failed["error"].startswith("invalid upstream payload at athletes.0")
    assert rosters.d1(ROSTERS, "DB", "SELECT COUNT(*) AS n FROM players") == [{"n": 0}]
    assert position(rosters) is None

    # Repaired, the same teams are asked for again and all of them are written.
    stub.answer(f"{ESPN_BASE}/teams/{ORDERED_IDS[5]}/roster", json_answer(espn_roster(ORDERED_IDS[5])))
    stub.clear()
    assert run(rosters, ROSTERS, catalog, t0 + 2 * 86_400_000) == "ok"
    assert rostered_teams(stub) == ORDERED_IDS[:ROSTERS_PER_RUN]
    assert rosters.d1(ROSTERS, "DB", "SELECT COUNT(*) AS n FROM players") == [{"n": 2 * ROSTERS_PER_RUN}]


def test_a_team_list_of_the_wrong_shape_writes_nothing(rosters: Instance, stub: LoopbackStub, catalog: Catalog) -> None:
    stub.answer(f"{ESPN_BASE}/teams", json_answer({"sports": [{"leagues": [{"teams": [{"team": {"id": "12", "displayName": "No Abbreviation"}}]}]}]}))
    assert run(rosters, ROSTERS, catalog, now_ms()) == "exception"
    assert ledger(rosters, ROSTERS)[0]["error"].startswith("invalid upstream payload at sports.0.leagues.0.teams.0.team.abbreviation")
    assert rosters.d1(ROSTERS, "DB", "SELECT COUNT(*) AS n FROM provider_teams") == [{"n": 0}]


# --- Open-Meteo weather ---------------------------------------------------------------

EASTERN = ZoneInfo("America/New_York")
VENUES = {"Yankee Stadium": (40.8296, -73.9262), "Fenway Park": (42.3467, -71.0972)}


def utc_hour(at: datetime) -> int:
    """Unix seconds of the start of the UTC hour `at` falls in."""
    return int(at.timestamp()) // 3600 * 3600


def hourly(first_day: date, last_day: date, base: float) -> dict:
    """An hourly series as Open-Meteo sends it with timeformat=unixtime (GMT days)."""
    start = int(datetime(first_day.year, first_day.month, first_day.day, tzinfo=timezone.utc).timestamp())
    hours = ((last_day - first_day).days + 1) * 24
    times = [start + 3600 * i for i in range(hours)]
    return {
        "latitude": 40.8, "longitude": -73.9, "generationtime_ms": 0.1, "utc_offset_seconds": 0, "timezone": "GMT",
        "timezone_abbreviation": "GMT", "elevation": 20.0,
        "hourly_units": {"time": "unixtime", "temperature_2m": "°C", "wind_speed_10m": "km/h", "precipitation": "mm"},
        "hourly": {
            "time": times,
            "temperature_2m": [round(base + i * 0.1, 1) for i in range(hours)],
            "wind_speed_10m": [round(i * 0.5, 1) for i in range(hours)],
            "precipitation": [None if i == 5 else 0.0 for i in range(hours)],
        },
    }


def value_at(location: dict, at_hour: int, series: str) -> float | None:
    return location["hourly"][series][location["hourly"]["time"].index(at_hour)]


@pytest.fixture
def weather(start: Start, stub: LoopbackStub) -> tuple[Instance, str]:
    mf = start([WEATHER], vars={"UPSTREAM_URL": f"{stub.url}/v1"})
    today = eastern_date(now_ms())
    tomorrow = (date.fromisoformat(today) + timedelta(days=1)).isoformat()
    later = (date.fromisoformat(today) + timedelta(days=5)).isoformat()
    for venue, (lat, lon) in VENUES.items():
        mf.d1(WEATHER, "DB", "INSERT INTO venues (venue, latitude, longitude, updated_at) VALUES (?, ?, ?, ?)", venue, lat, lon, today)
    games = [
        # SportsDataIO's start times are US Eastern without an offset; ESPN's are UTC.
        ("g1", today, f"{today}T19:05:00", "scheduled", "Yankee Stadium"),
        ("g2", tomorrow, f"{tomorrow}T17:10:00Z", "scheduled", "Yankee Stadium"),
        ("g3", today, f"{today}T18:35:00", "scheduled", "Fenway Park"),
        ("g4", today, f"{today}T13:05:00", "final", "Fenway Park"),
        ("g5", today, f"{today}T19:10:00", "scheduled", "Unplaced Field"),
        ("g6", later, f"{later}T19:10:00", "scheduled", "Fenway Park"),
    ]
    for game_id, day, start_time, status, venue in games:
        mf.d1(WEATHER, "DB", """INSERT INTO games (game_id, season, game_date, start_time, status, home_team, away_team, venue, updated_at)
                                VALUES (?, ?, ?, ?, ?, 'H', 'A', ?, ?)""", game_id, int(day[:4]), day, start_time, status, venue, today)
    return mf, today


def expected_hours(today: str) -> dict[str, int]:
    tomorrow = date.fromisoformat(today) + timedelta(days=1)
    return {
        "g1": utc_hour(datetime.fromisoformat(f"{today}T19:05:00").replace(tzinfo=EASTERN)),
        "g2": utc_hour(datetime.fromisoformat(f"{tomorrow.isoformat()}T17:10:00+00:00")),
        "g3": utc_hour(datetime.fromisoformat(f"{today}T18:35:00").replace(tzinfo=EASTERN)),
    }


def forecasts(today: str) -> tuple[dict, dict]:
    hours = expected_hours(today)
    first = min(datetime.fromtimestamp(h, timezone.utc).date() for h in hours.values())
    last = max(datetime.fromtimestamp(h, timezone.utc).date() for h in hours.values())
    return hourly(first, last, 10.0), hourly(first, last, 20.0)


def test_weather_forecasts_each_upcoming_game_at_its_venue_and_hour(weather: tuple[Instance, str], stub: LoopbackStub, catalog: Catalog) -> None:
    mf, today = weather
    yankee, fenway = forecasts(today)
    stub.answer("/v1/forecast", json_answer([yankee, fenway]))
    watched = generations(mf, WEATHER, ["mlb:game:g1", "mlb:game:g3", "mlb:game:g4", "mlb:game:g6", "mlb:standings:2026"])
    assert run(mf, WEATHER, catalog, now_ms()) == "ok"

    (request,) = stub.received("/v1/forecast")
    query = dict(pair.split("=", 1) for pair in request.path.split("?", 1)[1].split("&"))
    assert (query["latitude"], query["longitude"]) == ("40.8296%2C42.3467", "-73.9262%2C-71.0972")
    assert (query["timeformat"], query["wind_speed_unit"], query["hourly"]) == ("unixtime", "kmh", "temperature_2m%2Cwind_speed_10m%2Cprecipitation")

    hours = expected_hours(today)
    expected = [
        {
            "game_id": game_id,
            "temperature_c": value_at(location, hours[game_id], "temperature_2m"),
            "wind_kph": value_at(location, hours[game_id], "wind_speed_10m"),
            "precipitation_mm": value_at(location, hours[game_id], "precipitation"),
            "observed_at": datetime.fromtimestamp(hours[game_id], timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        }
        for game_id, location in (("g1", yankee), ("g2", yankee), ("g3", fenway))
    ]
    assert mf.d1(WEATHER, "DB", "SELECT game_id, temperature_c, wind_kph, precipitation_mm, observed_at FROM game_weather ORDER BY game_id") == expected
    # The game already played, the one beyond the window and the standings keep their caches.
    assert untouched(mf, WEATHER, watched) == {"mlb:game:g4", "mlb:game:g6", "mlb:standings:2026"}
    assert mf.r2_list(WEATHER, "ARCHIVE", "raw/mlb/weather/")[-1].endswith(".json")


@pytest.mark.parametrize(
    ("payload", "error"),
    [
        pytest.param(lambda y, f: [y, {**f, "hourly": {k: v for k, v in f["hourly"].items() if k != "precipitation"}}], "invalid upstream payload at 1.hourly.precipitation", id="missing-series"),
        pytest.param(lambda y, f: y, "invalid upstream payload: 1 forecasts for 2 venues", id="one-forecast-for-two-venues"),
        pytest.param(lambda y, f: [y, {**f, "hourly": {**f["hourly"], "time": f["hourly"]["time"][:3], "temperature_2m": f["hourly"]["temperature_2m"][:3], "wind_speed_10m": f["hourly"]["wind_speed_10m"][:3], "precipitation": f["hourly"]["precipitation"][:3]}}], "invalid upstream payload at 1.hourly: no forecast for game g3", id="hour-missing"),
    ],
)
def test_a_malformed_forecast_writes_nothing(weather: tuple[Instance, str], stub: LoopbackStub, catalog: Catalog, payload, error: str) -> None:
    mf, today = weather
    stub.answer("/v1/forecast", json_answer(payload(*forecasts(today))))
    assert run(mf, WEATHER, catalog, now_ms()) == "exception"
    (failed,) = ledger(mf, WEATHER)
    assert failed["error"].startswith(error), failed["error"]
    assert mf.d1(WEATHER, "DB", "SELECT COUNT(*) AS n FROM game_weather") == [{"n": 0}]


def test_no_upcoming_game_means_no_request(start: Start, stub: LoopbackStub, catalog: Catalog) -> None:
    mf = start([WEATHER], vars={"UPSTREAM_URL": f"{stub.url}/v1"})
    assert run(mf, WEATHER, catalog, now_ms()) == "ok"
    assert stub.received() == []
    assert ledger(mf, WEATHER) == [{"status": "unchanged", "rows_written": 0, "error": None}]


# --- stats.ncaa.org RPI ----------------------------------------------------------------

RPI_PATH = "/selection_rankings/nitty_gritties"


def rpi_page(rows: list[tuple[str, str, str, str, str, str]], table: bool = True) -> bytes:
    """A page like stats.ncaa.org's: navigation, a layout table, then the RPI table."""
    body = "".join(
        f'<tr><td>{rank}</td><td><a href="/teams/{i}" target="TEAM_PAGE">{team}</a></td><td>{conference}</td>'
        f"<td>{rpi}</td><td>{record}</td><td>{sos}</td></tr>\n"
        for i, (rank, team, conference, rpi, record, sos) in enumerate(rows)
    )
    rpi_table = (
        '<table id="selection_rankings_nitty_gritty_data" class="display dataTable">\n'
        "<thead><tr><th>Rank</th><th>Team</th><th>Conference</th><th>RPI</th><th>W-L</th><th>SOS</th></tr></thead>\n"
        f"<tbody>\n<!-- <tr><td>0</td><td>Commented Out</td></tr> -->\n{body}</tbody></table>"
    )
    return (
        "<!DOCTYPE html><html><head><title>Nitty Gritty</title><script>var t = '<table><tr><th>Rank</th></tr></table>';</script></head><body>"
        '<table class="layout"><tr><td>Division I</td><td><a href="/">Home</a></td></tr></table>'
        f"{rpi_table if table else '<p>No rankings are available.</p>'}</body></html>"
    ).encode()


RPI_ROWS = [
    ("1", "Texas A&amp;M", "SEC", ".6512", "44-12", ".5901"),
    ("2", "  Florida\n State ", "ACC", ".6433", "41-14", ".5872"),
    ("3", "LSU", "SEC", ".6390", "40-15", ".5850"),
]


def html_answer(page: bytes) -> Answer:
    return Answer(200, page, {"content-type": "text/html; charset=utf-8"})


def test_rpi_is_read_from_the_html_table(start: Start, stub: LoopbackStub, catalog: Catalog) -> None:
    mf = start([RPI], vars={"UPSTREAM_URL": stub.url})
    season = int(eastern_date(now_ms())[:4])
    stub.answer(RPI_PATH, html_answer(rpi_page(RPI_ROWS)))
    watched = generations(mf, RPI, [f"cbase:ratings:{season}", f"cbase:ratings:{season - 1}", f"cbase:standings:{season}"])
    assert run(mf, RPI, catalog, now_ms()) == "ok"

    (request,) = stub.received(RPI_PATH)
    assert f"academic_year={season}" in request.path and "sport_code=MBA" in request.path
    rows = mf.d1(RPI, "DB", "SELECT season, team, system, rating, rank, details FROM team_ratings ORDER BY rank")
    assert [(r["season"], r["team"], r["system"], r["rating"], r["rank"]) for r in rows] == [
        (season, "Texas A&M", "rpi", 0.6512, 1),
        (season, "Florida State", "rpi", 0.6433, 2),
        (season, "LSU", "rpi", 0.639, 3),
    ]
    assert json.loads(rows[0]["details"]) == {"conference": "SEC", "record": "44-12", "sos": ".5901"}
    assert untouched(mf, RPI, watched) == {f"cbase:ratings:{season - 1}", f"cbase:standings:{season}"}
    archived = mf.r2_list(RPI, "ARCHIVE", "raw/cbase/rpi/")
    assert archived[-1].endswith(".html") and b"Texas A&amp;M" in mf.r2_get(RPI, "ARCHIVE", archived[-1])


@pytest.mark.parametrize(
    ("page", "error"),
    [
        pytest.param(rpi_page(RPI_ROWS, table=False), "the upstream's HTML has no RPI table", id="no-table"),
        pytest.param(rpi_page([*RPI_ROWS, ("4", "Arkansas", "SEC", "n/a", "39-16", ".5800")]), "invalid upstream payload at 3.RPI", id="bad-cell"),
        pytest.param(rpi_page([*RPI_ROWS, ("", "", "", "", "", "")]), "invalid upstream payload at 3.Rank", id="empty-row"),
        pytest.param(rpi_page([]), "the upstream's HTML has no RPI table", id="empty-table"),
    ],
)
def test_an_rpi_page_without_a_valid_table_writes_nothing(start: Start, stub: LoopbackStub, catalog: Catalog, page: bytes, error: str) -> None:
    mf = start([RPI], vars={"UPSTREAM_URL": stub.url})
    stub.answer(RPI_PATH, html_answer(page))
    assert run(mf, RPI, catalog, now_ms()) == "exception"
    (failed,) = ledger(mf, RPI)
    assert failed["error"].startswith(error), failed["error"]
    assert mf.d1(RPI, "DB", "SELECT COUNT(*) AS n FROM team_ratings") == [{"n": 0}]
