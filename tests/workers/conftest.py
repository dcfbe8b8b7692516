"""Fixtures of the Worker tests: one driver per session, a fresh Miniflare per test."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from stacks.catalog import Catalog, load_catalog
from tests.conftest import ROOT
from tests.workers.stubs import LoopbackStub
from workers.local import Driver, Instance


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog(ROOT)


@pytest.fixture(scope="session")
def driver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Driver]:
    log = tmp_path_factory.mktemp("driver") / "stderr.log"
    with log.open("wb") as stderr:
        running = Driver(ROOT, stderr=stderr)
        yield running
        running.close()


Start = Callable[..., Instance]


def _starter(driver: Driver, catalog: Catalog) -> Iterator[Start]:
    started: list[Instance] = []

    def _start(names: list[str], **options: Any) -> Instance:
        instance = driver.start(catalog, names, **options)
        started.append(instance)
        return instance

    yield _start
    for instance in started:
        instance.close()
    # Nothing a test runs may reach the network: the driver refused and recorded it.
    blocked = [url for instance in started for url in instance.blocked_at_close]
    assert blocked == [], f"Workers tried to reach the network: {blocked}"


@pytest.fixture
def start(driver: Driver, catalog: Catalog) -> Iterator[Start]:
    """`start(names, vars=..., secrets=..., persist=...)`: a Miniflare closed after the test."""
    yield from _starter(driver, catalog)


@pytest.fixture(scope="module")
def module_start(driver: Driver, catalog: Catalog) -> Iterator[Start]:
    """The same, shared by a module's tests: only for tests that leave the state as they found it."""
    yield from _starter(driver, catalog)


@pytest.fixture
def stub() -> Iterator[LoopbackStub]:
    server = LoopbackStub()
    yield server
    server.close()


def corrupt_database(persist: Path, marker: bytes) -> None:
    """Overwrites the one persisted D1 file whose schema contains `marker`: a storage failure."""
    found = []
    for path in persist.rglob("*.sqlite"):
        wal = path.with_name(path.name + "-wal")
        if marker in path.read_bytes() + (wal.read_bytes() if wal.exists() else b""):
            found.append(path)
    assert len(found) == 1, found
    found[0].write_bytes(b"not a database " * 512)
    for suffix in ("-wal", "-shm"):
        found[0].with_name(found[0].name + suffix).unlink(missing_ok=True)
