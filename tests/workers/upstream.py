"""Upstream payloads in the providers' wire formats, for the loopback stub to serve."""

from __future__ import annotations

import json
import time
from datetime import datetime
from zoneinfo import ZoneInfo

from tests.workers.stubs import Answer

MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
API_KEY = "sdio-test-key-7f3e91"


def eastern_date(at_ms: int) -> str:
    return datetime.fromtimestamp(at_ms / 1000, ZoneInfo("America/New_York")).strftime("%Y-%m-%d")


def games_by_date_path(at_ms: int, league: str = "mlb") -> str:
    """SportsDataIO's GamesByDate path for the run at `at_ms` (its date in US Eastern time)."""
    year, month, day = eastern_date(at_ms).split("-")
    return f"/v3/{league}/scores/json/GamesByDate/{year}-{MONTHS[int(month) - 1]}-{day}"


def game(game_id: int, day: str, home: str, away: str, status: str = "Scheduled", home_runs: int | None = None, away_runs: int | None = None, inning: int | None = None) -> dict:
    """One MLB game as SportsDataIO sends it."""
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
        "StadiumName": "Stadium",
        "GlobalGameID": 10000000 + game_id,
    }


def stadium(stadium_id: int, name: str, lat: float | None, long: float | None) -> dict:
    """One stadium as SportsDataIO's Stadiums endpoint sends it."""
    return {"StadiumID": stadium_id, "Active": True, "Name": name, "City": "City", "State": "NY", "Country": "USA", "Capacity": 46537, "GeoLat": lat, "GeoLong": long}


def json_answer(payload: object, status: int = 200, etag: str | None = None, delay_s: float = 0.0) -> Answer:
    headers = {"content-type": "application/json"}
    if etag:
        headers["etag"] = etag
    return Answer(status, json.dumps(payload).encode(), headers, delay_s)


def now_ms() -> int:
    return int(time.time() * 1000)
