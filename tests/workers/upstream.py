"""Upstream payloads in the providers' wire formats, for the loopback stub to serve."""

from __future__ import annotations

import json
import time
from datetime import datetime
from zoneinfo import ZoneInfo

from local.fixtures import MONTHS, game  # noqa: F401 - the provider's wire format, shared with the local fleet
from tests.workers.stubs import Answer

API_KEY = "sdio-test-key-7f3e91"


def eastern_date(at_ms: int) -> str:
    return datetime.fromtimestamp(at_ms / 1000, ZoneInfo("America/New_York")).strftime("%Y-%m-%d")


def games_by_date_path(at_ms: int, league: str = "mlb") -> str:
    """SportsDataIO's GamesByDate path for the run at `at_ms` (its date in US Eastern time)."""
    year, month, day = eastern_date(at_ms).split("-")
    return f"/v3/{league}/scores/json/GamesByDate/{year}-{MONTHS[int(month) - 1]}-{day}"


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
