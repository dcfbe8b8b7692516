"""The monitor Worker (blaze-monitor) in workerd: metrics of every bound D1, alerts, reports."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import shlex
import socket
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from d1.migration_set import load_migration_set
from local.driver import Instance, Reply
from stacks.catalog import Catalog
from tests.conftest import ROOT, Start
from tests.workers.conftest import corrupt_database
from tests.workers.stubs import Answer, LoopbackStub

WORKER = "blaze-monitor"
SECRET = "whsec-test-5d1c"
TOKEN = "dash-test-token-8b2e4a"
EVERY_5_MIN = "*/5 * * * *"
MINUTE = 60_000
DAY = 86_400_000
MB = 1024 * 1024
# Latency limits far above what a loaded test machine's cold workerd can take for its first
# probe (it crossed the catalog's 200 ms): only the tests' own breaches alert.
QUIET_LATENCY = {"LATENCY_WARNING_MS": "60000", "LATENCY_CRITICAL_MS": "120000"}
# A size breach from one big row.
SIZE_LIMITS = {"SIZE_WARNING_MB": "1", "SIZE_CRITICAL_MB": "50", "REALERT_MINUTES": "60"}


@pytest.fixture
def hook(stub: LoopbackStub) -> LoopbackStub:
    stub.answer("/hook", Answer(204))
    return stub


def start_monitor(
    start: Start, hook: LoopbackStub, webhook_url: str | None = None, vars: dict[str, str] | None = None, **options: object
) -> Instance:
    secrets = {"ALERT_WEBHOOK_URL": webhook_url or f"{hook.url}/hook", "ALERT_WEBHOOK_SECRET": SECRET, "DASHBOARD_TOKEN": TOKEN}
    return start([WORKER], secrets=secrets, vars=QUIET_LATENCY | (vars or {}), **options)


def read(mf: Instance, path: str, method: str = "GET", token: str | None = TOKEN) -> Reply:
    """A dashboard request, with the dashboard token unless told otherwise."""
    return mf.fetch(WORKER, path, method, headers={"authorization": f"Bearer {token}"} if token else {})


def refusing_url() -> str:
    """A loopback address where nothing listens: the webhook's host is down."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/hook"


def monitored(catalog: Catalog) -> list[str]:
    return sorted(binding for kind, _, binding, _ in catalog.worker(WORKER).bindings() if kind == "d1")


def signed_messages(hook: LoopbackStub) -> list[dict]:
    """Every webhook delivery, after checking its HMAC signature over '<timestamp>.<body>'."""
    messages = []
    for request in hook.received("/hook"):
        timestamp = request.headers["x-blaze-timestamp"]
        expected = hmac.new(SECRET.encode(), f"{timestamp}.".encode() + request.body, hashlib.sha256).hexdigest()
        assert request.headers["x-blaze-signature"] == f"sha256={expected}"
        assert abs(int(timestamp) - time.time()) < 300
        messages.append(json.loads(request.body))
    return messages


def alerts(hook: LoopbackStub) -> list[tuple[str, str, str, str]]:
    return [
        (m["kind"], m["incident"]["database"], m["incident"]["metric"], m["severity"])
        for m in signed_messages(hook) if m["type"] == "blaze.monitor.alert"
    ]


def run(mf: Instance, at_ms: int, cron: str = EVERY_5_MIN) -> None:
    assert mf.scheduled(WORKER, cron, at_ms) == {"outcome": "ok", "noRetry": False}


def metrics_at(mf: Instance, at_ms: int) -> dict[str, dict]:
    rows = mf.d1(WORKER, "MONITOR_DB", "SELECT * FROM db_metrics WHERE collected_at = ?", at_ms)
    return {row["database"]: row for row in rows}


def grow(mf: Instance, binding: str, table_sql: str, megabytes: float = 1.5) -> None:
    """Adds about `megabytes` to a database with one large row (hex text, two characters a byte)."""
    mf.d1(WORKER, binding, table_sql, int(megabytes * MB / 2))


BIG_ODDS_EVENT = (
    "INSERT INTO odds_events (event_id, sport, commence_time, home_team, away_team, updated_at) "
    "VALUES ('big', 'mlb', '2025-04-01', hex(randomblob(?)), 'away', '2025-04-01')"
)
BIG_PROJECTION = (
    "INSERT INTO game_projections (sport, game_id, game_date, home_win_probability, updated_at) "
    "VALUES ('mlb', hex(randomblob(?)), '2025-04-01', 0.5, '2025-04-01')"
)


def now_ms() -> int:
    return int(time.time() * 1000)


def test_a_run_records_every_bound_database(start: Start, hook: LoopbackStub, catalog: Catalog) -> None:
    mf = start_monitor(start, hook)
    for game in ("g1", "g2", "g3"):
        mf.d1(WORKER, "DB_MLB_GAMES", "INSERT INTO games (game_id, season, game_date, status, home_team, away_team, updated_at) "
              "VALUES (?, 2025, '2025-04-01', 'final', 'NYY', 'BOS', '2025-04-01')", game)
    t0 = now_ms()
    run(mf, t0)

    recorded = metrics_at(mf, t0)
    assert sorted(recorded) == monitored(catalog)
    for database, row in recorded.items():
        assert row["error"] is None, database
        assert row["size_bytes"] > 0 and row["latency_ms"] >= 0, database
        assert row["growth_mb_per_day"] is None, database  # no history yet
    games = json.loads(recorded["DB_MLB_GAMES"]["table_rows"])
    migrations = load_migration_set(ROOT, catalog.databases[0].migrations_dir)
    assert games == {"d1_migrations": len(migrations.migrations), "game_weather": 0, "games": 3, "standings": 0, "team_ratings": 0, "venues": 0}
    assert recorded["DB_MLB_GAMES"]["row_count"] == 3 + len(migrations.migrations)
    assert recorded["DB_MLB_GAMES"]["table_count"] == 6

    latest = read(mf, "/api/monitor/metrics/latest").json()
    assert sorted(d["database"] for d in latest["databases"]) == monitored(catalog)
    assert latest["openIncidents"] == 0
    history = read(mf, "/api/monitor/history?database=DB_MLB_GAMES&hours=1").json()
    assert [s["collected_at"] for s in history["samples"]] == [t0]
    assert hook.received() == []  # the catalog's size and growth thresholds are far above empty databases


def test_tables_with_any_legal_sqlite_name_are_measured(start: Start, hook: LoopbackStub) -> None:
    # SQLite takes any name in double quotes (a quote inside doubled); a name the monitor
    # refused used to turn the whole database into one error.
    mf = start_monitor(start, hook)
    # 'ncf_polls' and 'sqlitefans' are user tables a LIKE of '_cf_%' or 'sqlite_%' mistakes for internal ones.
    odd = ['Box Scores', 'select', 'weird "quoted"; -- name', "2025-stats", "ncf_polls", "sqlitefans"]
    for name in odd:
        quoted = '"' + name.replace('"', '""') + '"'
        mf.d1(WORKER, "DB_MLB_GAMES", f"CREATE TABLE {quoted} (id INTEGER PRIMARY KEY)")
        mf.d1(WORKER, "DB_MLB_GAMES", f"INSERT INTO {quoted} (id) VALUES (1), (2)")
    t0 = now_ms()
    run(mf, t0)
    recorded = metrics_at(mf, t0)["DB_MLB_GAMES"]
    assert recorded["error"] is None
    rows = json.loads(recorded["table_rows"])
    assert {name: rows.get(name) for name in odd} == {name: 2 for name in odd}
    assert rows["games"] == 0


def test_a_breach_alerts_once_reminds_escalates_and_recovers(start: Start, hook: LoopbackStub, tmp_path: Path) -> None:
    limits = SIZE_LIMITS
    mf = start_monitor(start, hook, vars=limits, persist=tmp_path)
    grow(mf, "DB_ODDS", BIG_ODDS_EVENT)
    t0 = now_ms()

    run(mf, t0)
    assert alerts(hook) == [("opened", "DB_ODDS", "size_mb", "warning")]
    run(mf, t0 + 5 * MINUTE)
    run(mf, t0 + 55 * MINUTE)
    assert len(alerts(hook)) == 1, "no repeat within the re-alert interval"
    run(mf, t0 + 60 * MINUTE)
    assert alerts(hook)[1:] == [("reminder", "DB_ODDS", "size_mb", "warning")]
    open_alerts = read(mf, "/api/monitor/alerts").json()["incidents"]
    assert [(i["database"], i["metric"], i["severity"]) for i in open_alerts] == [("DB_ODDS", "size_mb", "warning")]
    mf.close()

    mf = start_monitor(start, hook, vars=limits | {"SIZE_CRITICAL_MB": "1.2"}, persist=tmp_path)
    run(mf, t0 + 65 * MINUTE)
    assert alerts(hook)[2:] == [("escalated", "DB_ODDS", "size_mb", "critical")]
    mf.close()

    mf = start_monitor(start, hook, vars=limits | {"SIZE_WARNING_MB": "100", "SIZE_CRITICAL_MB": "200"}, persist=tmp_path)
    run(mf, t0 + 70 * MINUTE)
    assert alerts(hook)[3:] == [("resolved", "DB_ODDS", "size_mb", "resolved")]
    run(mf, t0 + 75 * MINUTE)
    assert len(alerts(hook)) == 4
    assert read(mf, "/api/monitor/alerts").json()["incidents"] == []
    everything = read(mf, "/api/monitor/alerts?state=all").json()["incidents"]
    assert [(i["database"], i["resolved_at"]) for i in everything] == [("DB_ODDS", t0 + 70 * MINUTE)]
    kinds = mf.d1(WORKER, "MONITOR_DB", "SELECT kind, status FROM alert_deliveries ORDER BY id")
    assert kinds == [{"kind": k, "status": 204} for k in ("opened", "reminder", "escalated", "resolved")]


def test_growth_is_measured_from_history_and_alerts(start: Start, hook: LoopbackStub) -> None:
    mf = start_monitor(start, hook, vars={"GROWTH_WARNING_MB_PER_DAY": "5", "GROWTH_CRITICAL_MB_PER_DAY": "1000"})
    t0 = now_ms() - 2 * 3_600_000
    run(mf, t0)
    grow(mf, "DB_ANALYTICS", BIG_PROJECTION)
    t1 = t0 + 2 * 3_600_000
    run(mf, t1)
    before, after = metrics_at(mf, t0)["DB_ANALYTICS"], metrics_at(mf, t1)["DB_ANALYTICS"]
    expected = (after["size_bytes"] - before["size_bytes"]) / MB / (2 / 24)
    assert expected > 5
    assert after["growth_mb_per_day"] == pytest.approx(expected)
    assert metrics_at(mf, t1)["DB_ODDS"]["growth_mb_per_day"] == 0
    assert alerts(hook) == [("opened", "DB_ANALYTICS", "growth_mb_per_day", "warning")]


def test_rows_older_than_the_retention_are_removed(start: Start, hook: LoopbackStub) -> None:
    mf = start_monitor(start, hook)
    t0 = now_ms()
    for age_days in (31, 29):
        mf.d1(WORKER, "MONITOR_DB", "INSERT INTO db_metrics (collected_at, database, size_bytes) VALUES (?, 'DB_ODDS', 4096)", t0 - age_days * DAY)
    for age_days in (40, 10):
        mf.d1(WORKER, "MONITOR_DB", "INSERT INTO incidents (database, metric, severity, message, opened_at, last_alerted_at, resolved_at) "
              "VALUES ('DB_ODDS', 'size_mb', 'warning', 'old', ?1, ?1, ?1)", t0 - age_days * DAY)
    run(mf, t0)
    kept = mf.d1(WORKER, "MONITOR_DB", "SELECT DISTINCT collected_at FROM db_metrics ORDER BY collected_at")
    assert [r["collected_at"] for r in kept] == [t0 - 29 * DAY, t0]
    incidents = mf.d1(WORKER, "MONITOR_DB", "SELECT resolved_at FROM incidents")
    assert incidents == [{"resolved_at": t0 - 10 * DAY}]


def test_a_failing_database_is_recorded_and_the_run_completes_for_the_others(
    start: Start, hook: LoopbackStub, catalog: Catalog, tmp_path: Path
) -> None:
    mf = start_monitor(start, hook, persist=tmp_path)
    t0 = now_ms()
    run(mf, t0)
    mf.close()
    corrupt_database(tmp_path, b"CREATE TABLE search_documents")

    mf = start_monitor(start, hook, persist=tmp_path, migrate=False)
    run(mf, t0 + 5 * MINUTE)
    recorded = metrics_at(mf, t0 + 5 * MINUTE)
    assert sorted(recorded) == monitored(catalog)
    assert recorded["DB_SEARCH"]["error"] and recorded["DB_SEARCH"]["size_bytes"] is None
    for database, row in recorded.items():
        if database != "DB_SEARCH":
            assert row["error"] is None and row["size_bytes"] > 0, database
    assert alerts(hook) == [("opened", "DB_SEARCH", "error", "critical")]
    assert SECRET not in json.dumps(signed_messages(hook))


def test_an_unreachable_webhook_is_recorded_and_retried(start: Start, stub: LoopbackStub) -> None:
    stub.answer("/hook", Answer(503))
    mf = start_monitor(start, stub, vars={"SIZE_WARNING_MB": "1", "SIZE_CRITICAL_MB": "50"})
    grow(mf, "DB_ODDS", BIG_ODDS_EVENT)
    t0 = now_ms()
    run(mf, t0)
    stub.answer("/hook", Answer(200))
    run(mf, t0 + 5 * MINUTE)
    deliveries = mf.d1(WORKER, "MONITOR_DB", "SELECT kind, status, error FROM alert_deliveries ORDER BY id")
    assert deliveries == [
        {"kind": "opened", "status": 503, "error": "webhook answered 503"},
        {"kind": "opened", "status": 200, "error": None},
    ]


RECOVERED = SIZE_LIMITS | {"SIZE_WARNING_MB": "100", "SIZE_CRITICAL_MB": "200"}


def test_an_alert_the_webhook_did_not_take_is_delivered_by_the_next_run_once(
    start: Start, hook: LoopbackStub, tmp_path: Path
) -> None:
    # Run 1: nothing listens at the webhook's address. Run 2: it is back.
    mf = start_monitor(start, hook, webhook_url=refusing_url(), vars=SIZE_LIMITS, persist=tmp_path)
    grow(mf, "DB_ODDS", BIG_ODDS_EVENT)
    t0 = now_ms()
    run(mf, t0)
    mf.close()
    assert hook.received() == []

    mf = start_monitor(start, hook, vars=SIZE_LIMITS, persist=tmp_path)
    run(mf, t0 + 5 * MINUTE)
    run(mf, t0 + 10 * MINUTE)
    assert alerts(hook) == [("opened", "DB_ODDS", "size_mb", "warning")]
    opened = signed_messages(hook)[0]
    assert opened["incident"]["id"] == mf.d1(WORKER, "MONITOR_DB", "SELECT id FROM incidents")[0]["id"]
    assert opened["incident"]["openedAt"] == time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t0 / 1000)) + f".{t0 % 1000:03d}Z"


def test_a_recovery_whose_delivery_failed_is_delivered_later(start: Start, stub: LoopbackStub, tmp_path: Path) -> None:
    stub.answer("/hook", Answer(204))
    mf = start_monitor(start, stub, vars=SIZE_LIMITS, persist=tmp_path)
    grow(mf, "DB_ODDS", BIG_ODDS_EVENT)
    t0 = now_ms()
    run(mf, t0)
    mf.close()

    stub.answer("/hook", Answer(500))
    mf = start_monitor(start, stub, vars=RECOVERED, persist=tmp_path)
    run(mf, t0 + 5 * MINUTE)
    assert [a[0] for a in alerts(stub)] == ["opened", "resolved"]  # the recovery was tried, and refused
    refused = signed_messages(stub)[1]
    stub.clear()

    stub.answer("/hook", Answer(204))
    run(mf, t0 + 10 * MINUTE)
    run(mf, t0 + 15 * MINUTE)
    assert alerts(stub) == [("resolved", "DB_ODDS", "size_mb", "resolved")]
    delivered = signed_messages(stub)[0]
    assert delivered["alertId"] == refused["alertId"], "a receiver can tell a retry from a new alert"
    resolved = delivered["incident"]["resolvedAt"]
    assert resolved == time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime((t0 + 5 * MINUTE) / 1000)) + f".{t0 % 1000:03d}Z"


def test_an_accepted_alert_is_not_sent_again_while_a_refused_one_is_retried(start: Start, stub: LoopbackStub) -> None:
    stub.answer("/hook", Answer(204))
    mf = start_monitor(start, stub, vars=SIZE_LIMITS)
    grow(mf, "DB_ODDS", BIG_ODDS_EVENT)
    t0 = now_ms()
    run(mf, t0)
    stub.answer("/hook", Answer(503))
    grow(mf, "DB_ANALYTICS", BIG_PROJECTION)
    run(mf, t0 + 5 * MINUTE)
    stub.clear()

    stub.answer("/hook", Answer(204))
    run(mf, t0 + 10 * MINUTE)
    run(mf, t0 + 15 * MINUTE)
    assert alerts(stub) == [("opened", "DB_ANALYTICS", "size_mb", "warning")]
    attempts = mf.d1(WORKER, "MONITOR_DB", "SELECT i.database, d.kind, d.status FROM alert_deliveries d JOIN incidents i ON i.id = d.incident_id ORDER BY d.id")
    assert attempts == [
        {"database": "DB_ODDS", "kind": "opened", "status": 204},
        {"database": "DB_ANALYTICS", "kind": "opened", "status": 503},
        {"database": "DB_ANALYTICS", "kind": "opened", "status": 204},
    ]


def test_a_destination_back_after_hours_gets_the_pending_alert_not_a_burst_of_reminders(start: Start, stub: LoopbackStub) -> None:
    stub.answer("/hook", Answer(503))
    mf = start_monitor(start, stub, vars=SIZE_LIMITS)
    grow(mf, "DB_ODDS", BIG_ODDS_EVENT)
    t0 = now_ms()
    for minutes in range(0, 180, 30):
        run(mf, t0 + minutes * MINUTE)
    stub.clear()
    stub.answer("/hook", Answer(204))
    run(mf, t0 + 180 * MINUTE)
    assert alerts(stub) == [("opened", "DB_ODDS", "size_mb", "warning")]
    run(mf, t0 + 235 * MINUTE)
    assert len(alerts(stub)) == 1
    run(mf, t0 + 240 * MINUTE)  # the re-alert interval after the last reminder that was due
    assert [a[0] for a in alerts(stub)] == ["opened", "reminder"]


def test_retrying_stops_when_the_alert_is_older_than_the_retry_window(start: Start, stub: LoopbackStub, tmp_path: Path) -> None:
    stub.answer("/hook", Answer(204))
    mf = start_monitor(start, stub, vars=SIZE_LIMITS | {"ALERT_RETRY_HOURS": "1"}, persist=tmp_path)
    grow(mf, "DB_ODDS", BIG_ODDS_EVENT)
    t0 = now_ms()
    run(mf, t0)
    mf.close()

    stub.answer("/hook", Answer(502))
    mf = start_monitor(start, stub, vars=RECOVERED | {"ALERT_RETRY_HOURS": "1"}, persist=tmp_path)
    t1 = t0 + 5 * MINUTE
    run(mf, t1)
    run(mf, t1 + 55 * MINUTE)  # within the hour: tried again
    stub.answer("/hook", Answer(204))
    run(mf, t1 + 65 * MINUTE)  # past it: given up, not sent
    assert [a[0] for a in alerts(stub)] == ["opened", "resolved", "resolved"]
    outbox = mf.d1(WORKER, "MONITOR_DB", "SELECT kind, attempts, delivered_at, abandoned_at FROM alert_outbox ORDER BY id")
    assert outbox == [
        {"kind": "opened", "attempts": 1, "delivered_at": t0, "abandoned_at": None},
        {"kind": "resolved", "attempts": 2, "delivered_at": None, "abandoned_at": t1 + 65 * MINUTE},
    ]


def test_the_daily_report_is_stored_sent_and_served(start: Start, hook: LoopbackStub, catalog: Catalog) -> None:
    report_cron = catalog.worker(WORKER).vars["REPORT_CRON"]
    assert report_cron in catalog.worker(WORKER).crons
    mf = start_monitor(start, hook)
    t0 = now_ms()
    run(mf, t0 - 10 * MINUTE)
    run(mf, t0 - 5 * MINUTE)
    run(mf, t0, report_cron)

    date = time.strftime("%Y-%m-%d", time.gmtime(t0 / 1000))
    stored = mf.d1(WORKER, "MONITOR_DB", "SELECT report_date, body FROM reports")
    assert [r["report_date"] for r in stored] == [date]
    report = json.loads(stored[0]["body"])
    assert sorted(d["database"] for d in report["databases"]) == monitored(catalog)
    assert all(d["samples"] == 2 and d["errors"] == 0 for d in report["databases"])
    sent = [m for m in signed_messages(hook) if m["type"] == "blaze.monitor.report"]
    assert [m["report"] for m in sent] == [report]
    assert read(mf, "/api/monitor/reports/latest").json() == report
    assert read(mf, f"/api/monitor/reports/{date}").json() == report


DASHBOARD_PATHS = [
    "/api/monitor/metrics/latest",
    "/api/monitor/alerts",
    "/api/monitor/alerts?state=all",
    "/api/monitor/history?database=DB_ODDS&hours=1",
    "/api/monitor/reports/latest",
    "/api/monitor/no-such-endpoint",
]
# Planted in the history as a collection error: what a raw error message could carry.
LEAKY_ERROR = '<script>alert(1)</script> D1_ERROR: auth token sk_live_51Hleaky for blaze-odds'


def served_with_data(start: Start, hook: LoopbackStub, catalog: Catalog) -> Instance:
    mf = start_monitor(start, hook)
    t0 = now_ms()
    run(mf, t0, catalog.worker(WORKER).vars["REPORT_CRON"])
    run(mf, t0)
    mf.d1(WORKER, "MONITOR_DB", "INSERT INTO db_metrics (collected_at, database, error) VALUES (?, 'DB_ODDS', ?)", t0, LEAKY_ERROR)
    mf.d1(WORKER, "MONITOR_DB", "INSERT INTO incidents (database, metric, severity, message, opened_at, last_alerted_at) "
          "VALUES ('DB_ODDS', 'error', 'critical', ?, ?, ?)", LEAKY_ERROR, t0, t0)
    return mf


@pytest.mark.parametrize("token", [None, "wrong-token", TOKEN + "x", TOKEN[:-1], f"{TOKEN} {TOKEN}"])
def test_the_dashboard_answers_401_without_the_right_token_and_shows_nothing(
    start: Start, hook: LoopbackStub, catalog: Catalog, token: str | None
) -> None:
    mf = served_with_data(start, hook, catalog)
    for path in DASHBOARD_PATHS:
        for method in ("GET", "HEAD", "POST"):
            reply = read(mf, path, method, token=token)
            assert reply.status == 401, (method, path)
            assert reply.headers["www-authenticate"].startswith("Bearer "), (method, path)
            if method != "HEAD":
                assert reply.json()["error"]["code"] == "unauthorized", (method, path)
            for secret in ["DB_", "blaze-", "MONITOR_DB", "sk_live", "<script>", "size_bytes", "row_count"]:
                assert secret not in reply.text, (method, path, secret)


def test_the_dashboard_serves_its_data_to_the_token_holder(start: Start, hook: LoopbackStub, catalog: Catalog) -> None:
    mf = served_with_data(start, hook, catalog)
    latest = read(mf, "/api/monitor/metrics/latest")
    assert latest.status == 200
    assert sorted(d["database"] for d in latest.json()["databases"]) == monitored(catalog)
    history = read(mf, "/api/monitor/history?database=DB_ODDS&hours=1")
    assert history.status == 200 and LEAKY_ERROR in [s["error"] for s in history.json()["samples"]]
    # Raw messages reach only the token holder, as JSON a browser will not render as a page.
    assert history.headers["content-type"].startswith("application/json")
    assert history.headers["x-content-type-options"] == "nosniff"
    alerts_ = read(mf, "/api/monitor/alerts").json()["incidents"]
    assert [(i["database"], i["message"]) for i in alerts_] == [("DB_ODDS", LEAKY_ERROR)]
    assert read(mf, "/api/monitor/reports/latest").status == 200
    assert read(mf, "/api/monitor/metrics/latest", token=TOKEN.upper()).status == 401, "tokens are case-sensitive"
    lowercase_scheme = mf.fetch(WORKER, "/api/monitor/alerts", headers={"authorization": f"bearer {TOKEN}"})
    assert lowercase_scheme.status == 200


def test_the_readmes_dashboard_curl_works_as_written(start: Start, hook: LoopbackStub) -> None:
    section = (ROOT / "workers" / "README.md").read_text().split("## Monitor (`blaze-monitor`)")[1].split("\n## ")[0]
    [block] = re.findall(r"```sh\n(.*?)```", section, flags=re.DOTALL)
    [curl] = [shlex.split(line) for line in block.splitlines() if line.startswith("curl ")]
    header = curl[curl.index("-H") + 1].replace("$token", TOKEN)
    name, _, value = header.partition(": ")
    url = urlsplit(curl[-1])
    assert url.hostname == "blazesportsintel.com"
    mf = start_monitor(start, hook)
    run(mf, now_ms())
    reply = mf.fetch(WORKER, url.path, headers={name: value})
    assert reply.status == 200 and reply.json()["databases"]
    assert mf.fetch(WORKER, url.path).status == 401


def test_dashboard_errors_keep_the_shape(start: Start, hook: LoopbackStub) -> None:
    mf = start_monitor(start, hook)
    bad = read(mf, "/api/monitor/history?database=x%27%3B%20DROP%20TABLE%20db_metrics")
    assert (bad.status, bad.json()["error"]["code"]) == (400, "bad_request")
    assert read(mf, "/api/monitor/metrics/latest").status == 404
    assert read(mf, "/api/monitor/alerts", "POST").json()["error"]["code"] == "method_not_allowed"
    assert read(mf, "/api/monitor/reports/latest").json() == {"error": {"code": "not_found", "message": "no such report"}}
