"""The pack's policies, its waivers from the catalog, and the report of waived findings.

`policies/__main__.py` hands `pack_policies()` to `PolicyPack`; the offline runner and the
tests build the same list, so what they check is what `pulumi preview` runs.
"""

from __future__ import annotations

from pathlib import Path
from pulumi_policy import EnforcementLevel, Policy, ReportViolation, Severity, StackValidationArgs, StackValidationPolicy

from policies.framework import RunContext, WaivedLedger, Waiver, Waivers, resource_label
from policies.registry import RULE_IDS, RULES
from policies.resource_types import CATALOG_COMPONENTS
from stacks.catalog import CATALOG_DIR, Catalog, load_catalog
from stacks.errors import InputError

PACK_NAME = "blaze-infra-policies"
# Every rule is advisory unless a stack's policy config raises it (policies/<stack>.json).
PACK_ENFORCEMENT = EnforcementLevel.ADVISORY
WAIVED_FINDINGS = "blaze-waived-findings"

# The catalog file that holds each kind of entry (stacks/catalog.py reads the same files).
_CATALOG_FILES = {
    "workers": "workers.yaml",
    "databases": "databases.yaml",
    "namespaces": "kv.yaml",
    "buckets": "buckets.yaml",
}


# Rules whose waivers live in the file they excuse, never in the catalog.
MIGRATION_WAIVED_IN_FILE = frozenset({"blaze-d1-migration-data-loss"})


def catalog_waivers(catalog: Catalog) -> Waivers:
    """Every waiver of the catalog; one naming a rule the pack does not have is an error."""
    waivers = []
    for kind, component in CATALOG_COMPONENTS.items():
        file = f"{CATALOG_DIR}/{_CATALOG_FILES[kind]}"
        for entry in getattr(catalog, kind):
            for index, waiver in enumerate(entry.waivers):
                if waiver.rule not in RULE_IDS:
                    raise InputError(
                        file, f"{kind}[{entry.name}]", f"waivers.{index}.rule",
                        f"no policy rule {waiver.rule!r} (policies/RULES.md lists the rule ids)",
                    )
                if waiver.rule in MIGRATION_WAIVED_IN_FILE:
                    # One database's waiver would excuse every migration of its set, present
                    # and future; a migration waives the rule for itself, in its own header.
                    raise InputError(
                        file, f"{kind}[{entry.name}]", f"waivers.{index}.rule",
                        f"{waiver.rule} is waived in the migration itself (a '-- waiver: {waiver.rule}: <reason>' "
                        "header line), not for a whole database",
                    )
                waivers.append(Waiver(waiver.rule, component, entry.name, waiver.reason, file))
    return Waivers(waivers)


def load_waivers(root: Path) -> Waivers:
    return catalog_waivers(load_catalog(root))


class WaivedFindingsReport(StackValidationPolicy):
    """Prints every waived finding of the run, with its waiver's reason, as an advisory.

    pulumi-policy has no level below advisory and a policy cannot report on another's
    behalf, so the rules hand waived findings to the ledger and this policy, registered
    last and analysed after every resource, reports them. Its level must stay advisory
    (policies/<stack>.json sets it explicitly, since "all" would raise it too).
    """

    def __init__(self, ledger: WaivedLedger) -> None:
        super().__init__(
            name=WAIVED_FINDINGS,
            description="Findings a catalog waiver exempts: printed with the waiver's reason, never blocking.",
            enforcement_level=EnforcementLevel.ADVISORY,
            display_name="Waived findings",
            severity=Severity.LOW,
            remediation_steps="None needed; remove the waiver from stacks/catalog/ once the finding is fixed.",
            url="https://www.pulumi.com/docs/using-pulumi/crossguard/configuration/",
            tags=["waivers"],
        )
        self._ledger = ledger

    def validate(self, args: StackValidationArgs, report_violation: ReportViolation) -> None:
        for finding in self._ledger.findings():
            report_violation(waived_message(finding.rule, finding.urn, finding.message, finding.waiver), finding.urn)


def waived_message(rule: str, urn: str, message: str, waiver: Waiver) -> str:
    return (
        f"[waived] {rule} on {resource_label(urn)}: {message} "
        f"(waiver on {waiver.file} {waiver.entry}: {waiver.reason})"
    )


def pack_policies(context: RunContext) -> list[Policy]:
    """Every rule as a policy, then the waived-findings report (it must run after them)."""
    return [rule.policy(context) for rule in RULES] + [WaivedFindingsReport(context.ledger)]
