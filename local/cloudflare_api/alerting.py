"""Notifications: alert policies and webhook destinations, the calls of
terraform-provider-cloudflare v5.24.0's notification_policy and
notification_policy_webhooks resources (internal/services/<type>/resource.go, through
cloudflare-go v7.9.0's alerting package). A create or update answers only the id, as the
API does (cloudflare-go's PolicyNewResponse, DestinationWebhookNewResponse); a webhook's
secret is kept and never answered (the reference: secrets are never returned). The 404 of
an unknown id (17001) was not seen in an answer and is chosen in Notifications' range."""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass, field
from typing import Any

from local.cloudflare_api.core import ACCOUNT, CREATED, ApiBase, ApiError, Call, Handler, error, invalid, no_route, whole_list_info
from local.cloudflare_api.seed import UUID, Account

MECHANISMS = ("email", "pagerduty", "webhooks")
# Destination types the API tells from a webhook's host; any other host is generic.
_WEBHOOK_TYPES = {"hooks.slack.com": "slack", "chat.googleapis.com": "gchat", "discord.com": "discord"}


@dataclass
class _Policy:
    id: str
    name: str
    alert_type: str
    enabled: bool = True
    mechanisms: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    description: str = ""
    filters: dict[str, list[str]] = field(default_factory=dict)
    alert_interval: str | None = None


@dataclass
class _Webhook:
    id: str
    name: str
    url: str
    type: str
    secret: str | None = None


class AlertingApi(ApiBase):
    def _seed(self, account: Account) -> None:
        super()._seed(account)
        self.policies = [_Policy(p.id, p.name, p.alert_type, p.enabled, p.mechanisms) for p in account.policies]
        self.webhooks = [_Webhook(w.id, w.name, w.url, w.type) for w in account.webhooks]

    def _route_table(self) -> list[tuple[str, str, Handler]]:
        policy = ACCOUNT + "/alerting/v3/policies/(?P<policy>[^/]+)"
        webhook = ACCOUNT + "/alerting/v3/destinations/webhooks/(?P<webhook>[^/]+)"
        return super()._route_table() + [
            ("GET", ACCOUNT + "/alerting/v3/policies", self._policies),
            ("POST", ACCOUNT + "/alerting/v3/policies", self._create_policy),
            ("GET", policy, self._get_policy),
            ("PUT", policy, self._update_policy),
            ("DELETE", policy, self._delete_policy),
            ("GET", ACCOUNT + "/alerting/v3/destinations/webhooks", self._webhooks),
            ("POST", ACCOUNT + "/alerting/v3/destinations/webhooks", self._create_webhook),
            ("GET", webhook, self._get_webhook),
            ("PUT", webhook, self._update_webhook),
            ("DELETE", webhook, self._delete_webhook),
        ]

    def _found(self, items: list[Any], item_id: str, call: Call) -> Any:
        if not UUID.fullmatch(item_id):
            raise no_route(call.path)
        found = next((item for item in items if item.id == item_id), None)
        if found is None:
            raise ApiError(404, error(17001, "Not found"))
        return found

    def _policies(self, params: dict[str, str], call: Call) -> tuple[Any, dict[str, Any]]:
        policies = [_policy(p) for p in self.policies]
        return policies, whole_list_info(policies)

    def _get_policy(self, params: dict[str, str], call: Call) -> tuple[Any, None]:
        return _policy(self._found(self.policies, params["policy"], call)), None

    def _create_policy(self, params: dict[str, str], call: Call) -> tuple[Any, None]:
        fields = _policy_fields(call.json_object())
        policy = _Policy(self.ids.uuid("policy", fields["name"]), **fields)
        self.policies.append(policy)
        return {"id": policy.id}, None

    def _update_policy(self, params: dict[str, str], call: Call) -> tuple[Any, None]:
        # A PUT replaces the whole policy: what it leaves out goes back to the default.
        policy = self._found(self.policies, params["policy"], call)
        self.policies[self.policies.index(policy)] = _Policy(policy.id, **_policy_fields(call.json_object()))
        return {"id": policy.id}, None

    def _delete_policy(self, params: dict[str, str], call: Call) -> tuple[Any, None]:
        self.policies.remove(self._found(self.policies, params["policy"], call))
        return None, None

    def _webhooks(self, params: dict[str, str], call: Call) -> tuple[Any, dict[str, Any]]:
        webhooks = [_webhook(w) for w in self.webhooks]
        return webhooks, whole_list_info(webhooks)

    def _get_webhook(self, params: dict[str, str], call: Call) -> tuple[Any, None]:
        return _webhook(self._found(self.webhooks, params["webhook"], call)), None

    def _create_webhook(self, params: dict[str, str], call: Call) -> tuple[Any, None]:
        name, url, secret = _webhook_body(call)
        webhook = _Webhook(self.ids.uuid("webhook", name), name, url, _webhook_type(url), secret)
        self.webhooks.append(webhook)
        return {"id": webhook.id}, None

    def _update_webhook(self, params: dict[str, str], call: Call) -> tuple[Any, None]:
        webhook = self._found(self.webhooks, params["webhook"], call)
        webhook.name, webhook.url, webhook.secret = _webhook_body(call)
        webhook.type = _webhook_type(webhook.url)
        return {"id": webhook.id}, None

    def _delete_webhook(self, params: dict[str, str], call: Call) -> tuple[Any, None]:
        self.webhooks.remove(self._found(self.webhooks, params["webhook"], call))
        return None, None


def _policy_fields(body: dict[str, Any]) -> dict[str, Any]:
    for required, kind in (("name", str), ("alert_type", str), ("mechanisms", dict)):
        if not body.get(required) or not isinstance(body[required], kind):
            raise invalid(f"{required} is required")
    # An update sends null for a kind of mechanism the policy had and no longer has.
    mechanisms = {kind: targets for kind, targets in body["mechanisms"].items() if targets is not None}
    if set(mechanisms) - set(MECHANISMS):
        raise invalid(f"mechanisms are among {', '.join(MECHANISMS)}")
    for kind, targets in mechanisms.items():
        if not isinstance(targets, list) or not all(isinstance(t, dict) and isinstance(t.get("id"), str) for t in targets):
            raise invalid(f"mechanisms.{kind} must be a list of {{\"id\": ...}}")
    return {"name": body["name"], "alert_type": body["alert_type"], "mechanisms": mechanisms,
            "enabled": body["enabled"] if isinstance(body.get("enabled"), bool) else True,
            "description": body.get("description") or "", "filters": body.get("filters") or {},
            "alert_interval": body.get("alert_interval")}


def _policy(policy: _Policy) -> dict[str, Any]:
    answer = {"id": policy.id, "name": policy.name, "alert_type": policy.alert_type, "enabled": policy.enabled,
              "mechanisms": policy.mechanisms, "description": policy.description, "filters": policy.filters,
              "created": CREATED, "modified": CREATED}
    if policy.alert_interval is not None:
        answer["alert_interval"] = policy.alert_interval
    return answer


def _webhook_body(call: Call) -> tuple[str, str, str | None]:
    body = call.json_object()
    name, url, secret = body.get("name"), body.get("url"), body.get("secret")
    if not isinstance(name, str) or not name or not isinstance(url, str):
        raise invalid("name and url are required")
    return name, url, secret if isinstance(secret, str) else None


def _webhook_type(url: str) -> str:
    return _WEBHOOK_TYPES.get(urllib.parse.urlsplit(url).hostname or "", "generic")


def _webhook(webhook: _Webhook) -> dict[str, Any]:
    return {"id": webhook.id, "name": webhook.name, "url": webhook.url, "type": webhook.type, "created_at": CREATED,
            "last_success": None, "last_failure": None}
