"""The D1 endpoints of the loopback Cloudflare API (local/cloudflare_api/) as real wrangler
meets them: query, Time Travel bookmark and restore over a real SQLite database per D1
database id, for any account id, each database created empty on first use.

Real wrangler (`d1 migrations apply --remote`, pointed here by CLOUDFLARE_API_BASE_URL)
runs against it unchanged: it creates and reads `d1_migrations` and sends each file
through the query endpoint. Every request is recorded, the bearer token checked.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping
from unittest import mock

from d1.migration_step import MigrationStep
from d1.migrations import MigrationRefused
from local.cloudflare_api import BOOKMARK, Account, ApiError, CloudflareApi, Request

__all__ = ["BOOKMARK", "TOKEN", "D1Api", "Request", "StepRun", "run_step"]

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


@dataclass(frozen=True)
class StepRun:
    """What one run of the migration step gave: its outputs, or the refusal the engine shows."""

    outputs: dict[str, Any] | None
    error: str | None

    @property
    def restore_point(self) -> Any:
        assert self.outputs is not None, self.error
        return self.outputs["restorePoint"]


def run_step(api: D1Api, inputs: Mapping[str, Any], root: Path, previous: Mapping[str, Any] | None = None) -> StepRun:
    """The migration step as the engine's dynamic provider runs it (d1/migration_step.py): a
    create, or an update from `previous` outputs, with the job's environment pointed at `api`."""
    step = MigrationStep(root)
    environment = {"CLOUDFLARE_API_TOKEN": TOKEN, "CLOUDFLARE_API_BASE_URL": api.base_url}
    with mock.patch.dict(os.environ, environment):
        try:
            if previous is None:
                outputs = step.create(dict(inputs)).outs
            else:
                outputs = step.update(f"{previous['databaseId']}-migrations", dict(previous), dict(inputs)).outs
        except MigrationRefused as err:
            assert TOKEN not in str(err)
            return StepRun(None, str(err))
    assert TOKEN not in json.dumps(outputs)
    return StepRun(outputs, None)
