"""A D1 database and the step that applies its migrations."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_cloudflare as cloudflare
from pulumi_command import local

from components.data import data_options
from workers.migrations import ENV_BASELINE, ENV_DIR, ENV_ID, ENV_NAME, MigrationSet, parse_restore_point

# Relative to the project root (the program's working directory), so the command is the
# same string on every machine; `make setup` creates the virtualenv with Node 22 beside it.
APPLY_MIGRATIONS = ".venv/bin/python -m workers.migrations apply --remote"


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
            opts=data_options(self, args.protect),
        )
        self.id = self.database.uuid
        self.name = self.database.name
        self.migrations_digest = args.migrations.digest

        # No token here: the command provider runs wrangler with the deploying process's
        # environment, so wrangler reads CLOUDFLARE_API_TOKEN exactly as the Cloudflare
        # provider does, and the token never reaches the command's inputs or the state.
        environment: dict[str, pulumi.Input[str]] = {
            ENV_NAME: self.database.name,
            ENV_ID: self.database.uuid,
            ENV_DIR: args.migrations.directory,
            "CLOUDFLARE_ACCOUNT_ID": args.account_id,
        }
        # Only where one is set, so a database that never needed a baseline keeps its inputs.
        # `apply --remote` uses it only while the database's d1_migrations records nothing.
        if args.baseline is not None:
            environment[ENV_BASELINE] = args.baseline
        # wrangler applies only the files its d1_migrations table lacks, so running the
        # command again is harmless; the trigger makes Pulumi run it exactly when this
        # database's migration files change (or the database itself is replaced).
        self.migrations = local.Command(
            f"{name}-migrations",
            create=APPLY_MIGRATIONS,
            environment=environment,
            triggers=[self.migrations_digest],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.database]),
        )
        # The bookmark taken before the last migration ran (None when nothing was pending):
        # where `make restore` and the runbook's rollback find it.
        self.restore_point = self.migrations.stdout.apply(parse_restore_point)
        self.register_outputs({"id": self.id, "name": self.name, "migrations_digest": self.migrations_digest})
