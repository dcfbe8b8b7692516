"""Workers KV namespaces, D1 databases (each a real SQLite database) and R2 buckets with
their CORS and lifecycle rules: the calls of terraform-provider-cloudflare v5.24.0's
workers_kv_namespace, d1_database, r2_bucket, r2_bucket_cors and r2_bucket_lifecycle
resources (internal/services/<type>/resource.go, through cloudflare-go v7.9.0's kv, d1 and
r2 packages), and the reads `make adopt` and wrangler make.

Error answers are the API's own where they were seen: the D1 ones (7404, 7400, 7502 as
wrangler's d1 commands test for), KV's 10013, 10011 and 10014, R2's 10004, 10005, 10006
and 10059 (cloudflare/workers-sdk's handling of them; the alchemy-run/distilled-cloudflare
error catalog, made by probing the API)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from typing import Any

from local.cloudflare_api.core import (
    ACCOUNT, CREATED, ApiBase, ApiError, Call, Handler, decode_cursor, encode_cursor, error, invalid, ordered,
)
from local.cloudflare_api.seed import BUCKET_NAME, HEX32, R2_JURISDICTION, R2_LOCATION, UUID, Account

BOOKMARK = "00000001-00000002-00004e2f-0a83ea2fceebc654de0640c422be4653"
D1_JURISDICTIONS = ("eu", "us", "fedramp")
READ_REPLICATION_MODES = ("auto", "disabled")
STORAGE_CLASSES = ("Standard", "InfrequentAccess")
CORS_METHODS = ("GET", "PUT", "POST", "DELETE", "HEAD")
# R2 gives every new bucket this rule (its docs, "Object lifecycles"): multipart uploads left
# unfinished are aborted after seven days, until a lifecycle configuration replaces it.
DEFAULT_LIFECYCLE = [{"id": "Default Multipart Abort Rule", "enabled": True, "conditions": {"prefix": ""},
                      "abortMultipartUploadsTransition": {"condition": {"maxAge": 604800, "type": "Age"}}}]


@dataclass
class _Namespace:
    id: str
    title: str


@dataclass
class _Database:
    uuid: str
    name: str
    jurisdiction: str | None = None
    read_replication: str = "disabled"


@dataclass
class _Bucket:
    name: str
    jurisdiction: str
    location: str
    storage_class: str = "Standard"
    cors: list[dict[str, Any]] | None = None
    lifecycle: list[dict[str, Any]] = field(default_factory=lambda: [dict(rule) for rule in DEFAULT_LIFECYCLE])


class StorageApi(ApiBase):
    def _seed(self, account: Account) -> None:
        super()._seed(account)
        self.namespaces = [_Namespace(n.id, n.title) for n in account.namespaces]
        self.databases = [_Database(d.uuid, d.name) for d in account.databases]
        self.buckets = [_Bucket(b.name, b.jurisdiction, b.location) for b in account.buckets]
        self._connections: dict[str, sqlite3.Connection] = {}
        for database in account.databases:
            self.database(database.uuid).executescript(database.schema)

    def _route_table(self) -> list[tuple[str, str, Handler]]:
        database = ACCOUNT + "/d1/database/(?P<database>[^/]+)"
        namespace = ACCOUNT + "/storage/kv/namespaces/(?P<namespace>[^/]+)"
        bucket = ACCOUNT + "/r2/buckets/(?P<bucket>[^/]+)"
        return super()._route_table() + [
            ("GET", ACCOUNT + "/d1/database", self._d1_databases),
            ("POST", ACCOUNT + "/d1/database", self._create_database),
            ("GET", database, self._get_database),
            ("PUT", database, self._update_database),
            ("PATCH", database, self._edit_database),
            ("DELETE", database, self._delete_database),
            ("POST", database + "/query", self._query),
            ("GET", database + "/time_travel/bookmark", self._bookmark),
            ("POST", database + "/time_travel/restore", self._restore),
            ("GET", ACCOUNT + "/storage/kv/namespaces", self._namespaces),
            ("POST", ACCOUNT + "/storage/kv/namespaces", self._create_namespace),
            ("GET", namespace, self._get_namespace),
            ("PUT", namespace, self._rename_namespace),
            ("DELETE", namespace, self._delete_namespace),
            ("GET", ACCOUNT + "/r2/buckets", self._buckets),
            ("POST", ACCOUNT + "/r2/buckets", self._create_bucket),
            ("GET", bucket, self._get_bucket),
            ("PATCH", bucket, self._edit_bucket),
            ("DELETE", bucket, self._delete_bucket),
            ("GET", bucket + "/cors", self._get_cors),
            ("PUT", bucket + "/cors", self._put_cors),
            ("DELETE", bucket + "/cors", self._delete_cors),
            ("GET", bucket + "/lifecycle", self._get_lifecycle),
            ("PUT", bucket + "/lifecycle", self._put_lifecycle),
        ]

    # Hooks a stand-in with other rules (local/d1_api.py) overrides.
    def has_database(self, uuid: str) -> bool:
        return any(d.uuid == uuid for d in self.databases)

    def database(self, uuid: str) -> sqlite3.Connection:
        """The SQLite database behind a D1 database of the account."""
        with self._lock:
            if uuid not in self._connections:
                # Autocommit, so that a query's batch is one explicit transaction (_execute).
                self._connections[uuid] = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
            return self._connections[uuid]

    # Lookups the Workers service makes of what a binding names.
    def namespace_exists(self, namespace_id: str) -> bool:
        return any(n.id == namespace_id for n in self.namespaces)

    def bucket_exists(self, name: str, jurisdiction: str) -> bool:
        return any(b.name == name and b.jurisdiction == jurisdiction for b in self.buckets)

    # D1.
    def _database_entry(self, database: _Database) -> dict[str, Any]:
        return {"uuid": database.uuid, "name": database.name, "created_at": CREATED, "version": "production",
                "num_tables": self._table_count(database.uuid), "file_size": self._file_size(database.uuid)}

    def _database_details(self, database: _Database) -> dict[str, Any]:
        return self._database_entry(database) | {"jurisdiction": database.jurisdiction,
                                                 "read_replication": {"mode": database.read_replication}}

    def _database_named(self, params: dict[str, str]) -> _Database:
        uuid = params["database"]
        if not UUID.fullmatch(uuid):
            raise ApiError(400, error(7400, "Invalid property: databaseId => Invalid uuid"))
        found = next((d for d in self.databases if d.uuid == uuid), None)
        if found is None:
            raise ApiError(404, error(7404, f"The database {uuid} could not be found"))
        return found

    def _d1_databases(self, params: dict[str, str], call: Call) -> tuple[Any, dict[str, Any]]:
        wanted = call.arg("name")
        databases = [self._database_entry(d) for d in self.databases if wanted is None or wanted in d.name]
        return self._page("databases", databases, call)

    def _create_database(self, params: dict[str, str], call: Call) -> tuple[Any, None]:
        body = call.json_object()
        name, jurisdiction = body.get("name"), body.get("jurisdiction")
        if not isinstance(name, str) or not name:
            raise ApiError(400, error(7400, "Invalid property: name => Required"))
        if jurisdiction is not None and jurisdiction not in D1_JURISDICTIONS:
            raise ApiError(400, error(7400, f"Invalid property: jurisdiction => must be one of {', '.join(D1_JURISDICTIONS)}"))
        if any(d.name == name for d in self.databases):
            raise ApiError(400, error(7502, "A database with that name already exists"))
        database = _Database(self.ids.uuid("d1", name), name, jurisdiction, _replication(body, "disabled"))
        self.databases.append(database)
        self.database(database.uuid)
        return self._database_details(database), None

    def _get_database(self, params: dict[str, str], call: Call) -> tuple[Any, None]:
        return self._database_details(self._database_named(params)), None

    def _update_database(self, params: dict[str, str], call: Call) -> tuple[Any, None]:
        database = self._database_named(params)
        body = call.json_object()
        if "read_replication" not in body:
            raise ApiError(400, error(7400, "Invalid property: read_replication => Required"))
        database.read_replication = _replication(body, database.read_replication)
        return self._database_details(database), None

    def _edit_database(self, params: dict[str, str], call: Call) -> tuple[Any, None]:
        database = self._database_named(params)
        database.read_replication = _replication(call.json_object(), database.read_replication)
        return self._database_details(database), None

    def _delete_database(self, params: dict[str, str], call: Call) -> tuple[Any, None]:
        database = self._database_named(params)
        self.databases.remove(database)
        self._connections.pop(database.uuid).close()
        return None, None

    def _d1_database(self, params: dict[str, str]) -> str:
        if not self.has_database(params["database"]):
            self._database_named(params)
        return params["database"]

    def _query(self, params: dict[str, str], call: Call) -> tuple[Any, None]:
        uuid = self._d1_database(params)
        body = call.body if isinstance(call.body, dict) else {}
        if not isinstance(body.get("sql"), str):
            raise ApiError(400, error(1000, "sql is required"))
        return self._execute(uuid, body["sql"], list(body.get("params") or [])), None

    def _bookmark(self, params: dict[str, str], call: Call) -> tuple[Any, None]:
        self._d1_database(params)
        return {"bookmark": BOOKMARK}, None

    def _restore(self, params: dict[str, str], call: Call) -> tuple[Any, None]:
        self._d1_database(params)
        return {"bookmark": BOOKMARK.replace("0001", "0009", 1), "previous_bookmark": BOOKMARK,
                "message": "Database restored successfully"}, None

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
                raise ApiError(400, error(7500, f"{err}: SQLITE_ERROR")) from None
        return results

    def _table_count(self, uuid: str) -> int:
        with self._lock:
            return self.database(uuid).execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]

    def _file_size(self, uuid: str) -> int:
        with self._lock:
            return _size(self.database(uuid))

    # KV.
    def _namespace_named(self, params: dict[str, str], operation: str) -> _Namespace:
        namespace_id = params["namespace"]
        if not HEX32.fullmatch(namespace_id):
            raise ApiError(400, error(10011, f"could not parse UUID from request's namespace_id: '{namespace_id}'"))
        found = next((n for n in self.namespaces if n.id == namespace_id), None)
        if found is None:
            raise ApiError(404, error(10013, f"{operation}: 'namespace not found'"))
        return found

    def _title(self, call: Call, operation: str, renamed: _Namespace | None = None) -> str:
        title = call.json_object().get("title")
        if not isinstance(title, str) or not title:
            raise ApiError(400, error(10019, f"{operation}: 'a namespace title is required'"))
        if any(n.title == title and n is not renamed for n in self.namespaces):
            raise ApiError(400, error(10014, f"{operation}: 'a namespace with this account ID and title already exists'"))
        return title

    def _namespaces(self, params: dict[str, str], call: Call) -> tuple[Any, dict[str, Any]]:
        namespaces = [_namespace(n) for n in self.namespaces]
        return self._page("namespaces", ordered(namespaces, call, ("id", "title")), call)

    def _create_namespace(self, params: dict[str, str], call: Call) -> tuple[Any, None]:
        title = self._title(call, "create namespace")
        namespace = _Namespace(self.ids.hex("kv", title), title)
        self.namespaces.append(namespace)
        return _namespace(namespace), None

    def _get_namespace(self, params: dict[str, str], call: Call) -> tuple[Any, None]:
        return _namespace(self._namespace_named(params, "get namespace")), None

    def _rename_namespace(self, params: dict[str, str], call: Call) -> tuple[Any, None]:
        namespace = self._namespace_named(params, "rename namespace")
        namespace.title = self._title(call, "rename namespace", renamed=namespace)
        return _namespace(namespace), None

    def _delete_namespace(self, params: dict[str, str], call: Call) -> tuple[Any, None]:
        self.namespaces.remove(self._namespace_named(params, "remove namespace"))
        return None, None

    # R2: a bucket is found only in the jurisdiction its request names (cf-r2-jurisdiction).
    def _bucket_named(self, params: dict[str, str], call: Call) -> _Bucket:
        name = params["bucket"]
        if not BUCKET_NAME.fullmatch(name):
            raise ApiError(400, error(10005, "The specified bucket name is not valid."))
        jurisdiction = _jurisdiction(call)
        bucket = next((b for b in self.buckets if b.name == name and b.jurisdiction == jurisdiction), None)
        if bucket is None:
            raise ApiError(404, error(10006, "The specified bucket does not exist."))
        return bucket

    def _buckets(self, params: dict[str, str], call: Call) -> tuple[Any, dict[str, Any]]:
        jurisdiction = _jurisdiction(call)
        contains, start_after = call.arg("name_contains") or "", call.arg("start_after") or ""
        buckets = sorted((b for b in self.buckets if b.jurisdiction == jurisdiction and contains in b.name),
                         key=lambda b: b.name, reverse=call.arg("direction") == "desc")
        cursor = call.arg("cursor")
        after = decode_cursor(cursor) if cursor else start_after
        if after:
            buckets = [b for b in buckets if (b.name < after if call.arg("direction") == "desc" else b.name > after)]
        per_page = self._per_page("buckets", call)
        page, more = buckets[:per_page], len(buckets) > per_page
        return {"buckets": [_bucket(b) for b in page]}, {"cursor": encode_cursor(page[-1].name) if more else "", "per_page": per_page}

    def _create_bucket(self, params: dict[str, str], call: Call) -> tuple[Any, None]:
        # The create body is camelCase (locationHint, storageClass), unlike every answer.
        body = call.json_object()
        name, jurisdiction = body.get("name"), _jurisdiction(call)
        if not isinstance(name, str) or not BUCKET_NAME.fullmatch(name):
            raise ApiError(400, error(10005, "The specified bucket name is not valid."))
        hint = str(body.get("locationHint") or "enam").lower()
        if not R2_LOCATION.fullmatch(hint):
            raise invalid(f"locationHint {body.get('locationHint')!r} is not one of apac, eeur, enam, weur, wnam, oc")
        storage_class = _storage_class(body.get("storageClass") or "Standard")
        if self.bucket_exists(name, jurisdiction):
            raise ApiError(409, error(10004, "The bucket you tried to create already exists, and you own it."))
        bucket = _Bucket(name, jurisdiction, hint, storage_class)
        self.buckets.append(bucket)
        return _bucket(bucket), None

    def _get_bucket(self, params: dict[str, str], call: Call) -> tuple[Any, None]:
        return _bucket(self._bucket_named(params, call)), None

    def _edit_bucket(self, params: dict[str, str], call: Call) -> tuple[Any, None]:
        bucket = self._bucket_named(params, call)
        bucket.storage_class = _storage_class(call.headers.get("cf-r2-storage-class") or "")
        return _bucket(bucket), None

    def _delete_bucket(self, params: dict[str, str], call: Call) -> tuple[Any, None]:
        self.buckets.remove(self._bucket_named(params, call))
        return {}, None

    def _get_cors(self, params: dict[str, str], call: Call) -> tuple[Any, None]:
        bucket = self._bucket_named(params, call)
        if bucket.cors is None:
            raise ApiError(404, error(10059, "The CORS configuration does not exist."))
        return {"rules": bucket.cors}, None

    def _put_cors(self, params: dict[str, str], call: Call) -> tuple[Any, None]:
        bucket = self._bucket_named(params, call)
        bucket.cors = _cors_rules(call.json_object().get("rules") or [])
        return {}, None

    def _delete_cors(self, params: dict[str, str], call: Call) -> tuple[Any, None]:
        bucket = self._bucket_named(params, call)
        if bucket.cors is None:
            raise ApiError(404, error(10059, "The CORS configuration does not exist."))
        bucket.cors = None
        return {}, None

    def _get_lifecycle(self, params: dict[str, str], call: Call) -> tuple[Any, None]:
        return {"rules": self._bucket_named(params, call).lifecycle}, None

    def _put_lifecycle(self, params: dict[str, str], call: Call) -> tuple[Any, None]:
        bucket = self._bucket_named(params, call)
        bucket.lifecycle = _lifecycle_rules(call.json_object().get("rules") or [])
        return {}, None


def _replication(body: dict[str, Any], current: str) -> str:
    replication = body.get("read_replication")
    if replication is None:
        return current
    mode = replication.get("mode") if isinstance(replication, dict) else None
    if mode not in READ_REPLICATION_MODES:
        raise ApiError(400, error(7400, f"Invalid property: read_replication.mode => must be one of {', '.join(READ_REPLICATION_MODES)}"))
    return mode


def _namespace(namespace: _Namespace) -> dict[str, Any]:
    return {"id": namespace.id, "title": namespace.title, "supports_url_encoding": True}


def _jurisdiction(call: Call) -> str:
    jurisdiction = call.headers.get("cf-r2-jurisdiction") or "default"
    if not R2_JURISDICTION.fullmatch(jurisdiction):
        raise invalid(f"cf-r2-jurisdiction {jurisdiction!r} is not one of default, eu, us, fedramp, fedramp-high")
    return jurisdiction


def _storage_class(value: Any) -> str:
    if value not in STORAGE_CLASSES:
        raise invalid(f"storage class {value!r} is not one of {', '.join(STORAGE_CLASSES)}")
    return value


def _bucket(bucket: _Bucket) -> dict[str, Any]:
    # The API answers a bucket's location in capitals (ENAM), whatever the case of the hint.
    return {"name": bucket.name, "creation_date": CREATED, "jurisdiction": bucket.jurisdiction, "location": bucket.location.upper(),
            "storage_class": bucket.storage_class}


def _cors_rules(rules: Any) -> list[dict[str, Any]]:
    if not isinstance(rules, list):
        raise invalid("rules must be a list")
    for index, rule in enumerate(rules):
        allowed = rule.get("allowed") if isinstance(rule, dict) else None
        if not isinstance(allowed, dict) or not allowed.get("origins") or not allowed.get("methods"):
            raise invalid(f"rules[{index}].allowed needs origins and methods")
        unknown = [m for m in allowed["methods"] if m not in CORS_METHODS]
        if unknown:
            raise invalid(f"rules[{index}].allowed.methods: {unknown} are not among {', '.join(CORS_METHODS)}")
    return rules


def _lifecycle_rules(rules: Any) -> list[dict[str, Any]]:
    if not isinstance(rules, list):
        raise invalid("rules must be a list")
    for index, rule in enumerate(rules):
        if not isinstance(rule, dict) or not isinstance(rule.get("id"), str) or not isinstance(rule.get("enabled"), bool):
            raise invalid(f"rules[{index}] needs an id and enabled")
        if not isinstance(rule.get("conditions"), dict) or not isinstance(rule["conditions"].get("prefix"), str):
            raise invalid(f"rules[{index}].conditions.prefix is required")
        transitions = [rule.get("deleteObjectsTransition"), rule.get("abortMultipartUploadsTransition"), *(rule.get("storageClassTransitions") or [])]
        for transition in filter(None, transitions):
            condition = transition.get("condition") or {}
            if condition and condition.get("type") not in ("Age", "Date"):
                raise invalid(f"rules[{index}]: a transition's condition type is Age or Date, not {condition.get('type')!r}")
    return rules


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
