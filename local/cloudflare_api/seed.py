"""What an account holds when the loopback API starts: a live account as a test describes it
(made by hand before any deploy, say), in the forms the API reference documents. The API
copies it at start; writes change the copy, never these values."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import ClassVar

HEX32 = re.compile(r"[0-9a-f]{32}")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
SCRIPT_NAME = re.compile(r"[a-z0-9_][a-z0-9-_]*")
BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9-]{1,62}[a-z0-9]")
R2_JURISDICTION = re.compile(r"default|eu|us|fedramp|fedramp-high")
R2_LOCATION = re.compile(r"apac|eeur|enam|weur|wnam|oc")


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
    _forms = {"name": SCRIPT_NAME}


@dataclass(frozen=True)
class Database(_Documented):
    uuid: str
    name: str
    # Run into the database's SQLite at start: its tables, a d1_migrations table, rows.
    schema: str = ""
    _forms = {"uuid": UUID}


@dataclass(frozen=True)
class Namespace(_Documented):
    id: str
    title: str
    _forms = {"id": HEX32}


@dataclass(frozen=True)
class Bucket(_Documented):
    name: str
    jurisdiction: str = "default"
    location: str = "enam"
    _forms = {"name": BUCKET_NAME, "jurisdiction": R2_JURISDICTION, "location": R2_LOCATION}


@dataclass(frozen=True)
class Route(_Documented):
    id: str
    pattern: str
    script: str
    _forms = {"id": HEX32, "script": SCRIPT_NAME}


@dataclass(frozen=True)
class Zone(_Documented):
    id: str
    name: str
    routes: list[Route] = field(default_factory=list)
    _forms = {"id": HEX32}


@dataclass(frozen=True)
class CustomDomain(_Documented):
    id: str
    hostname: str
    service: str
    zone_id: str
    zone_name: str
    environment: str = "production"
    _forms = {"id": HEX32, "zone_id": HEX32}


@dataclass(frozen=True)
class Policy(_Documented):
    id: str
    name: str
    alert_type: str
    enabled: bool = True
    mechanisms: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    _forms = {"id": UUID}


@dataclass(frozen=True)
class Webhook(_Documented):
    id: str
    name: str
    url: str
    type: str = "generic"
    _forms = {"id": UUID}


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
    _forms = {"id": HEX32}
