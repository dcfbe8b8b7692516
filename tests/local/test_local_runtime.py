"""What the local runtime (local/driver.mjs) leaves out, and that no Worker needs it."""

from __future__ import annotations

import re

from stacks.catalog import Catalog
from tests.conftest import ROOT
from workers.bundle import OUT_DIR, build_bundles

CACHE_API = re.compile(r"\bcaches\s*\.\s*(default|open)\b")


def test_no_worker_uses_the_cache_api_which_the_driver_turns_off(catalog: Catalog) -> None:
    """The driver starts Miniflare with cache: false (0.3 s off the fleet's start), so a
    Worker's caches.default would silently cache nothing here while it works deployed."""
    build_bundles(ROOT, {family: spec.entry for family, spec in catalog.families.items()})
    users = [family for family in sorted(catalog.families) if CACHE_API.search((ROOT / OUT_DIR / f"{family}.js").read_text())]
    assert users == [], f"{users} use the Cache API: turn Miniflare's cache back on in local/driver.mjs first"
