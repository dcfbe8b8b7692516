"""Loopback HTTP stubs of what is remote by nature (the alert webhook, upstream data APIs).

A real HTTP server on 127.0.0.1 that records every request and answers what the test
configured for its path (404 for any other): the Workers reach it over the network stack,
as in production.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler

from local.loopback import LoopbackServer


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Answer:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    # False: no Content-Length, the body ends when the connection closes (its size unannounced).
    declare_length: bool = True


NOT_FOUND = Answer(404, b"no such path on the stub")


class LoopbackStub:
    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.answers: dict[str, Answer] = {}
        self._lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                recorded = Recorded(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, self.rfile.read(length))
                with stub._lock:
                    stub.requests.append(recorded)
                    answer = stub.answers.get(self.path.split("?")[0], NOT_FOUND)
                time.sleep(answer.delay_s)
                try:
                    self.send_response(answer.status)
                    for name, value in answer.headers.items():
                        self.send_header(name, value)
                    if answer.declare_length:
                        self.send_header("content-length", str(len(answer.body)))
                    else:
                        self.close_connection = True
                    self.end_headers()
                    self.wfile.write(answer.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the Worker gave up waiting (a timeout test)

            do_GET = do_POST = do_PUT = _serve

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._loopback = LoopbackServer(Handler)

    @property
    def url(self) -> str:
        return self._loopback.url

    def answer(self, path: str, answer: Answer) -> None:
        with self._lock:
            self.answers[path] = answer

    def received(self, path: str | None = None) -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests if path is None or r.path.split("?")[0] == path]

    def clear(self) -> None:
        with self._lock:
            self.requests.clear()

    def close(self) -> None:
        self._loopback.close()
