"""The shipped catalog: the inventory the seed document describes, internally consistent."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from stacks import cron
from stacks.catalog import load_catalog
from tests.conftest import ROOT

CATALOG = load_catalog(ROOT)


def period(expression: str) -> timedelta:
    first, second = (datetime.fromisoformat(run) for run in cron.schedule(expression).next_runs[:2])
    return second - first


def test_inventory_sizes() -> None:
    assert len(CATALOG.workers) == 72
    assert len(CATALOG.databases) == 18
    assert len(CATALOG.namespaces) >= 20
    assert {b.name for b in CATALOG.buckets} >= {"blaze-media", "blaze-backups"}


def test_72_workers_come_from_a_handful_of_families_each_used() -> None:
    families = Counter(w.family for w in CATALOG.workers)
    assert set(families) == set(CATALOG.families)
    assert len(families) <= 8


def test_the_monitor_runs_every_five_minutes_with_a_daily_job_and_30_day_retention_over_every_database() -> None:
    monitor = CATALOG.worker("blaze-monitor")
    assert monitor.family == "monitor"
    assert [period(cron) for cron in monitor.crons] == [timedelta(minutes=5), timedelta(days=1)]
    assert monitor.vars["RETENTION_DAYS"] == "30"
    assert set(monitor.d1.values()) == {db.name for db in CATALOG.databases}
    assert set(monitor.secrets) == {"ALERT_WEBHOOK_URL", "ALERT_WEBHOOK_SECRET", "DASHBOARD_TOKEN"}


def test_the_storage_worker_serves_the_media_bucket_with_d1_metadata_and_a_token() -> None:
    storage = CATALOG.worker("blaze-storage")
    assert storage.family == "storage"
    assert storage.r2 == {"MEDIA": "blaze-media"}
    assert storage.d1 == {"DB": "blaze-media"}
    assert "UPLOAD_TOKEN" in storage.secrets and "RATE_LIMITS" in storage.kv


def test_media_has_cors_and_backups_expire_and_abort_stale_uploads() -> None:
    buckets = {b.name: b for b in CATALOG.buckets}
    assert buckets["blaze-media"].cors is not None and "PUT" in buckets["blaze-media"].cors.methods
    rules = buckets["blaze-backups"].lifecycle
    assert any(r.expire_after_days for r in rules) and any(r.abort_multipart_after_days for r in rules)


def test_every_database_is_backed_up_daily() -> None:
    backup = CATALOG.worker("blaze-backup")
    assert set(backup.d1.values()) == {db.name for db in CATALOG.databases}
    assert backup.r2 == {"BACKUPS": "blaze-backups"} and len(backup.crons) == 1


def test_every_ingestion_worker_has_a_schedule_and_an_upstream() -> None:
    ingest = [w for w in CATALOG.workers if w.family == "ingest"]
    assert len({w.vars["SPORT"] for w in ingest}) >= 6
    for worker in ingest:
        assert worker.crons, worker.name
        assert worker.vars["UPSTREAM_URL"].startswith("https://"), worker.name


def test_every_data_resource_is_bound_by_some_worker() -> None:
    bound = Counter(target for w in CATALOG.workers for kind, _, _, target in w.bindings() if kind in ("d1", "kv", "r2"))
    unbound = [r.name for r in (*CATALOG.databases, *CATALOG.namespaces, *CATALOG.buckets) if r.name not in bound]
    assert unbound == []


def test_workers_are_in_deploy_order_service_targets_first() -> None:
    position = {w.name: i for i, w in enumerate(CATALOG.workers)}
    for worker in CATALOG.workers:
        for target in worker.services.values():
            assert position[target] < position[worker.name], (worker.name, target)
