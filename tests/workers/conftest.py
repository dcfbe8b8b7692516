"""Fixtures of the Worker tests: a loopback stub for what a Worker calls out to, and a way to
break a database's storage."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from tests.workers.stubs import LoopbackStub


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
