"""Resource options shared by the components that hold data (D1, KV, R2)."""

from __future__ import annotations

import pulumi


def data_options(parent: pulumi.Resource, protect: bool) -> pulumi.ResourceOptions:
    # Data outlives code: in prod a `pulumi destroy` or a catalog typo must not delete a
    # database, namespace or bucket (protect), and removing one from the catalog must only
    # release it from the state, never delete it in the account (retain_on_delete).
    return pulumi.ResourceOptions(parent=parent, protect=protect, retain_on_delete=protect)
