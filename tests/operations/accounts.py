"""A project folder with both stacks' plans, and the import file `make adopt` writes from the
hand-made account (local/cloudflare_api/hand_made.py)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from local.cloudflare_api import TOKEN, CloudflareApi
from local.cloudflare_api.hand_made import STACKS
from operations import adopt
from tests.conftest import ROOT, Planned


def project_with_plans(planned: dict[str, Planned], folder: Path) -> Path:
    """A project folder as `make adopt` has it before reading the account: both plans written."""
    for name in ("Pulumi.staging.yaml", "Pulumi.prod.yaml"):
        shutil.copy2(ROOT / name, folder / name)
    (folder / "workers").symlink_to(ROOT / "workers")
    (folder / "build" / "plan").mkdir(parents=True)
    for stack in STACKS:
        (folder / "build" / "plan" / f"{stack}.json").write_text(json.dumps(planned[stack].plan))
    return folder


def adopted_import_file(api: CloudflareApi, root: Path, stack: str = "prod") -> dict[str, Any]:
    """`make adopt STACK=<stack>` run in `root` against the loopback account: the import file it wrote."""
    with pytest.MonkeyPatch.context() as env:
        # The SDK would send an API key and email instead of the token if they were set.
        for name in ("CLOUDFLARE_API_KEY", "CLOUDFLARE_EMAIL", "CLOUDFLARE_API_USER_SERVICE_KEY"):
            env.delenv(name, raising=False)
        env.setenv("CLOUDFLARE_API_TOKEN", TOKEN)
        env.setenv("CLOUDFLARE_BASE_URL", api.base_url)
        assert adopt.main([stack], root=root) == 0
    return json.loads((root / adopt.ADOPT_DIR / f"{stack}.json").read_text())
