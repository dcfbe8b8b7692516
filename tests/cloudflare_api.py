"""A loopback Cloudflare v4 API for tests, written from the API reference
(developers.cloudflare.com/api and the OpenAPI document it is generated from), not from
this project's code nor from what the SDK happens to accept.

It serves the read endpoints a tool needs to take stock of an account, the single-resource
GETs a provider's import reads, plus D1's query and Time Travel endpoints, each in the
`{success, errors, messages, result, result_info}` envelope with its own documented
pagination: page/per_page with each endpoint's default and bounds, R2's cursor, single lists
elsewhere. "Download Worker" answers the script itself, not JSON, as the reference says.
D1 databases are real SQLite databases.
Anything else (every write, every unknown path) gets the answer the API gives a route it
does not have, and every request is recorded first, so a test can assert what was sent.

    with CloudflareApi(Account(ACCOUNT_ID, scripts=[Script("api", ["*/5 * * * *"])])) as api:
        api.fail("GET", r"/workers/scripts$", 429, headers={"Retry-After": "1"})
        client = cloudflare.Cloudflare(api_token=TOKEN, base_url=api.base_url)
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import sqlite3
import threading
import urllib.parse
import uuid
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import Any, Callable, ClassVar, Mapping

from workers.loopback import LoopbackServer

# The shape of a real API token (40 characters of [A-Za-z0-9_-]); not a secret.
TOKEN = "test_token_for_the_loopback_api_00000000"
BOOKMARK = "00000001-00000002-00004e2f-0a83ea2fceebc654de0640c422be4653"
# One instant for every timestamp, so answers are identical from run to run.
CREATED = "2025-01-01T00:00:00Z"

_HEX32 = re.compile(r"[0-9a-f]{32}")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_SCRIPT_NAME = re.compile(r"[a-z0-9_][a-z0-9-_]*")
_BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9-]{1,62}[a-z0-9]")
_R2_JURISDICTION = re.compile(r"default|eu|us|fedramp|fedramp-high")
_R2_LOCATION = re.compile(r"apac|eeur|enam|weur|wnam|oc")


@dataclass(frozen=True)
class _Documented:
    """Ids and names in the form the reference documents, checked where a test writes them."""

    _forms: ClassVar[dict[str, re.Pattern[str]]] = {}

    def __post_init__(self) -> None:
        for name, form in self._forms.items():
            value = getattr(self, name)
            if not form.fullmatch(value):
                raise ValueError(f"{type(self).__name__}.{name} {value!r} is not of the form the API documents ({form.pattern})")


@dataclass(frozen=True)
class Script(_Documented):
    name: str
    crons: list[str] = field(default_factory=list)
    content: str = "export default { fetch() { return new Response(null, { status: 204 }); } };\n"
    _forms = {"name": _SCRIPT_NAME}


@dataclass(frozen=True)
class Database(_Documented):
    uuid: str
    name: str
    # Run into the database's SQLite at start: its tables, a d1_migrations table, rows.
    schema: str = ""
    _forms = {"uuid": _UUID}


@dataclass(frozen=True)
class Namespace(_Documented):
    id: str
    title: str
    _forms = {"id": _HEX32}


@dataclass(frozen=True)
class Bucket(_Documented):
    name: str
    jurisdiction: str = "default"
    location: str = "enam"
    _forms = {"name": _BUCKET_NAME, "jurisdiction": _R2_JURISDICTION, "location": _R2_LOCATION}


@dataclass(frozen=True)
class Route(_Documented):
    id: str
    pattern: str
    script: str
    _forms = {"id": _HEX32, "script": _SCRIPT_NAME}


@dataclass(frozen=True)
class Zone(_Documented):
    id: str
    name: str
    routes: list[Route] = field(default_factory=list)
    _forms = {"id": _HEX32}


@dataclass(frozen=True)
class CustomDomain(_Documented):
    id: str
    hostname: str
    service: str
    zone_id: str
    zone_name: str
    environment: str = "production"
    _forms = {"id": _HEX32, "zone_id": _HEX32}


@dataclass(frozen=True)
class Policy(_Documented):
    id: str
    name: str
    alert_type: str
    enabled: bool = True
    mechanisms: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    _forms = {"id": _UUID}


@dataclass(frozen=True)
class Webhook(_Documented):
    id: str
    name: str
    url: str
    type: str = "generic"
    _forms = {"id": _UUID}


@dataclass(frozen=True)
class Account(_Documented):
    id: str
    scripts: list[Script] = field(default_factory=list)
    databases: list[Database] = field(default_factory=list)
    namespaces: list[Namespace] = field(default_factory=list)
    buckets: list[Bucket] = field(default_factory=list)
    zones: list[Zone] = field(default_factory=list)
    domains: list[CustomDomain] = field(default_factory=list)
    policies: list[Policy] = field(default_factory=list)
    webhooks: list[Webhook] = field(default_factory=list)
    name: str = "Test account"
    _forms = {"id": _HEX32}


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    body: Any
    headers: dict[str, str] = field(default_factory=dict)  # names in lower case


@dataclass(frozen=True)
class Paging:
    """An endpoint's documented per_page: its default and bounds."""

    default: int
    minimum: int
    maximum: int


# Each list's documented per_page. D1 and KV: the OpenAPI document the reference at
# developers.cloudflare.com/api is generated from (cloudflare/api-schemas, 2026-08-14). R2: its
# reference page (.../api/resources/r2/subresources/buckets/methods/list) for the bounds, that
# document of 2024-08 for the default. Zones: that document of 2024-08.
PAGING = {
    "databases": Paging(default=1000, minimum=10, maximum=10000),
    "namespaces": Paging(default=20, minimum=1, maximum=1000),
    "zones": Paging(default=20, minimum=5, maximum=50),
    "buckets": Paging(default=20, minimum=1, maximum=1000),
}


@dataclass
class _Fault:
    method: str
    path: re.Pattern[str]
    status: int
    headers: dict[str, str]
    errors: list[dict[str, Any]]
    skip: int
    times: int | None


def _error(code: int, message: str, **extra: Any) -> dict[str, Any]:
    return {"code": code, "message": message, **extra}


class ApiError(Exception):
    """An error answer: its HTTP status and the error objects of its envelope."""

    def __init__(self, status: int, *errors: dict[str, Any]) -> None:
        super().__init__(status, errors)
        self.status = status
        self.errors = list(errors)


# The errors Cloudflare answers with, as its reference documents them or its API returns them.
_AUTHENTICATION_ERROR = _error(10000, "Authentication error")
_DEFAULT_FAULTS = {
    403: _AUTHENTICATION_ERROR,
    429: _error(971, "Please wait and consider throttling your request speed"),
}
_Handler = Callable[[dict[str, str], "_Call"], tuple[Any, dict[str, Any] | None]]


@dataclass(frozen=True)
class _Raw:
    """A result sent as it is, outside the envelope."""

    content_type: str
    body: bytes


@dataclass(frozen=True)
class _Call:
    path: str
    query: dict[str, list[str]]
    body: Any
    headers: Mapping[str, str]

    def arg(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None


class CloudflareApi:
    """The account's API on a loopback port, started at construction, stopped by close()."""

    def __init__(self, account: Account, *, token: str = TOKEN, page_size: Mapping[str, int] | None = None) -> None:
        unknown = set(page_size or {}) - set(PAGING)
        if unknown:
            raise ValueError(f"page_size names no paginated list: {sorted(unknown)} (lists: {sorted(PAGING)})")
        self.account = account
        self.token = token
        self.page_size = dict(page_size or {})
        self.requests: list[Request] = []
        self._faults: list[_Fault] = []
        self._lock = threading.Lock()
        self._databases: dict[str, sqlite3.Connection] = {}
        for database in account.databases:
            self.database(database.uuid).executescript(database.schema)
        self._routes = self._route_table()
        self._loopback = LoopbackServer(self._handler_class())

    @property
    def base_url(self) -> str:
        return f"{self._loopback.url}/client/v4"

    def __enter__(self) -> CloudflareApi:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._loopback.close()

    def fail(self, method: str, path_regex: str, status: int, times: int | None = 1, skip: int = 0,
             headers: Mapping[str, str] | None = None, errors: list[dict[str, Any]] | None = None) -> None:
        """Answer `status` to the matching requests (method, and re.search on the path) after
        letting `skip` of them through, `times` of them (None: all that follow). Without
        `errors`, the error the API documents for that status; a 429 says Retry-After: 1."""
        if errors is None:
            errors = [_DEFAULT_FAULTS.get(status, _error(1000, HTTPStatus(status).phrase))]
        if headers is None:
            headers = {"Retry-After": "1"} if status == 429 else {}
        with self._lock:
            self._faults.append(_Fault(method.upper(), re.compile(path_regex), status, dict(headers), errors, skip, times))

    def database(self, uuid: str) -> sqlite3.Connection:
        """The SQLite database behind a D1 database of the account."""
        with self._lock:
            if uuid not in self._databases:
                # Autocommit, so that a query's batch is one explicit transaction (_execute).
                self._databases[uuid] = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
            return self._databases[uuid]

    # Hooks a stand-in with other rules (tests/d1_api.py) overrides.
    def owns_account(self, account_id: str) -> bool:
        return account_id == self.account.id

    def has_database(self, uuid: str) -> bool:
        return any(d.uuid == uuid for d in self.account.databases)

    # The HTTP side.
    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body leave in one write (flushed after each request): written
            # apart, a keep-alive client's delayed ACK held every answer ~40 ms.
            wbufsize = -1

            def log_message(self, *args: Any) -> None:
                pass

            def handle_any(self) -> None:
                url = urllib.parse.urlsplit(self.path)
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b""
                status, answer, headers = api._answer(self.command, url.path, urllib.parse.parse_qs(url.query, keep_blank_values=True),
                                                      _body(raw), self.headers)
                content_type, data = (answer.content_type, answer.body) if isinstance(answer, _Raw) else ("application/json", json.dumps(answer).encode())
                self.send_response(status)
                self.send_header("content-type", content_type)
                self.send_header("content-length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = handle_any

        return Handler

    def _answer(self, method: str, path: str, query: dict[str, list[str]], body: Any,
                headers: Mapping[str, str]) -> tuple[int, dict[str, Any] | _Raw, dict[str, str]]:
        with self._lock:
            self.requests.append(Request(method, path, query, body, {k.lower(): v for k, v in headers.items()}))
            fault = self._fault_for(method, path)
        if fault:
            return fault.status, _failure(fault.errors), fault.headers
        try:
            self._authenticate(headers.get("authorization"))
            handler, params = self._route(method, path)
            result, result_info = handler(params, _Call(path, query, body, headers))
        except ApiError as err:
            return err.status, _failure(err.errors), {}
        if isinstance(result, _Raw):
            return 200, result, {}
        envelope = {"success": True, "errors": [], "messages": [], "result": result}
        if result_info is not None:
            envelope["result_info"] = result_info
        return 200, envelope, {}

    def _fault_for(self, method: str, path: str) -> _Fault | None:
        for fault in self._faults:
            if fault.method != method or not fault.path.search(path):
                continue
            if fault.skip:
                fault.skip -= 1
                return None
            if fault.times is None:
                return fault
            if fault.times:
                fault.times -= 1
                return fault
        return None

    def _authenticate(self, authorization: str | None) -> None:
        if not authorization:
            raise ApiError(400, _error(9106, "Missing X-Auth-Key, X-Auth-Email or Authorization headers"))
        scheme, _, token = authorization.partition(" ")
        if scheme != "Bearer" or not token or " " in token:
            raise ApiError(400, _error(6003, "Invalid request headers",
                                       error_chain=[_error(6111, "Invalid format for Authorization header")]))
        if token != self.token:
            raise ApiError(403, _AUTHENTICATION_ERROR)

    def _route(self, method: str, path: str) -> tuple[_Handler, dict[str, str]]:
        for route_method, pattern, handler in self._routes:
            match = pattern.fullmatch(path)
            if match and route_method == method:
                params = match.groupdict()
                if "account" in params and not self.owns_account(params["account"]):
                    # An account id of the right form that the token has no access to is an
                    # authentication error; anything else is not an identifier at all.
                    if _HEX32.fullmatch(params["account"]):
                        raise ApiError(403, _AUTHENTICATION_ERROR)
                    raise _no_route(path)
                return handler, params
        raise _no_route(path)

    def _route_table(self) -> list[tuple[str, re.Pattern[str], _Handler]]:
        account = "/client/v4/accounts/(?P<account>[^/]+)"
        database = account + "/d1/database/(?P<database>[^/]+)"
        zone_routes = "/client/v4/zones/(?P<zone>[^/]+)/workers/routes"
        table: list[tuple[str, str, _Handler]] = [
            ("GET", account + "/workers/scripts", self._scripts),
            ("GET", account + "/workers/scripts/(?P<script>[^/]+)", self._download_script),
            ("GET", account + "/workers/scripts/(?P<script>[^/]+)/schedules", self._schedules),
            ("GET", account + "/workers/domains", self._domains),
            ("GET", account + "/workers/domains/(?P<domain>[^/]+)", self._get_domain),
            ("GET", account + "/d1/database", self._d1_databases),
            ("GET", database, self._get_database),
            ("POST", database + "/query", self._query),
            ("GET", database + "/time_travel/bookmark", self._bookmark),
            ("POST", database + "/time_travel/restore", self._restore),
            ("GET", account + "/storage/kv/namespaces", self._namespaces),
            ("GET", account + "/storage/kv/namespaces/(?P<namespace>[^/]+)", self._get_namespace),
            ("GET", account + "/r2/buckets", self._buckets),
            ("GET", account + "/r2/buckets/(?P<bucket>[^/]+)", self._get_bucket),
            ("GET", account + "/alerting/v3/policies", self._policies),
            ("GET", account + "/alerting/v3/policies/(?P<policy>[^/]+)", self._get_policy),
            ("GET", account + "/alerting/v3/destinations/webhooks", self._webhooks),
            ("GET", account + "/alerting/v3/destinations/webhooks/(?P<webhook>[^/]+)", self._get_webhook),
            ("GET", "/client/v4/zones", self._zones),
            ("GET", zone_routes, self._routes_of_zone),
            ("GET", zone_routes + "/(?P<route>[^/]+)", self._get_route),
        ]
        return [(method, re.compile(pattern), handler) for method, pattern, handler in table]

    # The endpoints. Each returns (result, result_info or None). A single-resource GET of an
    # id the account does not hold gets the error the reference documents for it (R2's
    # NoSuchBucket, Workers' script_not_found), else the API's answer to an unknown object
    # identifier.
    def _scripts(self, params: dict[str, str], call: _Call) -> tuple[Any, None]:
        return [_script(s) for s in self.account.scripts], None

    def _script_named(self, name: str) -> Script:
        script = next((s for s in self.account.scripts if s.name == name), None)
        if script is None:
            raise ApiError(404, _error(10007, "workers.api.error.script_not_found"))
        return script

    def _download_script(self, params: dict[str, str], call: _Call) -> tuple[_Raw, None]:
        return _Raw("application/javascript", self._script_named(params["script"]).content.encode()), None

    def _schedules(self, params: dict[str, str], call: _Call) -> tuple[Any, None]:
        script = self._script_named(params["script"])
        return {"schedules": [{"cron": cron, "created_on": CREATED, "modified_on": CREATED} for cron in script.crons]}, None

    def _domains(self, params: dict[str, str], call: _Call) -> tuple[Any, None]:
        domains = [_domain(d) for d in self.account.domains]
        filters = {name: call.arg(name) for name in ("hostname", "service", "environment", "zone_id", "zone_name")}
        return [d for d in domains if all(value is None or d[name] == value for name, value in filters.items())], None

    def _get_domain(self, params: dict[str, str], call: _Call) -> tuple[Any, None]:
        return _domain(_one(self.account.domains, "id", params["domain"], call)), None

    def _database_entry(self, database: Database) -> dict[str, Any]:
        return {"uuid": database.uuid, "name": database.name, "created_at": CREATED, "version": "production",
                "num_tables": self._table_count(database.uuid), "file_size": self._file_size(database.uuid)}

    def _d1_databases(self, params: dict[str, str], call: _Call) -> tuple[Any, dict[str, Any]]:
        wanted = call.arg("name")
        databases = [self._database_entry(d) for d in self.account.databases if wanted is None or wanted in d.name]
        return self._page("databases", databases, call)

    def _get_database(self, params: dict[str, str], call: _Call) -> tuple[Any, None]:
        database = _one(self.account.databases, "uuid", params["database"], call)
        # A database created without a jurisdiction or read replicas: jurisdiction null, mode disabled.
        return self._database_entry(database) | {"jurisdiction": None, "read_replication": {"mode": "disabled"}}, None

    def _d1_database(self, params: dict[str, str], call: _Call) -> str:
        if not self.has_database(params["database"]):
            raise _no_route(call.path)
        return params["database"]

    def _query(self, params: dict[str, str], call: _Call) -> tuple[Any, None]:
        uuid = self._d1_database(params, call)
        body = call.body if isinstance(call.body, dict) else {}
        if not isinstance(body.get("sql"), str):
            raise ApiError(400, _error(1000, "sql is required"))
        return self._execute(uuid, body["sql"], list(body.get("params") or [])), None

    def _bookmark(self, params: dict[str, str], call: _Call) -> tuple[Any, None]:
        self._d1_database(params, call)
        return {"bookmark": BOOKMARK}, None

    def _restore(self, params: dict[str, str], call: _Call) -> tuple[Any, None]:
        self._d1_database(params, call)
        return {"bookmark": BOOKMARK.replace("0001", "0009", 1), "previous_bookmark": BOOKMARK,
                "message": "Database restored successfully"}, None

    def _namespaces(self, params: dict[str, str], call: _Call) -> tuple[Any, dict[str, Any]]:
        namespaces = [_namespace(n) for n in self.account.namespaces]
        return self._page("namespaces", _ordered(namespaces, call, ("id", "title")), call)

    def _get_namespace(self, params: dict[str, str], call: _Call) -> tuple[Any, None]:
        return _namespace(_one(self.account.namespaces, "id", params["namespace"], call)), None

    def _buckets(self, params: dict[str, str], call: _Call) -> tuple[Any, dict[str, Any]]:
        jurisdiction = call.headers.get("cf-r2-jurisdiction") or "default"
        contains, start_after = call.arg("name_contains") or "", call.arg("start_after") or ""
        buckets = sorted((b for b in self.account.buckets if b.jurisdiction == jurisdiction and contains in b.name),
                         key=lambda b: b.name, reverse=call.arg("direction") == "desc")
        cursor = call.arg("cursor")
        after = _decode_cursor(cursor) if cursor else start_after
        if after:
            buckets = [b for b in buckets if (b.name < after if call.arg("direction") == "desc" else b.name > after)]
        per_page = self._per_page("buckets", call)
        page, more = buckets[:per_page], len(buckets) > per_page
        return {"buckets": [_bucket(b) for b in page]}, {"cursor": _encode_cursor(page[-1].name) if more else "", "per_page": per_page}

    def _get_bucket(self, params: dict[str, str], call: _Call) -> tuple[Any, None]:
        # A bucket is found only in the jurisdiction its request names (cf-r2-jurisdiction).
        jurisdiction = call.headers.get("cf-r2-jurisdiction") or "default"
        bucket = next((b for b in self.account.buckets if b.name == params["bucket"] and b.jurisdiction == jurisdiction), None)
        if bucket is None:
            raise ApiError(404, _error(10006, "The specified bucket does not exist."))
        return _bucket(bucket), None

    def _policies(self, params: dict[str, str], call: _Call) -> tuple[Any, dict[str, Any]]:
        policies = [_policy(p) for p in self.account.policies]
        return policies, _whole_list_info(policies)

    def _get_policy(self, params: dict[str, str], call: _Call) -> tuple[Any, None]:
        return _policy(_one(self.account.policies, "id", params["policy"], call)), None

    def _webhooks(self, params: dict[str, str], call: _Call) -> tuple[Any, dict[str, Any]]:
        webhooks = [_webhook(w) for w in self.account.webhooks]
        return webhooks, _whole_list_info(webhooks)

    def _get_webhook(self, params: dict[str, str], call: _Call) -> tuple[Any, None]:
        return _webhook(_one(self.account.webhooks, "id", params["webhook"], call)), None

    def _zones(self, params: dict[str, str], call: _Call) -> tuple[Any, dict[str, Any]]:
        zones = [_zone(z, self.account) for z in self.account.zones]
        tests = [test for test in (_name_test(call.arg("name")), _equal_test(("account", "id"), call.arg("account.id")),
                                   _equal_test(("account", "name"), call.arg("account.name")), _equal_test(("status",), call.arg("status")))
                 if test is not None]
        combine = any if call.arg("match") == "any" else all
        zones = [z for z in zones if not tests or combine(test(z) for test in tests)]
        return self._page("zones", _ordered(zones, call, ("name", "status", "account.id", "account.name")), call)

    def _routes_of_zone(self, params: dict[str, str], call: _Call) -> tuple[Any, None]:
        return [_worker_route(r) for r in _one(self.account.zones, "id", params["zone"], call).routes], None

    def _get_route(self, params: dict[str, str], call: _Call) -> tuple[Any, None]:
        zone = _one(self.account.zones, "id", params["zone"], call)
        return _worker_route(_one(zone.routes, "id", params["route"], call)), None

    # Pagination and D1.
    def _per_page(self, name: str, call: _Call) -> int:
        paging = PAGING[name]
        per_page = _number(call, "per_page", paging.default)
        if not paging.minimum <= per_page <= paging.maximum:
            raise ApiError(400, _error(1000, f"per_page must be between {paging.minimum} and {paging.maximum}"))
        return min(per_page, self.page_size.get(name, per_page))

    def _page(self, name: str, items: list[dict[str, Any]], call: _Call) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        page, per_page = _number(call, "page", 1), self._per_page(name, call)
        if page < 1:
            raise ApiError(400, _error(1000, "page must be 1 or more"))
        chosen = items[(page - 1) * per_page: page * per_page]
        return chosen, {"page": page, "per_page": per_page, "count": len(chosen), "total_count": len(items)}

    def _execute(self, uuid: str, sql: str, params: list[Any]) -> list[dict[str, Any]]:
        """D1 runs the statements of one query as a batch: all of them, or none on an error."""
        connection = self.database(uuid)
        results = []
        with self._lock:
            connection.execute("BEGIN")
            try:
                for statement in [sql] if params else _statements(sql):
                    cursor = connection.execute(statement, params)
                    columns = [c[0] for c in cursor.description or []]
                    rows = [dict(zip(columns, row)) for row in cursor.fetchall()]
                    changes = max(cursor.rowcount, 0)
                    results.append({"results": rows, "success": True, "meta": {
                        "changed_db": changes > 0 or not columns, "changes": changes, "duration": 0,
                        "last_row_id": cursor.lastrowid or 0, "rows_read": len(rows), "rows_written": changes,
                        "size_after": _size(connection)}})
                connection.execute("COMMIT")
            except sqlite3.Error as err:
                connection.execute("ROLLBACK")
                raise ApiError(400, _error(7500, f"{err}: SQLITE_ERROR")) from None
        return results

    def _table_count(self, uuid: str) -> int:
        with self._lock:
            return self._databases[uuid].execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]

    def _file_size(self, uuid: str) -> int:
        with self._lock:
            return _size(self._databases[uuid])


def _body(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", "replace")


def _one(items: list[Any], key: str, value: str, call: _Call) -> Any:
    """The item whose `key` is `value`; an id the account does not hold is not routed."""
    found = next((item for item in items if getattr(item, key) == value), None)
    if found is None:
        raise _no_route(call.path)
    return found


def _failure(errors: list[dict[str, Any]]) -> dict[str, Any]:
    return {"success": False, "errors": errors, "messages": [], "result": None}


def _no_route(path: str) -> ApiError:
    return ApiError(400, _error(7003, f"Could not route to {path}, perhaps your object identifier is invalid?"),
                    _error(7000, "No route for that URI"))


def _number(call: _Call, name: str, default: int) -> int:
    raw = call.arg(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ApiError(400, _error(1000, f"{name} must be a number")) from None
    if not value.is_integer():
        raise ApiError(400, _error(1000, f"{name} must be a whole number"))
    return int(value)


def _ordered(items: list[dict[str, Any]], call: _Call, fields: tuple[str, ...]) -> list[dict[str, Any]]:
    order, descending = call.arg("order"), call.arg("direction") == "desc"
    if order is None:
        return list(reversed(items)) if descending else items
    if order not in fields:
        raise ApiError(400, _error(1000, f"order must be one of {', '.join(fields)}"))
    return sorted(items, key=lambda item: _field(item, tuple(order.split("."))), reverse=descending)


def _field(item: dict[str, Any], path: tuple[str, ...]) -> Any:
    for key in path:
        item = item[key]
    return item


def _equal_test(path: tuple[str, ...], wanted: str | None) -> Callable[[dict[str, Any]], bool] | None:
    return None if wanted is None else (lambda zone: _field(zone, path) == wanted)


# The zone name filter's documented operators, written `name=<operator>:<value>`; equal by default.
_NAME_OPERATORS: dict[str, Callable[[str, str], bool]] = {
    "equal": lambda name, value: name.lower() == value.lower(),
    "not_equal": lambda name, value: name.lower() != value.lower(),
    "starts_with": lambda name, value: name.lower().startswith(value.lower()),
    "ends_with": lambda name, value: name.lower().endswith(value.lower()),
    "contains": lambda name, value: value.lower() in name.lower(),
    "starts_with_case_sensitive": str.startswith,
    "ends_with_case_sensitive": str.endswith,
    "contains_case_sensitive": lambda name, value: value in name,
}


def _name_test(wanted: str | None) -> Callable[[dict[str, Any]], bool] | None:
    if wanted is None:
        return None
    operator, _, value = wanted.partition(":")
    if operator not in _NAME_OPERATORS or not value:
        operator, value = "equal", wanted
    return lambda zone: _NAME_OPERATORS[operator](zone["name"], value)


def _whole_list_info(items: list[Any]) -> dict[str, Any]:
    return {"page": 1, "per_page": len(items), "count": len(items), "total_count": len(items)}


def _encode_cursor(name: str) -> str:
    return base64.urlsafe_b64encode(name.encode()).decode()


def _decode_cursor(cursor: str) -> str:
    try:
        return base64.urlsafe_b64decode(cursor.encode()).decode()
    except ValueError:
        raise ApiError(400, _error(1000, "The cursor is not valid")) from None


def _script(script: Script) -> dict[str, Any]:
    return {"id": script.name, "tag": hashlib.md5(script.name.encode()).hexdigest(),
            "etag": hashlib.sha256(script.name.encode()).hexdigest(),
            "handlers": ["fetch", "scheduled"] if script.crons else ["fetch"], "has_modules": True,
            "compatibility_date": "2025-01-01", "compatibility_flags": [], "usage_model": "standard",
            "created_on": CREATED, "modified_on": CREATED}


def _namespace(namespace: Namespace) -> dict[str, Any]:
    return {"id": namespace.id, "title": namespace.title, "supports_url_encoding": True}


def _bucket(bucket: Bucket) -> dict[str, Any]:
    return {"name": bucket.name, "creation_date": CREATED, "jurisdiction": bucket.jurisdiction, "location": bucket.location,
            "storage_class": "Standard"}


def _worker_route(route: Route) -> dict[str, Any]:
    return {"id": route.id, "pattern": route.pattern, "script": route.script}


def _domain(domain: CustomDomain) -> dict[str, Any]:
    # cert_id: the UUID of the certificate issued for the hostname, one per hostname here.
    return {"id": domain.id, "cert_id": str(uuid.uuid5(uuid.NAMESPACE_URL, "certificate:" + domain.hostname)),
            "hostname": domain.hostname, "service": domain.service, "environment": domain.environment,
            "zone_id": domain.zone_id, "zone_name": domain.zone_name}


def _policy(policy: Policy) -> dict[str, Any]:
    return {"id": policy.id, "name": policy.name, "alert_type": policy.alert_type, "enabled": policy.enabled,
            "mechanisms": policy.mechanisms, "description": "", "filters": {}, "created": CREATED, "modified": CREATED}


def _webhook(webhook: Webhook) -> dict[str, Any]:
    # The reference: secrets are never returned in any answer.
    return {"id": webhook.id, "name": webhook.name, "url": webhook.url, "type": webhook.type, "created_at": CREATED,
            "last_success": None, "last_failure": None}


def _zone(zone: Zone, account: Account) -> dict[str, Any]:
    return {"id": zone.id, "name": zone.name, "status": "active", "paused": False, "type": "full", "development_mode": 0,
            "account": {"id": account.id, "name": account.name}, "owner": {"id": None, "type": "organization", "name": account.name},
            "name_servers": ["ada.ns.cloudflare.com", "bob.ns.cloudflare.com"], "original_name_servers": None,
            "original_registrar": None, "original_dnshost": None, "created_on": CREATED, "modified_on": CREATED, "activated_on": CREATED}


def _statements(sql: str) -> list[str]:
    """Split on the semicolons SQLite itself says end a statement (not those in strings or triggers)."""
    statements, pending = [], ""
    for piece in sql.split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            if pending.strip(" \t\r\n;"):
                statements.append(pending)
            pending = ""
    if pending.strip(" \t\r\n;"):
        statements.append(pending[:-1])
    return statements


def _size(connection: sqlite3.Connection) -> int:
    pages, size = connection.execute("PRAGMA page_count").fetchone()[0], connection.execute("PRAGMA page_size").fetchone()[0]
    return pages * size
