"""Per-stack settings: the `blaze-infra:*` keys of `Pulumi.<stack>.yaml`, as one typed model.

Staging and prod differ only here. Values arrive through `pulumi.Config` (structured
values as JSON, the way the engine passes them); secrets stay `pulumi.Output`s and are
never part of the model.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

import pulumi
from pulumi.runtime import config as runtime_config
from pydantic import AfterValidator, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

from stacks.catalog import HostKey
from stacks.errors import InputError
from stacks.validation import ConfigKey, Strict

NAMESPACE = "blaze-infra"

_HEX32 = r"^[0-9a-f]{32}$"
_DOMAIN = r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$"


def _origin(value: str) -> str:
    scheme, sep, rest = value.partition("://")
    if not sep or scheme not in ("https", "http") or not rest or "/" in rest:
        raise ValueError(f"{value!r} is not an origin (scheme://host[:port], no path)")
    return value


def _name_pattern(value: str) -> str:
    if value.count("{name}") != 1 or value.replace("{name}", "").count("{") or "}" in value.replace("{name}", ""):
        raise ValueError(f"{value!r} must contain '{{name}}' exactly once and no other braces")
    return value


def _stack_name(value: str) -> str:
    if "/" in value:
        raise ValueError(
            f"{value!r} names an organisation or project: give the stack's name only (e.g. 'staging'); "
            "the reference takes the running stack's organisation and project, so it works on Pulumi Cloud "
            "and on self-managed backends (whose only organisation is 'organization') alike"
        )
    return value


Origin = Annotated[str, AfterValidator(_origin)]
Hex32 = Annotated[str, Field(pattern=_HEX32)]
Domain = Annotated[str, Field(pattern=_DOMAIN, max_length=253)]
Email = Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$")]
DestinationName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]*$")]


class Camel(Strict):
    model_config = ConfigDict(alias_generator=to_camel, validate_by_name=False, validate_by_alias=True)


class Zone(Camel):
    id: Hex32
    name: Domain


class Host(Camel):
    zone: HostKey
    hostname: Domain


class Webhook(Camel):
    """A Cloudflare notification webhook; both values are Pulumi secrets named here."""

    url_secret: ConfigKey
    signing_secret: ConfigKey


class Destinations(Camel):
    webhooks: dict[DestinationName, Webhook] = {}
    emails: dict[DestinationName, Email] = {}
    pagerduty: dict[DestinationName, Annotated[str, Field(min_length=1)]] = {}


class AlertRoute(Camel):
    webhooks: list[DestinationName] = []
    emails: list[DestinationName] = []
    pagerduty: list[DestinationName] = []


class AlertPolicy(Camel):
    name: DestinationName
    alert_type: Annotated[str, Field(pattern=r"^[a-z0-9_]+$")]
    description: Annotated[str, Field(min_length=1)]
    to: AlertRoute
    alert_interval: Annotated[str, Field(pattern=r"^[0-9]+[mhd]$")] | None = None


class Alerts(Camel):
    destinations: Destinations
    policies: list[AlertPolicy]


class PromotionOverride(Camel):
    """An emergency bypass of the digest check for the named Workers, with the reason why."""

    reason: Annotated[str, Field(min_length=10)]
    workers: Annotated[list[str], Field(min_length=1)]


class Promotion(Camel):
    """This stack deploys only the Worker bundles that stack `stagingStack` of this project,
    in this stack's organisation, already runs."""

    # The pattern lets a "/" through so that _stack_name can say why a qualified name is wrong.
    staging_stack: Annotated[str, AfterValidator(_stack_name), Field(pattern=r"^[A-Za-z0-9._/-]+$")]
    override: PromotionOverride | None = None


class Settings(Camel):
    """Everything a stack decides. Field names are the config keys (camelCase)."""

    account_id: Hex32
    plan: Literal["free", "paid"]
    name_pattern: Annotated[str, AfterValidator(_name_pattern)]
    zones: dict[HostKey, Zone]
    hosts: dict[HostKey, Host]
    cors_origins: dict[str, Annotated[list[Origin], Field(min_length=1)]]
    disabled_crons: list[str] = []
    # Adopted databases: catalog name -> the last migration file already in effect in the
    # live database (make adopt proposes it); its first deploy applies only the later files.
    d1_baselines: dict[str, Annotated[str, Field(pattern=r"^[0-9]{4}_[a-z0-9_]+[.]sql$")]] = {}
    protect_data: bool
    log_sampling_rate: Annotated[float, Field(gt=0, le=1)]
    alerts: Alerts
    promotion: Promotion | None = None

    def physical_name(self, name: str) -> str:
        """The name a catalog resource has in this stack's account."""
        return self.name_pattern.replace("{name}", name)


def all_config_keys() -> set[str]:
    """Every full config key the engine passed (mock config, or PULUMI_CONFIG in a real run)."""
    # pulumi.Config offers no listing; the runtime's two config sources are public module state.
    return set(runtime_config.CONFIG.get()) | set(runtime_config.get_config_env())


def config_keys() -> set[str]:
    """Every `blaze-infra:` key the engine passed, without the namespace."""
    prefix = f"{NAMESPACE}:"
    return {k[len(prefix):] for k in all_config_keys() if k.startswith(prefix)}


def read_settings(cfg: pulumi.Config, file: str) -> Settings:
    """Read and validate the stack's `blaze-infra:` settings (secrets are read separately)."""
    present = config_keys()
    raw: dict[str, Any] = {}
    for name, info in Settings.model_fields.items():
        key = info.alias or name
        if key in present:
            raw[key] = cfg.get(key) if info.annotation is str else _json_or_text(cfg.get(key))
    try:
        return Settings.model_validate(raw)
    except ValidationError as err:
        first = err.errors(include_url=False)[0]
        loc = [str(part) for part in first["loc"] if part != "[key]"]
        problem = "missing (required)" if first["type"] == "missing" else first["msg"].removeprefix("Value error, ")
        if first["type"] == "extra_forbidden":
            problem = "unknown key (check the spelling)"
        raise InputError(file, f"{NAMESPACE}:{loc[0]}", ".".join(loc[1:]) or "-", problem) from None


def setting_keys() -> set[str]:
    return {info.alias or name for name, info in Settings.model_fields.items()}


def _json_or_text(text: str | None) -> Any:
    # Structured config reaches the program as JSON text; a bare string that is not JSON
    # (an unquoted word in the YAML) is passed through for the model to judge.
    if text is None:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def read_secret(cfg: pulumi.Config, key: str, file: str, used_by: str) -> pulumi.Output[str]:
    """A secret the fleet needs: present, and stored encrypted (never a plain config value)."""
    full = f"{NAMESPACE}:{key}"
    if cfg.get(key) is None:
        raise InputError(file, full, "-", f"missing secret (used by {used_by}); set it with: pulumi config set --secret {full}")
    if not runtime_config.is_config_secret(full):
        raise InputError(file, full, "-", f"is stored in plain text; set it with: pulumi config set --secret {full}")
    return cfg.require_secret(key)
