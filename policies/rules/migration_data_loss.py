"""D1 migrations lose no data unless the migration file waives this rule with a reason.

The pack sees a migration as the step that applies it (d1/migration_step.py): its inputs
name the migration folder and every file's sha256. The pack runs from the repository, so
the rule reads that folder's files and judges them only if they are the files the plan
applies; any other set is a finding (a stale plan).
d1/migration_sql.py parses and judges the SQL; a file's own `-- waiver:` header
(its catalog-form Waiver) moves its findings to the waived-findings report.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

from pulumi_policy import ResourceValidationArgs, Severity

from d1.migration_set import MIGRATIONS_ROOT, MigrationError, load_migration_set
from d1.migration_sql import DataLoss, WaiverError, data_losses, file_waivers
from d1.queries import QueryError, code_uses, uses_name
from policies import resource_types as types
from policies.framework import NoConfig, ResourceRule, RuleInfo, RunContext, WaivedFinding, Waiver, fields, plain

RULE_ID = "blaze-d1-migration-data-loss"
# The repository the pack runs from; the tests point it at a copy.
PROJECT_ROOT = Path(__file__).resolve().parents[2]


def judge(root: Path, directory: str, planned: object) -> Iterator[tuple[str, Waiver | None]]:
    """Each finding of one migration folder, with the file's waiver when it has one."""
    try:
        migrations = load_migration_set(root, directory)
    except MigrationError as err:
        yield f"cannot read its migrations: {err}", None
        return
    if planned != migrations.files:
        here = migrations.files
        differ = sorted(n for n in set(here) | set(planned if isinstance(planned, dict) else {})
                        if not isinstance(planned, dict) or planned.get(n) != here.get(n))
        yield (
            f"applies other migration files than {directory} in the repository holds "
            f"({', '.join(differ) or 'unreadable list'}): make the plan from this checkout"
        ), None
        return
    waivers: dict[str, Waiver] = {}
    set_name = directory.rstrip("/").rsplit("/", 1)[-1]
    for migration in migrations.migrations:
        key = f"{set_name}/{migration.name}"
        try:
            for waiver in file_waivers(migration.sql):
                if waiver.rule == RULE_ID:
                    waivers[key] = Waiver(RULE_ID, "blaze:d1:Database", f"line {waiver.line}", waiver.reason, f"{MIGRATIONS_ROOT}/{key}")
        except WaiverError as err:
            yield f"migration {key}: {err}", None
    try:
        losses: list[DataLoss] = data_losses(migrations, lambda table, column: uses_name(code_uses(root), table, column))
    except QueryError as err:
        yield f"cannot tell whether a rename breaks a Worker: {err}", None
        return
    for loss in losses:
        yield f"migration {loss}", waivers.get(loss.file)


def check(args: ResourceValidationArgs, config: NoConfig, context: RunContext) -> Iterator[str]:
    directory = plain(args.props.get("directory"))
    if not isinstance(directory, str):
        return
    planned = {name: plain(sha) for name, sha in fields(args.props.get("migrations")).items()}
    for message, waiver in judge(PROJECT_ROOT, directory, planned):
        if waiver is None:
            yield message
        else:
            context.ledger.record(WaivedFinding(RULE_ID, args.urn, message, waiver))


RULE = ResourceRule(
    info=RuleInfo(
        id=RULE_ID,
        title="D1 migrations lose no data",
        description=(
            "No migration drops a table, a column or a unique index, copies a subset in a rebuild, deletes or "
            "updates every row, renames what a Worker still queries, or holds SQL the parser cannot read."
        ),
        severity=Severity.HIGH,
        remediation=(
            "Write an additive migration (new table or column, copy, switch the Workers, drop later); if the loss "
            "is intended, put `-- waiver: blaze-d1-migration-data-loss: <reason>` in the file's leading comments."
        ),
        docs="https://developers.cloudflare.com/d1/reference/migrations/",
        tags=("data", "durability", "migrations"),
    ),
    config=NoConfig,
    resource_types=(types.D1_MIGRATIONS,),
    check=check,
)
