"""The HTTP side of the loopback API, shared by every service: the `{success, errors,
messages, result, result_info}` envelope, the bearer token check, routing (an unknown path
gets the answer the API gives a route it does not have), page/per_page pagination, the
record of every request, fault injection, and the deterministic ids and instants answers
carry."""

from __future__ import annotations

import base64
import json
import re
import threading
import urllib.parse
import uuid
from collections import Counter
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import Any, Callable, Mapping, Self

from local.cloudflare_api.seed import HEX32, Account
from local.loopback import LoopbackServer

# The shape of a real API token (40 characters of [A-Za-z0-9_-]); not a secret.
TOKEN = "test_token_for_the_loopback_api_00000000"
# One instant for every timestamp, so answers are identical from run to run.
CREATED = "2025-01-01T00:00:00Z"


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    body: Any  # JSON decoded; other bodies as text
    headers: dict[str, str] = field(default_factory=dict)  # names in lower case
    raw: bytes = b""


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
    # /workers/workers and its versions page by page/per_page (cloudflare-go's
    # V4PagePaginationArray); the reference gives no default or bounds, so these are chosen.
    "workers": Paging(default=20, minimum=1, maximum=100),
    "versions": Paging(default=20, minimum=1, maximum=100),
}


def error(code: int, message: str, **extra: Any) -> dict[str, Any]:
    return {"code": code, "message": message, **extra}


class ApiError(Exception):
    """An error answer: its HTTP status and the error objects of its envelope."""

    def __init__(self, status: int, *errors: dict[str, Any]) -> None:
        super().__init__(status, errors)
        self.status = status
        self.errors = list(errors)


def invalid(message: str) -> ApiError:
    """Bad input in a body: the API's validation error (code 10021 in its Workers, KV and R2 answers)."""
    return ApiError(400, error(10021, message))


def no_route(path: str) -> ApiError:
    return ApiError(400, error(7003, f"Could not route to {path}, perhaps your object identifier is invalid?"),
                    error(7000, "No route for that URI"))


AUTHENTICATION_ERROR = error(10000, "Authentication error")
_DEFAULT_FAULTS = {
    403: AUTHENTICATION_ERROR,
    429: error(971, "Please wait and consider throttling your request speed"),
}


@dataclass(frozen=True)
class Raw:
    """A result sent as it is, outside the envelope."""

    content_type: str
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Call:
    path: str
    query: dict[str, list[str]]
    body: Any
    headers: Mapping[str, str]
    raw: bytes = b""

    def arg(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None

    def flag(self, name: str) -> bool:
        return (self.arg(name) or "").lower() == "true"

    def json_object(self) -> dict[str, Any]:
        if not isinstance(self.body, dict):
            raise ApiError(400, error(10026, "The request body must be a JSON object"))
        return self.body


Handler = Callable[[dict[str, str], Call], tuple[Any, "dict[str, Any] | None"]]


@dataclass
class _Fault:
    method: str
    path: re.Pattern[str]
    status: int
    headers: dict[str, str]
    errors: list[dict[str, Any]]
    skip: int
    times: int | None
    applied: bool


class Ids:
    """Identifiers made from what is created and how many of it were made before under that
    key, never from a clock or a random source: a run gives the same ids on every machine,
    while a name deleted and created again gets a new id, as the API gives."""

    def __init__(self) -> None:
        self._made: Counter[tuple[str, str]] = Counter()

    def uuid(self, kind: str, key: str) -> str:
        count = self._made[(kind, key)]
        self._made[(kind, key)] += 1
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"loopback-cloudflare/{kind}/{key}/{count}"))

    def hex(self, kind: str, key: str) -> str:
        return self.uuid(kind, key).replace("-", "")


class ApiBase:
    """The account's API on a loopback port, started at construction, stopped by close().
    Each service extends `_seed` (its state from the account) and `_route_table`."""

    def __init__(self, account: Account, *, token: str = TOKEN, page_size: Mapping[str, int] | None = None) -> None:
        unknown = set(page_size or {}) - set(PAGING)
        if unknown:
            raise ValueError(f"page_size names no paginated list: {sorted(unknown)} (lists: {sorted(PAGING)})")
        self.account = account
        self.token = token
        self.page_size = dict(page_size or {})
        self.requests: list[Request] = []
        self.ids = Ids()
        self._faults: list[_Fault] = []
        # One request at a time changes the account: handlers run on the server's threads.
        self._lock = threading.RLock()
        self._seed(account)
        self._routes = [(method, re.compile(pattern), handler) for method, pattern, handler in self._route_table()]
        self._loopback = LoopbackServer(self._handler_class())

    def _seed(self, account: Account) -> None:
        pass

    def _route_table(self) -> list[tuple[str, str, Handler]]:
        return []

    @property
    def base_url(self) -> str:
        return f"{self._loopback.url}/client/v4"

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._loopback.close()

    def fail(self, method: str, path_regex: str, status: int, times: int | None = 1, skip: int = 0,
             headers: Mapping[str, str] | None = None, errors: list[dict[str, Any]] | None = None,
             applied: bool = False) -> None:
        """Answer `status` to the matching requests (method, and re.search on the path) after
        letting `skip` of them through, `times` of them (None: all that follow). Without
        `errors`, the error the API documents for that status; a 429 says Retry-After: 1.
        `applied`: the request is carried out and only its answer is lost, as when a
        connection drops after the API wrote."""
        if errors is None:
            errors = [_DEFAULT_FAULTS.get(status, error(1000, HTTPStatus(status).phrase))]
        if headers is None:
            headers = {"Retry-After": "1"} if status == 429 else {}
        with self._lock:
            self._faults.append(_Fault(method.upper(), re.compile(path_regex), status, dict(headers), errors, skip, times, applied))

    def owns_account(self, account_id: str) -> bool:
        return account_id == self.account.id

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
                                                      raw, self.headers)
                if isinstance(answer, Raw):
                    content_type, data, headers = answer.content_type, answer.body, {**answer.headers, **headers}
                else:
                    content_type, data = "application/json", json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("content-type", content_type)
                self.send_header("content-length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = handle_any

        return Handler

    def _answer(self, method: str, path: str, query: dict[str, list[str]], raw: bytes,
                headers: Mapping[str, str]) -> tuple[int, dict[str, Any] | Raw, dict[str, str]]:
        body = _body(raw)
        with self._lock:
            self.requests.append(Request(method, path, query, body, {k.lower(): v for k, v in headers.items()}, raw))
            fault = self._fault_for(method, path)
            if fault and not fault.applied:
                return fault.status, _failure(fault.errors), fault.headers
            status, answer = self._handle(method, path, Call(path, query, body, headers, raw), headers)
        if fault:
            return fault.status, _failure(fault.errors), fault.headers
        return status, answer, {}

    def _handle(self, method: str, path: str, call: Call, headers: Mapping[str, str]) -> tuple[int, dict[str, Any] | Raw]:
        try:
            self._authenticate(headers.get("authorization"))
            handler, params = self._route(method, path)
            result, result_info = handler(params, call)
        except ApiError as err:
            return err.status, _failure(err.errors)
        if isinstance(result, Raw):
            return 200, result
        envelope = {"success": True, "errors": [], "messages": [], "result": result}
        if result_info is not None:
            envelope["result_info"] = result_info
        return 200, envelope

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
            raise ApiError(400, error(9106, "Missing X-Auth-Key, X-Auth-Email or Authorization headers"))
        scheme, _, token = authorization.partition(" ")
        if scheme != "Bearer" or not token or " " in token:
            raise ApiError(400, error(6003, "Invalid request headers",
                                      error_chain=[error(6111, "Invalid format for Authorization header")]))
        if token != self.token:
            raise ApiError(403, AUTHENTICATION_ERROR)

    def _route(self, method: str, path: str) -> tuple[Handler, dict[str, str]]:
        other_methods = False
        for route_method, pattern, handler in self._routes:
            match = pattern.fullmatch(path)
            if not match:
                continue
            if route_method != method:
                other_methods = True
                continue
            params = match.groupdict()
            if "account" in params and not self.owns_account(params["account"]):
                # An account id of the right form that the token has no access to is an
                # authentication error; anything else is not an identifier at all.
                if HEX32.fullmatch(params["account"]):
                    raise ApiError(403, AUTHENTICATION_ERROR)
                raise no_route(path)
            return handler, params
        if other_methods:
            raise ApiError(405, error(7001, f"{method} not supported for requested URI."))
        raise no_route(path)

    # Pagination.
    def _per_page(self, name: str, call: Call) -> int:
        paging = PAGING[name]
        per_page = number(call, "per_page", paging.default)
        if not paging.minimum <= per_page <= paging.maximum:
            raise ApiError(400, error(1000, f"per_page must be between {paging.minimum} and {paging.maximum}"))
        return min(per_page, self.page_size.get(name, per_page))

    def _page(self, name: str, items: list[dict[str, Any]], call: Call) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        page, per_page = number(call, "page", 1), self._per_page(name, call)
        if page < 1:
            raise ApiError(400, error(1000, "page must be 1 or more"))
        chosen = items[(page - 1) * per_page: page * per_page]
        return chosen, {"page": page, "per_page": per_page, "count": len(chosen), "total_count": len(items)}


ACCOUNT = "/client/v4/accounts/(?P<account>[^/]+)"


def _body(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", "replace")


def _failure(errors: list[dict[str, Any]]) -> dict[str, Any]:
    return {"success": False, "errors": errors, "messages": [], "result": None}


def number(call: Call, name: str, default: int) -> int:
    raw = call.arg(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ApiError(400, error(1000, f"{name} must be a number")) from None
    if not value.is_integer():
        raise ApiError(400, error(1000, f"{name} must be a whole number"))
    return int(value)


def ordered(items: list[dict[str, Any]], call: Call, fields: tuple[str, ...]) -> list[dict[str, Any]]:
    order, descending = call.arg("order"), call.arg("direction") == "desc"
    if order is None:
        return list(reversed(items)) if descending else items
    if order not in fields:
        raise ApiError(400, error(1000, f"order must be one of {', '.join(fields)}"))
    return sorted(items, key=lambda item: field_at(item, tuple(order.split("."))), reverse=descending)


def field_at(item: dict[str, Any], path: tuple[str, ...]) -> Any:
    for key in path:
        item = item[key]
    return item


def whole_list_info(items: list[Any]) -> dict[str, Any]:
    return {"page": 1, "per_page": len(items), "count": len(items), "total_count": len(items)}


def encode_cursor(name: str) -> str:
    return base64.urlsafe_b64encode(name.encode()).decode()


def decode_cursor(cursor: str) -> str:
    try:
        return base64.urlsafe_b64decode(cursor.encode()).decode()
    except ValueError:
        raise ApiError(400, error(1000, "The cursor is not valid")) from None
