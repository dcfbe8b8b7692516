"""D1 Time Travel restore points and the migration record, over Cloudflare's documented D1 API.

    GET  /accounts/{account_id}/d1/database/{database_id}/time_travel/bookmark
    POST /accounts/{account_id}/d1/database/{database_id}/time_travel/restore?bookmark=<b>
    POST /accounts/{account_id}/d1/database/{database_id}/query   {"sql": ..., "params": [...]}

The query endpoint also reads a database's schema and migration record, and writes the
record of a baseline (d1/migrations.py).

The base URL is `CLOUDFLARE_API_BASE_URL` (the variable wrangler reads too, so one setting
points both at a test server) or Cloudflare's; the token is `CLOUDFLARE_API_TOKEN`, sent as
a Bearer header and never printed. Cloudflare's error messages are passed on.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any, Mapping

DEFAULT_BASE_URL = "https://api.cloudflare.com/client/v4"
TIMEOUT_SECONDS = 30


class ApiError(RuntimeError):
    """The API refused or could not be reached; the message says why, without the token."""


@dataclass(frozen=True)
class D1Api:
    account_id: str
    token: str
    base_url: str = DEFAULT_BASE_URL

    @classmethod
    def from_environment(cls, account_id: str, environ: Mapping[str, str] = os.environ) -> "D1Api":
        token = environ.get("CLOUDFLARE_API_TOKEN", "")
        if not token:
            raise ApiError("CLOUDFLARE_API_TOKEN is not set")
        return cls(account_id, token, environ.get("CLOUDFLARE_API_BASE_URL") or DEFAULT_BASE_URL)

    def _call(self, method: str, path: str, body: Any = None, query: Mapping[str, str] | None = None) -> Any:
        url = f"{self.base_url.rstrip('/')}/accounts/{self.account_id}/d1/database/{path}"
        if query:
            url += "?" + urllib.parse.urlencode(query)
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(url, data=data, method=method, headers={
            "authorization": f"Bearer {self.token}", "content-type": "application/json", "accept": "application/json",
        })
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as reply:
                envelope = json.loads(reply.read() or b"{}")
        except urllib.error.HTTPError as err:
            raise ApiError(f"{method} {path}: HTTP {err.code}: {_errors(err.read())}") from None
        except (urllib.error.URLError, OSError) as err:
            raise ApiError(f"{method} {path}: {getattr(err, 'reason', err)}") from None
        except ValueError:
            raise ApiError(f"{method} {path}: the answer is not JSON") from None
        if not isinstance(envelope, dict) or envelope.get("success") is not True:
            raise ApiError(f"{method} {path}: {_errors(json.dumps(envelope).encode())}")
        return envelope.get("result")

    def bookmark(self, database_id: str) -> str:
        result = self._call("GET", f"{database_id}/time_travel/bookmark")
        bookmark = result.get("bookmark") if isinstance(result, dict) else None
        if not isinstance(bookmark, str) or not bookmark:
            raise ApiError(f"GET {database_id}/time_travel/bookmark: the answer holds no bookmark")
        return bookmark

    def restore(self, database_id: str, bookmark: str) -> dict[str, Any]:
        result = self._call("POST", f"{database_id}/time_travel/restore", query={"bookmark": bookmark})
        return result if isinstance(result, dict) else {}

    def rows(self, database_id: str, sql: str, params: list[str] | None = None) -> list[dict[str, Any]]:
        """The rows of one statement through the query endpoint."""
        result = self._call("POST", f"{database_id}/query", {"sql": sql, "params": params or []})
        rows = result[0].get("results", []) if isinstance(result, list) and result and isinstance(result[0], dict) else []
        return [row for row in rows if isinstance(row, dict)]

    def applied_migrations(self, database_id: str, table: str) -> set[str] | None:
        """The names in wrangler's migrations table; None when the table does not exist yet."""
        try:
            rows = self.rows(database_id, f'SELECT name FROM "{table}"')
        except ApiError as err:
            if "no such table" in str(err):
                return None
            raise
        return {str(row["name"]) for row in rows if "name" in row}

    def record_applied(self, database_id: str, create_table: str, table: str, names: list[str]) -> None:
        """Record files as applied, as wrangler does after running one (its own table DDL)."""
        self.rows(database_id, create_table)
        for name in names:
            self.rows(database_id, f'INSERT INTO "{table}" (name) VALUES (?)', [name])


def _errors(raw: bytes) -> str:
    try:
        errors = json.loads(raw).get("errors") or []
        text = "; ".join(f"{e.get('message')} ({e.get('code')})" for e in errors if isinstance(e, dict))
    except (ValueError, AttributeError):
        text = ""
    return text or "no error detail"
