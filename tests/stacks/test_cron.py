"""Cron expressions read the way Cloudflare reads them: day of week 1-7 with 1 = SUN.

The expected days below come from Cloudflare's cron-triggers documentation (`0 17 * * 1`
and `0 17 * * sun` are 5 pm on Sunday; `mon-fri` equals `2-6`; `6L` and `friL` are the
last Friday of the month), not from the library that evaluates them.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from stacks import cron
from stacks.catalog import load_catalog
from tests.conftest import ROOT

WEEKDAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")  # datetime.weekday() order


def days(expression: str) -> set[str]:
    return {WEEKDAYS[datetime.fromisoformat(run).weekday()] for run in cron.schedule(expression).next_runs}


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("0 17 * * 1", {"SUN"}),
        ("0 17 * * sun", {"SUN"}),
        ("0 17 * * 7", {"SAT"}),
        ("0 11 * * 2", {"MON"}),
        ("0 11 * * TUE", {"TUE"}),
        ("10 7 * * 2-6", {"THU", "FRI", "MON"}),  # from Thursday 2026-01-01: the weekend skipped
        ("10 7 * * mon-fri", {"THU", "FRI", "MON"}),
        ("0 18 * * 6L", {"FRI"}),
        ("0 18 * * friL", {"FRI"}),
    ],
)
def test_day_of_week_as_cloudflare_reads_it(expression: str, expected: set[str]) -> None:
    assert days(expression) == expected


def test_the_last_friday_is_the_last_of_its_month() -> None:
    runs = [datetime.fromisoformat(run) for run in cron.schedule("0 18 * * 6L").next_runs]
    assert [(r.month, r.day) for r in runs] == [(1, 30), (2, 27), (3, 27)]  # 2026


def test_mon_fri_equals_2_6() -> None:
    assert cron.schedule("10 7 * * mon-fri").next_runs == cron.schedule("10 7 * * 2-6").next_runs


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("0 11 * * 0", "0 is outside Cloudflare's 1-7"),
        ("0 11 * * 8", "8 is outside Cloudflare's 1-7"),
        ("0 11 * * ?", '"?" is not a value'),
        ("@daily", "not a five-field cron expression"),
        ("0 0 * * * *", "not a five-field cron expression"),
        ("*/5 * * *", "not a five-field cron expression"),
        ("60 * * * *", "minute: 60 is outside"),
        ("0 24 * * *", "hour: 24 is outside"),
        ("0 0 0 * *", "day of month: 0 is outside"),
        ("0 0 * 13 *", "month: 13 is outside"),
        ("0 0 * JANUARY *", "is not a value"),
        ("0 0 L * 2", "both day of month and day of week are restricted"),
        ("0 0 31 2 *", "never fires"),
        ("0 0 * * sat-mon", "runs backwards"),
        ("*/0 * * * *", "bad step"),
        ("/10 * * * *", "is not a range"),
        ("0 0 * * 2#6", "#6 is not 1-5"),
        ("0 0 * * +MON", "is not a value"),
    ],
)
def test_forms_outside_the_dialect_are_refused(expression: str, message: str) -> None:
    with pytest.raises(cron.CronError) as raised:
        cron.schedule(expression)
    assert message in str(raised.value)


@pytest.mark.parametrize(
    ("expression", "minutes"),
    [
        ("*/2 * * * *", 2),
        ("7 * * * *", 60),
        ("0,59 * * * *", 1),
        ("0 0,23 * * *", 60),  # 23:00 to 00:00 the next day
        ("0 0,23 * * MON", 1380),  # Mondays only: no next-day run
        ("0 0,23 * * SAT,SUN", 60),  # Saturday 23:00 to Sunday 00:00
        ("0 6 * * *", None),  # once a day
    ],
)
def test_shortest_gap(expression: str, minutes: int | None) -> None:
    assert cron.schedule(expression).shortest_gap_minutes == minutes


def test_the_catalog_writes_days_of_the_week_by_name() -> None:
    with pytest.raises(cron.CronError) as raised:
        cron.day_names_required("0 11 * * 2")
    assert "2 is MON here (TUE in Vixie cron): write MON, or TUE if that day is meant" in str(raised.value)
    assert cron.day_names_required("0 11 * * TUE") == "0 11 * * TUE"
    assert cron.day_names_required("0 10 * * MON#2") == "0 10 * * MON#2"


def test_the_weekly_nflverse_import_runs_on_tuesday_after_monday_night() -> None:
    # nflverse publishes a week's play-by-play after Monday's game.
    nflverse = load_catalog(ROOT).worker("blaze-nfl-ingest-nflverse")
    assert [days(c) for c in nflverse.crons] == [{"TUE"}]
