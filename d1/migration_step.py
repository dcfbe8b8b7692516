"""The D1 migration step as a Pulumi dynamic resource: one per database, deployed by the engine.

Pulumi runs this provider in its own process (the Python SDK's `python -m pulumi.dynamic`,
which the engine starts as the bundled plugin `pulumi-python`), with the deploying job's
environment, so the Cloudflare token reaches the D1 API and wrangler exactly as it reaches
the Cloudflare provider: from `CLOUDFLARE_API_TOKEN`, never through the resource's inputs or
the state. The provider is pickled into the state by reference (module and class name), so
this module's path is part of every stack that deployed it: move it only with an alias plan.

Inputs (what a preview compares):
    database     the database's name in the account
    databaseId   its UUID (the D1Database's `uuid`)
    accountId    the account that holds it
    directory    its migration set, relative to the project root
    migrations   file name -> sha256 of every file of the set, so a preview names the files
                 an update will apply (those added since the last deploy)
    baseline     (adopted databases only) the last file already in effect live

Outputs: the inputs, plus `restorePoint` (the Time Travel bookmark taken before the last
run that applied anything; kept from the previous run when nothing was pending) and
`applied` (the files that run applied).
"""

from __future__ import annotations

import os
import pickle
import sys
from pathlib import Path
from typing import Any, Mapping

import pulumi
from pulumi.dynamic import CheckFailure, CheckResult, CreateResult, DiffResult, ReadResult, Resource, ResourceProvider, UpdateResult

from d1.migration_set import MigrationSet, load_migration_set
from d1.migrations import MigrationRefused, migrate_remote
from d1.schema import TRACKING_TABLE
from d1.timetravel import ApiError, D1Api

# The inputs whose change makes the step run again; anything else is bookkeeping.
RUN_INPUTS = ("database", "databaseId", "accountId", "directory", "migrations", "baseline")
OUTPUTS = ("restorePoint", "applied")


def step_inputs(database: Any, database_id: Any, account_id: str, migrations: MigrationSet, baseline: str | None) -> dict[str, Any]:
    """The step's inputs for one database; `baseline` only where one is set, so a database that
    never needed one keeps its inputs."""
    inputs = {
        "database": database,
        "databaseId": database_id,
        "accountId": account_id,
        "directory": migrations.directory,
        "migrations": migrations.files,
    }
    if baseline is not None:
        inputs["baseline"] = baseline
    return inputs


class MigrationStep(ResourceProvider):
    """Applies a database's pending migrations after a restore point; never undoes one."""

    def __init__(self, root: Path | None = None) -> None:
        super().__init__()
        # None: the engine's working directory, which is the project's (the folder of Pulumi.yaml).
        self.root = root

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures = [CheckFailure(key, f"{key} is required") for key in RUN_INPUTS[:5] if key not in news]
        files = news.get("migrations")
        if "migrations" in news and (not isinstance(files, dict) or not files):
            failures.append(CheckFailure("migrations", "must map each migration file to its sha256"))
        return CheckResult(news, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = [key for key in RUN_INPUTS if olds.get(key) != news.get(key)]
        return DiffResult(changes=bool(changed), replaces=[], stables=[], delete_before_replace=False)

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(f"{props['databaseId']}-migrations", self._run(props, previous=None))

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(self._run(news, previous=olds.get("restorePoint")))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        """What the database records, so a refresh shows files the state has as applied that its
        d1_migrations table lacks (a Time Travel restore undid them), and the next up applies them.
        A token that cannot query D1 leaves the state as it was, saying so."""
        try:
            api = D1Api.from_environment(str(props["accountId"]), os.environ)
            applied = api.applied_migrations(str(props["databaseId"]), TRACKING_TABLE) or set()
        except ApiError as err:
            print(f"{props.get('database')}: cannot read its {TRACKING_TABLE} table ({err}); its step is kept as the state has it", file=sys.stderr)
            return ReadResult(id_, props)
        recorded = {name: sha for name, sha in (props.get("migrations") or {}).items() if name in applied}
        inputs = {key: props[key] for key in RUN_INPUTS if key in props} | {"migrations": recorded}
        return ReadResult(id_, {**props, "migrations": recorded}, inputs)

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        """Nothing to undo: a migration is kept by its database (deleting that drops the data)."""

    def _run(self, props: Mapping[str, Any], previous: Any) -> dict[str, Any]:
        root = self.root or Path.cwd()
        directory = str(props["directory"])
        if load_migration_set(root, directory).files != props["migrations"]:
            # The files changed between the preview (or the program run) and this step.
            raise MigrationRefused(f"{props['database']}: {directory}/ no longer holds the files this deploy planned; run it again")
        # The engine shows what a provider writes to stderr in the deploy's output.
        done = migrate_remote(
            root, str(props["database"]), str(props["databaseId"]), directory, props.get("baseline"),
            str(props["accountId"]), os.environ, lambda line: print(line, file=sys.stderr, flush=True),
        )
        outputs = {key: props[key] for key in RUN_INPUTS if key in props}
        outputs["restorePoint"] = done.restore_point if done.restore_point is not None else previous
        outputs["applied"] = [*done.recorded, *done.applied]
        return outputs


class D1Migrations(Resource, module="blaze", name="D1Migrations"):
    """The step's resource: type `pulumi-python:dynamic/blaze:D1Migrations`."""

    restorePoint: pulumi.Output[Any]  # noqa: N815 (the output's own name, as the provider returns it)
    applied: pulumi.Output[list[str]]

    def __init__(self, name: str, inputs: Mapping[str, Any], opts: pulumi.ResourceOptions | None = None) -> None:
        # The SDK's serialize_provider patches `pickle._Pickler._batch_setitems` with a wrapper
        # of whatever is there and never puts it back, so every dynamic resource adds one more
        # stack frame to every later pickle in the process: a process that declares a few
        # hundred of them (a test session planning the fleet many times, an Automation API
        # host) ends in RecursionError (pulumi/pulumi#17803, closed as no-repro). Put the
        # pickler back as it was after each serialization.
        pickler = pickle._Pickler  # noqa: SLF001 (the SDK patches this private class)
        patched = {attribute: pickler.__dict__[attribute] for attribute in ("_batch_setitems", "save_dict") if attribute in pickler.__dict__}
        try:
            super().__init__(MigrationStep(), name, {**inputs, **dict.fromkeys(OUTPUTS)}, opts)
        finally:
            for attribute in ("_batch_setitems", "save_dict"):
                if attribute in patched:
                    setattr(pickler, attribute, patched[attribute])
                elif attribute in pickler.__dict__:
                    delattr(pickler, attribute)
