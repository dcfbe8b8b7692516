"""Every rule of the pack, listed by hand: a rule module that is not here does not run.

Ids are stable: a removed rule's id is never given to another rule (RETIRED_IDS).
"""

from __future__ import annotations

from policies.framework import Rule
from policies.rules import (
    account_limits,
    binding_isolation,
    bundle_digest,
    compatibility_date,
    cron_alerting,
    cron_schedules,
    data_protection,
    migration_data_loss,
    naming,
    observability,
    plaintext_secrets,
    r2_cors,
    unused_data,
)

RULES: tuple[Rule, ...] = (
    naming.RULE,
    binding_isolation.RULE,
    r2_cors.RULE,
    plaintext_secrets.RULE,
    cron_schedules.RULE,
    compatibility_date.RULE,
    data_protection.RULE,
    observability.RULE,
    cron_alerting.RULE,
    bundle_digest.RULE,
    account_limits.RULE,
    unused_data.RULE,
    migration_data_loss.RULE,
)

RETIRED_IDS: frozenset[str] = frozenset()

RULE_IDS = frozenset(rule.info.id for rule in RULES)
