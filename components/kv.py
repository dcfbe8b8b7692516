"""A Workers KV namespace."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_cloudflare as cloudflare

from components.data import data_options


@dataclass(frozen=True)
class NamespaceArgs:
    account_id: str
    title: str
    protect: bool


class Namespace(pulumi.ComponentResource):
    """One KV namespace. `id` is what a Worker's kv_namespace binding needs."""

    id: pulumi.Output[str]
    title: pulumi.Output[str]

    def __init__(self, name: str, args: NamespaceArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__("blaze:kv:Namespace", name, None, opts)
        self.namespace = cloudflare.WorkersKvNamespace(
            f"{name}-namespace",
            account_id=args.account_id,
            title=args.title,
            opts=data_options(self, args.protect),
        )
        self.id = self.namespace.id
        self.title = self.namespace.title
        self.register_outputs({"id": self.id, "title": self.title})
