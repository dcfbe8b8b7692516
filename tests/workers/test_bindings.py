"""Each family's TypeScript Env declares exactly the bindings the catalog gives its Workers."""

from __future__ import annotations

import re

import pytest

from stacks.catalog import Catalog, load_catalog
from tests.conftest import ROOT

CATALOG = load_catalog(ROOT)
TYPES = {"d1": "D1Database", "kv": "KVNamespace", "r2": "R2Bucket", "var": "string", "secret": "string", "origins": "string"}
FIELD = re.compile(r"^\s+(\w+)(\??): (\w+);", re.MULTILINE)
PATTERN = re.compile(r"^\s+\[\w+: `(\w+)\$\{string\}`\]: (\w+);", re.MULTILINE)


def declared(family: str) -> tuple[dict[str, tuple[str, bool]], dict[str, str]]:
    """The Env interface of a family: fields (name -> type, optional) and prefix patterns."""
    source = (ROOT / "workers" / "src" / family / "env.ts").read_text()
    body = re.search(r"export interface \w+Env \{(.*?)\n\}", source, re.DOTALL)
    assert body, f"workers/src/{family}/env.ts has no exported Env interface"
    fields = {name: (type_, optional == "?") for name, optional, type_ in FIELD.findall(body.group(1))}
    patterns = dict(PATTERN.findall(body.group(1)))
    return fields, patterns


@pytest.mark.parametrize("family", sorted(CATALOG.families))
def test_the_env_interface_matches_the_catalog(family: str, catalog: Catalog) -> None:
    fields, patterns = declared(family)
    workers = [w for w in catalog.workers if w.family == family]
    bound_somewhere: set[str] = set()
    for worker in workers:
        bound = {name: kind for kind, _, name, _ in worker.bindings() if kind != "service"}
        bound_somewhere |= set(bound)
        for name, kind in bound.items():
            prefix = next((p for p in patterns if name.startswith(p)), None)
            type_ = fields[name][0] if name in fields else patterns.get(prefix or "", None)
            assert type_ == TYPES[kind], f"{worker.name}: {kind} binding {name} is declared as {type_}"
        missing = [name for name, (_, optional) in fields.items() if not optional and name not in bound]
        assert missing == [], f"{worker.name} lacks bindings its code requires: {missing}"
    unused = sorted(set(fields) - bound_somewhere)
    assert unused == [], f"declared in workers/src/{family}/env.ts but bound by no Worker: {unused}"
