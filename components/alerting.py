"""Account-level alert routing: webhook destinations and notification policies."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import pulumi
import pulumi_cloudflare as cloudflare


@dataclass(frozen=True)
class WebhookArgs:
    key: str  # the stack's destination name: names the child resource
    name: str
    url: pulumi.Output[str]
    secret: pulumi.Output[str]


@dataclass(frozen=True)
class PolicyArgs:
    key: str
    name: str
    alert_type: str
    description: str
    alert_interval: str | None
    emails: Sequence[str]
    webhooks: Sequence[str]  # keys of WebhookArgs
    pagerduty: Sequence[str]  # Cloudflare's PagerDuty destination ids


@dataclass(frozen=True)
class AlertingArgs:
    account_id: str
    webhooks: Sequence[WebhookArgs]
    policies: Sequence[PolicyArgs]


class Alerting(pulumi.ComponentResource):
    """Routes the account's Cloudflare alerts to this stack's people and systems."""

    webhook_ids: dict[str, pulumi.Output[str]]
    policy_ids: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: AlertingArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__("blaze:alerting:Alerting", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.webhooks = {
            hook.key: cloudflare.NotificationPolicyWebhooks(
                f"{name}-webhook-{hook.key}",
                account_id=args.account_id,
                name=hook.name,
                url=hook.url,
                secret=hook.secret,
                opts=child,
            )
            for hook in args.webhooks
        }
        self.policies = {
            policy.key: cloudflare.NotificationPolicy(
                f"{name}-policy-{policy.key}",
                account_id=args.account_id,
                name=policy.name,
                alert_type=policy.alert_type,
                description=policy.description,
                enabled=True,
                alert_interval=policy.alert_interval,
                # Declared empty, not left out: the API answers an unset `filters` as {}, which
                # the provider then plans away on every preview (part of upstream #7342).
                filters=cloudflare.NotificationPolicyFiltersArgs(),
                mechanisms=cloudflare.NotificationPolicyMechanismsArgs(
                    emails=[cloudflare.NotificationPolicyMechanismsEmailArgs(id=addr) for addr in policy.emails] or None,
                    webhooks=[
                        cloudflare.NotificationPolicyMechanismsWebhookArgs(id=self.webhooks[key].id)
                        for key in policy.webhooks
                    ]
                    or None,
                    pagerduties=[
                        cloudflare.NotificationPolicyMechanismsPagerdutyArgs(id=pd) for pd in policy.pagerduty
                    ]
                    or None,
                ),
                opts=child,
            )
            for policy in args.policies
        }
        self.webhook_ids = {key: hook.id for key, hook in self.webhooks.items()}
        self.policy_ids = {key: policy.id for key, policy in self.policies.items()}
        self.register_outputs({"webhook_ids": self.webhook_ids, "policy_ids": self.policy_ids})
