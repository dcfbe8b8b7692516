"""Each id of an import file, imported by the Cloudflare provider's own import code.

`pulumi import --file` hands every id to the Cloudflare provider, which (behind the bridge)
runs the Terraform resource's ImportState: it parses the id with the resource's documented
template (internal/importpath) and reads that resource from the API. `schemacheck import`
(engine/cloudflare) runs exactly that code through the plugin framework's protocol-6
server, with a client made as the provider makes it: from CLOUDFLARE_BASE_URL and
CLOUDFLARE_API_TOKEN in the environment given. Each answer holds the provider's diagnostics
and, when the import succeeded, the state it read.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Optional

from engine.provider_schema import CLOUDFLARE, ask, terraform_type


@dataclass(frozen=True)
class Imported:
    type: str  # the Terraform type, e.g. cloudflare_workers_kv_namespace
    id: str
    errors: tuple[str, ...]  # the provider's error diagnostics, "summary: detail"
    state: Optional[Mapping[str, Any]]  # the state it imported; None when it failed

    def __str__(self) -> str:
        return f"{self.type} {self.id}: " + ("; ".join(self.errors) or "imported")


def cloudflare_entries(document: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(Pulumi type token, import id) of every Cloudflare resource an import file imports."""
    return [(r["type"], r["id"]) for r in document["resources"] if r["type"].startswith(CLOUDFLARE) and "id" in r]


def import_states(entries: list[tuple[str, str]], schemacheck: Path, environ: Mapping[str, str]) -> list[Imported]:
    """The provider's import of each (type token, id), against the API `environ` names."""
    requests = [{"type": terraform_type(token), "id": import_id} for token, import_id in entries]
    answers = ask(schemacheck, "import", requests, env=environ)
    return [
        Imported(r["type"], r["id"], tuple(f"{d['summary']}: {d['detail']}" for d in a["diagnostics"] if d["severity"] == "ERROR"), a["state"])
        for r, a in zip(requests, answers)
    ]
