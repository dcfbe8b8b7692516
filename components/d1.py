"""A D1 database."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_cloudflare as cloudflare

from components.data import data_options


@dataclass(frozen=True)
class DatabaseArgs:
    account_id: str
    name: str
    protect: bool


class Database(pulumi.ComponentResource):
    """One D1 database. `id` is its UUID, what a Worker's d1 binding needs."""

    id: pulumi.Output[str]
    name: pulumi.Output[str]

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
        self.register_outputs({"id": self.id, "name": self.name})
