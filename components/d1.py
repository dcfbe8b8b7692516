"""A D1 database and the step that applies its migrations."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_cloudflare as cloudflare

from components.data import data_options
from d1.migration_set import MigrationSet
from d1.migration_step import D1Migrations, step_inputs


@dataclass(frozen=True)
class DatabaseArgs:
    account_id: str
    name: str
    protect: bool
    migrations: MigrationSet
    # An adopted database's last migration already in effect (Pulumi.<stack>.yaml d1Baselines).
    baseline: Optional[str] = None


class Database(pulumi.ComponentResource):
    """One D1 database. `id` is its UUID, what a Worker's d1 binding needs."""

    id: pulumi.Output[str]
    name: pulumi.Output[str]
    migrations_digest: str

    def __init__(self, name: str, args: DatabaseArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__("blaze:d1:Database", name, None, opts)
        self.database = cloudflare.D1Database(
            f"{name}-database",
            account_id=args.account_id,
            name=args.name,
            # Declared, not left to the API's default: the Workers do not use D1's Sessions
            # API, and an unset value is read back as {mode: disabled}, a diff on every refresh.
            read_replication=cloudflare.D1DatabaseReadReplicationArgs(mode="disabled"),
            opts=data_options(self, args.protect),
        )
        self.id = self.database.uuid
        self.name = self.database.name
        self.migrations_digest = args.migrations.digest

        # A dynamic resource (d1/migration_step.py): the engine runs it in a process of the
        # Python SDK with the job's environment, so the token reaches the D1 API and wrangler
        # as it reaches the Cloudflare provider, never through inputs or state. It runs again
        # exactly when this database's migration files change or the database is replaced,
        # and applies only the files its d1_migrations table lacks.
        self.migrations = D1Migrations(
            f"{name}-migrations",
            step_inputs(self.database.name, self.database.uuid, args.account_id, args.migrations, args.baseline),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.database]),
        )
        # The bookmark taken before the last migration that applied anything (None until one
        # did): where `make restore` and the runbook's rollback find it.
        self.restore_point = self.migrations.restorePoint
        self.register_outputs({"id": self.id, "name": self.name, "migrations_digest": self.migrations_digest})
