"""Promotion by digest: a gated stack (prod) deploys only the Worker bundles staging runs.

Staging exports, per Worker, the sha256 of the bundle it runs (`workers.<name>.sha256`)
and the commit it was deployed from (`commit`). A stack whose config has
`blaze-infra:promotion` reads those outputs through a `StackReference` to the stack named
there, in the running stack's own organisation and project (so one config works on Pulumi
Cloud and on self-managed backends, whose only organisation is `organization`), and
compares them with the bundles it is about to deploy. Any Worker whose digest staging does not run
stops the whole program with one error naming every such Worker and both digests; the
fleet's root component depends on the verdict, so nothing of the fleet is registered.

Two environment variables, both set by the workflows and both with fixed defaults, so a
run never depends on the machine, the user or the clock:
- `BLAZE_COMMIT`: the git commit being deployed, exported as `commit` (default `unrecorded`).
- `BLAZE_PROMOTION_GATE`: `enforce` (default) or `report`, which only a preview may use:
  refusals become warnings, so a pull request can preview prod before staging runs its code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal, Mapping

import pulumi

from stacks import Stack
from stacks.errors import InputError
from stacks.settings import NAMESPACE, PromotionOverride
from workers.bundle import Bundle

COMMIT_VARIABLE = "BLAZE_COMMIT"
GATE_VARIABLE = "BLAZE_PROMOTION_GATE"
UNRECORDED = "unrecorded"
ENVIRONMENT = "environment"
GateMode = Literal["enforce", "report"]
_COMMIT = re.compile(r"^[0-9a-f]{40}$")


class PromotionError(pulumi.RunError):
    """The gated stack would deploy Worker bundles that staging does not run."""


@dataclass(frozen=True)
class Mismatch:
    """A Worker whose bundle here differs from staging's (`staging` is None: not in staging)."""

    worker: str
    candidate: str
    staging: str | None

    def describe(self) -> str:
        staged = f"staging runs sha256 {self.staging}" if self.staging else "staging does not run this Worker"
        return f"{self.worker}: would deploy sha256 {self.candidate}, {staged}"


@dataclass(frozen=True)
class Verdict:
    staging_commit: str
    overridden: tuple[Mismatch, ...]  # let through by the config's emergency override
    reported: tuple[Mismatch, ...]  # refusals a `report`-mode preview turned into warnings


def release_commit(environ: Mapping[str, str]) -> str:
    """The commit this run deploys, as the workflow passes it (a fixed word offline)."""
    value = environ.get(COMMIT_VARIABLE, "")
    if not value:
        return UNRECORDED
    if not _COMMIT.match(value):
        raise InputError(ENVIRONMENT, COMMIT_VARIABLE, "-", f"{value!r} is not a full 40-character lowercase git commit hash")
    return value


def staging_reference(stack_name: str) -> str:
    """The fully qualified name of stack `stack_name` of this project, in this stack's
    organisation: the real org on Pulumi Cloud, `organization` on self-managed backends."""
    return f"{pulumi.get_organization()}/{pulumi.get_project()}/{stack_name}"


def gate_mode(environ: Mapping[str, str], dry_run: bool) -> GateMode:
    value = environ.get(GATE_VARIABLE, "") or "enforce"
    if value not in ("enforce", "report"):
        raise InputError(ENVIRONMENT, GATE_VARIABLE, "-", f"{value!r} is not one of: enforce, report")
    if value == "report" and not dry_run:
        raise InputError(ENVIRONMENT, GATE_VARIABLE, "-", "'report' is for previews only; a deploy always enforces the gate")
    return value  # type: ignore[return-value]


def judge(
    candidates: Mapping[str, str],
    staging_outputs: Mapping[str, Any],
    source: str,
    override: PromotionOverride | None,
    mode: GateMode = "enforce",
) -> Verdict:
    """Compare the digests about to deploy (Worker -> sha256) with what staging runs."""
    staged = staging_outputs.get("workers")
    if not isinstance(staged, Mapping):
        raise PromotionError(f"stack {source} exports no `workers` output: deploy staging first (pulumi up -s staging)")
    commit = staging_outputs.get("commit")
    commit = commit if isinstance(commit, str) and commit else UNRECORDED
    mismatches = []
    for worker, digest in sorted(candidates.items()):
        entry = staged.get(worker)
        staging_digest = entry.get("sha256") if isinstance(entry, Mapping) else None
        if staging_digest != digest:
            mismatches.append(Mismatch(worker, digest, staging_digest if isinstance(staging_digest, str) else None))
    allowed = set(override.workers) if override else set()
    overridden = tuple(m for m in mismatches if m.worker in allowed)
    refused = tuple(m for m in mismatches if m.worker not in allowed)
    if refused and mode == "enforce":
        lines = [
            f"refusing to deploy {len(refused)} Worker{'s' if len(refused) != 1 else ''} whose bundle "
            f"staging ({source}, commit {commit}) does not run:",
            *(f"  {m.describe()}" for m in refused),
            "Deploy this commit to staging first (pulumi up -s staging); in an emergency, list the Workers "
            f"under {NAMESPACE}:promotion.override.workers with a reason.",
        ]
        raise PromotionError("\n".join(lines))
    return Verdict(staging_commit=commit, overridden=overridden, reported=refused if mode == "report" else ())


def _check_override(stack: Stack, override: PromotionOverride) -> None:
    names = {w.name for w in stack.catalog.workers}
    for index, worker in enumerate(override.workers):
        if worker not in names:
            raise InputError(stack.file, f"{NAMESPACE}:promotion", f"override.workers.{index}", f"{worker!r} is not a catalog Worker")


class PromotionGate:
    """The StackReference to staging and the verdict the fleet's root component waits for."""

    def __init__(self, stack: Stack, bundles: Mapping[str, Bundle], environ: Mapping[str, str]) -> None:
        promotion = stack.settings.promotion
        if promotion is None:
            raise ValueError(f"{stack.name} has no {NAMESPACE}:promotion setting")
        override = promotion.override
        if override is not None:
            _check_override(stack, override)
        mode = gate_mode(environ, pulumi.runtime.is_dry_run())
        if override is not None:
            # Printed on every run while set, so an emergency bypass cannot be forgotten.
            pulumi.log.warn(
                f"promotion override is set in {stack.file} ({NAMESPACE}:promotion.override): "
                f"{', '.join(override.workers)} may deploy bundles staging does not run; reason: {override.reason}"
            )
        source = staging_reference(promotion.staging_stack)
        candidates = {w.name: bundles[w.family].sha256 for w in stack.catalog.workers}
        self.staging = pulumi.StackReference("staging", stack_name=source)

        def decide(outputs: Mapping[str, Any]) -> Verdict:
            verdict = judge(candidates, outputs, source, override, mode)
            for mismatch in verdict.overridden:
                pulumi.log.warn(f"promotion override lets through {mismatch.describe()}")
            for mismatch in verdict.reported:
                pulumi.log.warn(f"a deploy would refuse {mismatch.describe()}")
            return verdict

        self.verdict: pulumi.Output[Verdict] = self.staging.outputs.apply(decide)
        # The fleet's root component depends on the verdict: when the gate refuses, its
        # URN never resolves, so no child (and no grandchild) is ever registered.
        self.options = pulumi.ResourceOptions(depends_on=[self.verdict.apply(lambda _: self.staging)])
        self.summary = self.verdict.apply(
            lambda v: {
                "stagingStack": source,
                "stagingCommit": v.staging_commit,
                "overridden": [m.worker for m in v.overridden],
            }
        )
