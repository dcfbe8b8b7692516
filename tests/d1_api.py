"""A loopback stand-in for Cloudflare's D1 API: the query, Time Travel bookmark and restore
endpoints in their documented envelope, over a real SQLite database per D1 database id.

Real wrangler (`d1 migrations apply --remote`, pointed here by CLOUDFLARE_API_BASE_URL)
runs against it unchanged: it creates and reads `d1_migrations` and sends each file
through the query endpoint. Every request is recorded, the bearer token checked.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TOKEN = "test-token-not-a-secret"
BOOKMARK = "00000001-00000002-00004e2f-0a83ea2fceebc654de0640c422be4653"
_PATH = re.compile(r"^/client/v4/accounts/(?P<account>[0-9a-f]{32})/d1/database/(?P<db>[0-9a-f-]{36})/(?P<op>query|time_travel/bookmark|time_travel/restore)$")


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    body: Any


@dataclass
class D1Api:
    requests: list[Request] = field(default_factory=list)
    bookmark_fails: bool = False
    databases: dict[str, sqlite3.Connection] = field(default_factory=dict)

    def __post_init__(self) -> None:
        api = self
        self._lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _reply(self, status: int, envelope: dict[str, Any]) -> None:
                data = json.dumps(envelope).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _handle(self, method: str) -> None:
                url = urllib.parse.urlsplit(self.path)
                length = int(self.headers.get("content-length") or 0)
                body = json.loads(self.rfile.read(length)) if length else None
                with api._lock:
                    api.requests.append(Request(method, url.path, urllib.parse.parse_qs(url.query), body))
                if self.headers.get("authorization") != f"Bearer {TOKEN}":
                    return self._reply(403, _error(10000, "Authentication error"))
                match = _PATH.match(url.path)
                if not match:
                    return self._reply(404, _error(7003, "Could not route to " + url.path))
                op, db = match["op"], match["db"]
                if op == "time_travel/bookmark" and method == "GET":
                    if api.bookmark_fails:
                        return self._reply(500, _error(7500, "Internal error reading the bookmark"))
                    return self._reply(200, _ok({"bookmark": BOOKMARK}))
                if op == "time_travel/restore" and method == "POST":
                    return self._reply(200, _ok({"bookmark": BOOKMARK.replace("0001", "0009", 1), "previous_bookmark": BOOKMARK,
                                                 "message": "Database restored successfully"}))
                if op == "query" and method == "POST":
                    return self._reply(*api.query(db, body or {}))
                return self._reply(405, _error(7001, f"{method} is not allowed here"))

            def do_GET(self) -> None:  # noqa: N802
                self._handle("GET")

            def do_POST(self) -> None:  # noqa: N802
                self._handle("POST")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/client/v4"

    def database(self, db: str) -> sqlite3.Connection:
        with self._lock:
            return self.databases.setdefault(db, sqlite3.connect(":memory:", check_same_thread=False))

    def query(self, db: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        connection = self.database(db)
        sql, params = str(body.get("sql", "")), list(body.get("params") or [])
        try:
            with self._lock:
                if params or sqlite3.complete_statement(sql) is False or sql.strip().count(";") <= 1:
                    cursor = connection.execute(sql, params)
                    rows = [dict(zip([c[0] for c in cursor.description], r)) for r in cursor.fetchall()] if cursor.description else []
                else:
                    connection.executescript(sql)
                    rows = []
                connection.commit()
        except sqlite3.Error as err:
            return 400, _error(7500, f"{err}: SQLITE_ERROR")
        return 200, _ok([{"results": rows, "success": True, "meta": {"changes": connection.total_changes}}])

    def ops(self) -> list[tuple[str, str]]:
        return [(r.method, r.path.rsplit("/", 2)[-1] if "time_travel" not in r.path else r.path.rsplit("/", 1)[-1]) for r in self.requests]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _ok(result: Any) -> dict[str, Any]:
    return {"success": True, "errors": [], "messages": [], "result": result}


def _error(code: int, message: str) -> dict[str, Any]:
    return {"success": False, "errors": [{"code": code, "message": message}], "messages": [], "result": None}
