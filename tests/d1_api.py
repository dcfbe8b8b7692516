"""The D1 endpoints of the loopback Cloudflare API (tests/cloudflare_api/) as real wrangler
meets them: query, Time Travel bookmark and restore over a real SQLite database per D1
database id, for any account id, each database created empty on first use.

Real wrangler (`d1 migrations apply --remote`, pointed here by CLOUDFLARE_API_BASE_URL)
runs against it unchanged: it creates and reads `d1_migrations` and sends each file
through the query endpoint. Every request is recorded, the bearer token checked.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any, Mapping

from tests.cloudflare_api import BOOKMARK, Account, ApiError, CloudflareApi, Request

__all__ = ["BOOKMARK", "TOKEN", "D1Api", "Request", "migration_environment", "run_migration_command"]

TOKEN = "test-token-not-a-secret"


class D1Api(CloudflareApi):
    def __init__(self) -> None:
        super().__init__(Account(id="0" * 32), token=TOKEN)
        self.bookmark_fails = False

    def owns_account(self, account_id: str) -> bool:
        return True

    def has_database(self, uuid: str) -> bool:
        self.database(uuid)
        return True

    def _bookmark(self, params: dict[str, str], call: Any) -> tuple[Any, None]:
        if self.bookmark_fails:
            raise ApiError(500, {"code": 7500, "message": "Internal error reading the bookmark"})
        return super()._bookmark(params, call)


def migration_environment(api: D1Api, account: str, database: Mapping[str, str]) -> dict[str, str]:
    """The environment the program gives a database's migration command (components/d1.py),
    pointed at `api`; `database` holds its D1_* variables."""
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("CLOUDFLARE_", "D1_"))}
    return keep | dict(database) | {
        "CLOUDFLARE_ACCOUNT_ID": account, "CLOUDFLARE_API_TOKEN": TOKEN, "CLOUDFLARE_API_BASE_URL": api.base_url,
    }


def run_migration_command(command: str, root: Path, env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    """The command exactly as the program registers it; the token never reaches its output."""
    done = subprocess.run(command, shell=True, cwd=root, env=dict(env), capture_output=True, text=True, timeout=120, check=False)
    assert TOKEN not in done.stdout + done.stderr
    return done
