"""An R2 bucket with its optional CORS policy and lifecycle rules."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import pulumi
import pulumi_cloudflare as cloudflare

from components.data import data_options
from stacks.catalog import Cors, LifecycleRule

_DAY = 86400


@dataclass(frozen=True)
class BucketCors:
    """The catalog's CORS rule with the stack's allowed origins."""

    rule: Cors
    origins: Sequence[str]


@dataclass(frozen=True)
class BucketArgs:
    account_id: str
    name: str
    protect: bool
    cors: BucketCors | None = None
    lifecycle: Sequence[LifecycleRule] = ()


def _lifecycle_rule(rule: LifecycleRule) -> cloudflare.R2BucketLifecycleRuleArgs:
    expire = abort = None
    if rule.expire_after_days is not None:
        expire = cloudflare.R2BucketLifecycleRuleDeleteObjectsTransitionArgs(
            condition=cloudflare.R2BucketLifecycleRuleDeleteObjectsTransitionConditionArgs(
                type="Age", max_age=rule.expire_after_days * _DAY
            )
        )
    if rule.abort_multipart_after_days is not None:
        abort = cloudflare.R2BucketLifecycleRuleAbortMultipartUploadsTransitionArgs(
            condition=cloudflare.R2BucketLifecycleRuleAbortMultipartUploadsTransitionConditionArgs(
                type="Age", max_age=rule.abort_multipart_after_days * _DAY
            )
        )
    return cloudflare.R2BucketLifecycleRuleArgs(
        id=rule.id,
        enabled=True,
        conditions=cloudflare.R2BucketLifecycleRuleConditionsArgs(prefix=rule.prefix),
        delete_objects_transition=expire,
        abort_multipart_uploads_transition=abort,
    )


class Bucket(pulumi.ComponentResource):
    """One R2 bucket; CORS and lifecycle are separate Cloudflare resources on it."""

    name: pulumi.Output[str]

    def __init__(self, name: str, args: BucketArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__("blaze:r2:Bucket", name, None, opts)
        self.bucket = cloudflare.R2Bucket(
            f"{name}-bucket",
            account_id=args.account_id,
            name=args.name,
            opts=data_options(self, args.protect),
        )
        self.name = self.bucket.name
        child = pulumi.ResourceOptions(parent=self)

        self.cors: cloudflare.R2BucketCors | None = None
        if args.cors is not None:
            rule = args.cors.rule
            self.cors = cloudflare.R2BucketCors(
                f"{name}-cors",
                account_id=args.account_id,
                bucket_name=self.bucket.name,
                rules=[
                    cloudflare.R2BucketCorsRuleArgs(
                        id="browser-access",
                        allowed=cloudflare.R2BucketCorsRuleAllowedArgs(
                            methods=list(rule.methods),
                            origins=list(args.cors.origins),
                            headers=list(rule.headers) or None,
                        ),
                        expose_headers=list(rule.expose_headers) or None,
                        max_age_seconds=rule.max_age_seconds,
                    )
                ],
                opts=child,
            )

        self.lifecycle: cloudflare.R2BucketLifecycle | None = None
        if args.lifecycle:
            self.lifecycle = cloudflare.R2BucketLifecycle(
                f"{name}-lifecycle",
                account_id=args.account_id,
                bucket_name=self.bucket.name,
                rules=[_lifecycle_rule(rule) for rule in args.lifecycle],
                opts=child,
            )
        self.register_outputs({"name": self.name})
