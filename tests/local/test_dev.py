"""`make dev WORKER=<name>`: what it prints for each routed Worker works as printed."""

from __future__ import annotations

import shlex
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from stacks.catalog import Catalog, load_catalog
from tests.conftest import ROOT

READY = "Ctrl-C stops it."


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _run_dev(worker: str, state: Path) -> tuple[subprocess.Popen[str], list[str]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "local.dev", worker, "--port", str(_free_port()), "--state", str(state), "--fresh"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    assert process.stdout
    lines = []
    for line in process.stdout:
        lines.append(line.rstrip("\n"))
        if line.strip() == READY:
            return process, lines
    process.wait(timeout=10)
    raise AssertionError("make dev stopped before it was ready:\n" + "\n".join(lines))


def _curl(command: str) -> tuple[int, bytes]:
    """Runs a printed `curl [-H 'k: v']... 'url'` with urllib (loopback only)."""
    words = shlex.split(command)
    assert words[0] == "curl", command
    headers = dict(words[i + 1].split(": ", 1) for i, w in enumerate(words) if w == "-H")
    url = words[-1]
    assert url.startswith("http://127.0.0.1:"), url
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=20) as reply:
            return reply.status, reply.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


ROUTED = sorted(w.name for w in load_catalog(ROOT).workers if w.routes)


@pytest.mark.parametrize("worker", ROUTED)
def test_each_printed_curl_answers_and_each_route_names_its_hostnames(worker: str, tmp_path: Path, catalog: Catalog) -> None:
    process, lines = _run_dev(worker, tmp_path / "state")
    try:
        spec = catalog.worker(worker)
        routes = [line for line in lines if line.startswith("  route ")]
        assert len(routes) == len(spec.routes), lines
        for line in routes:
            # Hostnames from the stack files, never the catalog's host key.
            assert "https://staging.blazesportsintel.com (staging)" in line and "https://blazesportsintel.com (prod)" in line, line
        tries = [line.split("try: ", 1)[1] for line in lines if "try: curl" in line]
        assert len(tries) == len(spec.routes), lines
        for command in tries:
            status, body = _curl(command)
            assert status == 200, (command, status, body[:300])
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()  # fail without leaving it behind
            raise
    assert process.returncode == 0


def test_a_suite_started_with_ctrl_c_ignored_still_stops_make_dev_with_it() -> None:
    # A background job (`.ci/run &`, nohup) starts with SIGINT ignored, and its children inherit
    # it; the suite's conftest takes it back, so the Ctrl-C the tests send reaches `make dev`.
    probe = (
        "import signal, subprocess; signal.signal(signal.SIGINT, signal.SIG_IGN); import tests.conftest; "
        "status = subprocess.run(['cat', '/proc/self/status'], capture_output=True, text=True).stdout; "
        "print(int(next(l.split()[1] for l in status.splitlines() if l.startswith('SigIgn:')), 16) & (1 << (signal.SIGINT - 1)))"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "0", "a child of the suite still ignores Ctrl-C"
