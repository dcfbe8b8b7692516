"""What exists: the fleet catalog plus one stack's settings, checked together.

`load_stack()` is the edge of the program: everything after it trusts its result, and
everything wrong with the inputs stops here, before any resource is registered.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import pulumi

from stacks.catalog import MAX_CRONS_PER_ACCOUNT, Catalog, Worker, load_catalog
from stacks.errors import InputError
from stacks.settings import NAMESPACE, Settings, all_config_keys, config_keys, read_secret, read_settings, setting_keys
from stacks.validation import ResourceName, Strict

PROJECT_ROOT = Path(__file__).resolve().parent.parent

__all__ = ["PROJECT_ROOT", "InputError", "Stack", "load_stack", "secret_users"]


@dataclass(frozen=True)
class Stack:
    """One stack's view of the fleet: the catalog, its settings and its secrets."""

    name: str
    file: str
    catalog: Catalog
    settings: Settings
    secrets: Mapping[str, pulumi.Output[str]]

    def crons(self, worker: Worker) -> list[str]:
        """The schedules this stack enables for `worker` (its catalog crons, or none)."""
        return [] if worker.name in self.settings.disabled_crons else list(worker.crons)


class _PhysicalName(Strict):
    name: ResourceName


def _check_against_catalog(settings: Settings, catalog: Catalog, file: str) -> None:
    for key, host in settings.hosts.items():
        entry = f"{NAMESPACE}:hosts"
        zone = settings.zones.get(host.zone)
        if zone is None:
            raise InputError(file, entry, f"{key}.zone", f"no zone {host.zone!r} in {NAMESPACE}:zones")
        if host.hostname != zone.name and not host.hostname.endswith("." + zone.name):
            raise InputError(file, entry, f"{key}.hostname", f"{host.hostname!r} is not in zone {zone.name!r}")
    for key in catalog.host_keys():
        if key not in settings.hosts:
            raise InputError(file, f"{NAMESPACE}:hosts", key, "missing: the catalog routes Workers to this host")

    names = {w.name: w for w in catalog.workers}
    for index, name in enumerate(settings.disabled_crons):
        if name not in names or not names[name].crons:
            raise InputError(file, f"{NAMESPACE}:disabledCrons", str(index), f"{name!r} is not a Worker with crons")

    databases = {d.name: d for d in catalog.databases}
    for name, file_name in settings.d1_baselines.items():
        if name not in databases:
            raise InputError(file, f"{NAMESPACE}:d1Baselines", name, "not a catalog database")
        if not (PROJECT_ROOT / databases[name].migrations_dir / file_name).is_file():
            raise InputError(file, f"{NAMESPACE}:d1Baselines", name, f"no migration {file_name} in {databases[name].migrations_dir}/")

    with_cors = {b.name for b in catalog.buckets if b.cors is not None}
    for bucket in settings.cors_origins:
        if bucket not in with_cors:
            raise InputError(file, f"{NAMESPACE}:corsOrigins", bucket, "not a catalog bucket with a cors section")
    for bucket in sorted(with_cors - set(settings.cors_origins)):
        raise InputError(file, f"{NAMESPACE}:corsOrigins", bucket, "missing: this bucket has CORS in the catalog")

    destinations = settings.alerts.destinations
    seen: set[str] = set()
    for policy in settings.alerts.policies:
        entry = f"{NAMESPACE}:alerts"
        if policy.name in seen:
            raise InputError(file, entry, f"policies[{policy.name}].name", "duplicate policy name")
        seen.add(policy.name)
        targets = (
            ("webhooks", policy.to.webhooks, destinations.webhooks),
            ("emails", policy.to.emails, destinations.emails),
            ("pagerduty", policy.to.pagerduty, destinations.pagerduty),
        )
        if not any(chosen for _, chosen, _ in targets):
            raise InputError(file, entry, f"policies[{policy.name}].to", "routes to no destination")
        for kind, chosen, known in targets:
            for name in chosen:
                if name not in known:
                    raise InputError(file, entry, f"policies[{policy.name}].to.{kind}", f"no destination {name!r}")

    enabled = sum(len(w.crons) for w in catalog.workers if w.name not in settings.disabled_crons)
    limit = MAX_CRONS_PER_ACCOUNT[settings.plan]
    if enabled > limit:
        raise InputError(
            file, f"{NAMESPACE}:plan", "-",
            f"{enabled} cron triggers enabled, over the {settings.plan} plan's {limit} per account",
        )

    physical = [w.name for w in catalog.workers] + [r.name for r in (*catalog.databases, *catalog.namespaces, *catalog.buckets)]
    for name in physical:
        try:
            _PhysicalName(name=settings.physical_name(name))
        except ValueError:
            raise InputError(
                file, f"{NAMESPACE}:namePattern", "-",
                f"turns {name!r} into {settings.physical_name(name)!r}, not a valid Cloudflare name",
            ) from None


def secret_users(catalog: Catalog, settings: Settings) -> dict[str, str]:
    """Every secret config key the fleet reads, with who reads it (for error messages)."""
    users: dict[str, str] = {}
    for worker in catalog.workers:
        for key in worker.secrets.values():
            users.setdefault(key, f"Worker {worker.name}")
    for name, hook in settings.alerts.destinations.webhooks.items():
        users.setdefault(hook.url_secret, f"webhook {name}")
        users.setdefault(hook.signing_secret, f"webhook {name}")
    return users


def _read_secrets(cfg: pulumi.Config, settings: Settings, catalog: Catalog, file: str) -> dict[str, pulumi.Output[str]]:
    users = secret_users(catalog, settings)
    unknown = config_keys() - setting_keys() - set(users)
    for key in sorted(unknown):
        raise InputError(file, f"{NAMESPACE}:{key}", "-", "unknown config key (check the spelling)")
    return {key: read_secret(cfg, key, file, users[key]) for key in sorted(users)}


# The Cloudflare API token has one way in: CLOUDFLARE_API_TOKEN, which the provider and
# wrangler both read. A token in the stack file would win over the variable, so a job
# given a read-only token (drift checks, pull-request previews) would silently run with
# the edit token stored there.
TOKEN_VARIABLE = "CLOUDFLARE_API_TOKEN"
PROVIDER_TOKEN_KEYS = ("cloudflare:apiToken", "cloudflare:apiKey", "cloudflare:apiUserServiceKey", "cloudflare:email")


def _refuse_provider_credentials(file: str) -> None:
    present = all_config_keys()
    for key in PROVIDER_TOKEN_KEYS:
        if key in present:
            raise InputError(
                file, key, "-",
                f"credentials are never stack config: export {TOKEN_VARIABLE} for the job instead "
                f"(remove it with: pulumi config rm {key})",
            )


def load_stack(root: Path) -> Stack:
    """Load the catalog and the current stack's config, or raise one InputError."""
    name = pulumi.get_stack()
    file = f"Pulumi.{name}.yaml"
    _refuse_provider_credentials(file)
    catalog = load_catalog(root)
    cfg = pulumi.Config(NAMESPACE)
    settings = read_settings(cfg, file)
    _check_against_catalog(settings, catalog, file)
    secrets = _read_secrets(cfg, settings, catalog, file)
    return Stack(name=name, file=file, catalog=catalog, settings=settings, secrets=secrets)
