"""A local stand-in for the upstream data APIs, so a local fleet never calls the internet.

`make dev` (local/fleet.py) points every ingestion Worker's UPSTREAM_URL at this server,
keeping the URL's path, so each feed asks it exactly what it would ask its provider.
It answers SportsDataIO's GamesByDate for any league and date with the same games for
the same date (in the provider's wire format: `game`, which the Worker tests use too);
any other path gets a 404 that names it, which the Worker records as a failed run.
"""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler
from typing import Callable

from local.loopback import LoopbackServer

MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
GAMES_BY_DATE = re.compile(r"^/v3/([a-z]+)/scores/json/GamesByDate/(\d{4})-([A-Z]{3})-(\d{2})$")
TEAMS = [("NYY", "BOS"), ("LAD", "SF"), ("CHC", "STL")]


def game(
    game_id: int, day: str, home: str, away: str, status: str = "Scheduled", home_runs: int | None = None,
    away_runs: int | None = None, inning: int | None = None, stadium: str = "Stadium",
) -> dict[str, object]:
    """One MLB game as SportsDataIO sends it (also what the Worker tests feed the Workers)."""
    return {
        "GameID": game_id,
        "Season": int(day[:4]),
        "Day": f"{day}T00:00:00",
        "DateTime": f"{day}T19:05:00",
        "Status": status,
        "HomeTeam": home,
        "AwayTeam": away,
        "HomeTeamRuns": home_runs,
        "AwayTeamRuns": away_runs,
        "Inning": inning,
        "InningHalf": "T" if inning else None,
        "StadiumName": stadium,
        "GlobalGameID": 10000000 + game_id,
    }


SEASON_GAMES = 2430  # an MLB regular season: 30 teams, 162 games each
SEASON_TEAMS = [f"T{i:02d}" for i in range(30)]


def season_games(season: int, runs: int) -> list[dict[str, object]]:
    """A whole regular season of final games, 13 a day from late March, every team at home
    and away; `runs` sets the scores, so a second call with another value changes every game."""
    start = date(season, 3, 27)
    return [
        game(i + 1, (start + timedelta(days=i // 13)).isoformat(), SEASON_TEAMS[i % 30], SEASON_TEAMS[(i + 1 + (i // 30) % 29) % 30],
             "Final", runs, runs + 1)
        for i in range(SEASON_GAMES)
    ]


def games_on(day: str) -> list[dict[str, object]]:
    """The fixture's games of `day` (YYYY-MM-DD): one final, one in progress, one scheduled."""
    base = int(day.replace("-", "")) * 10
    games = []
    for index, ((home, away), status) in enumerate(zip(TEAMS, ["Final", "InProgress", "Scheduled"])):
        played = status != "Scheduled"
        games.append(game(
            base + index, day, home, away, status,
            home_runs=4 + index if played else None, away_runs=2 if played else None,
            inning=6 if status == "InProgress" else None, stadium=f"{home} Stadium",
        ))
    return games


def answer(path: str) -> tuple[int, object]:
    found = GAMES_BY_DATE.match(path.split("?")[0])
    if found is None:
        return 404, {"error": f"the local fixture server has no data for {path.split('?')[0]}"}
    _, year, month, day = found.groups()
    if month not in MONTHS:
        return 404, {"error": f"no month {month}"}
    return 200, games_on(f"{year}-{MONTHS.index(month) + 1:02d}-{day}")


class FixtureServer:
    """The fixture upstream on 127.0.0.1 (a free port unless one is given), in a thread;
    `answers` gives each path's status and JSON payload (`answer` unless told otherwise)."""

    def __init__(self, port: int = 0, answers: Callable[[str], tuple[int, object]] = answer) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                status, payload = answers(self.path)
                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._loopback = LoopbackServer(Handler, port)

    @property
    def url(self) -> str:
        return self._loopback.url

    def close(self) -> None:
        self._loopback.close()
