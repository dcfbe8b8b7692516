"""Every Worker binding points at a resource declared in the same stack."""

from __future__ import annotations

from typing import Iterator

from pulumi_policy import PolicyResource, Severity, StackValidationArgs
from pulumi_policy.proxy import UnknownValueError

from policies import resource_types as types
from policies.framework import Finding, NoConfig, RunContext, StackRule, RuleInfo, fields, items, of_type, plain

# Bindings whose target is named by an input of the target resource: compared by value.
_BY_NAME = {
    "service": ("service", types.WORKERS_SCRIPT, "scriptName"),
    "r2_bucket": ("bucketName", types.R2_BUCKET, "name"),
    "queue": ("queueName", types.QUEUE, "queueName"),
}
# Bindings whose target is named by an id the provider assigns: compared by value when the
# stack's resources show their ids (refreshed state), else through the Worker's dependencies.
_BY_ID = {
    "d1": ("id", types.D1_DATABASE, ("uuid", "id")),
    "kv_namespace": ("namespaceId", types.KV_NAMESPACE, ("id",)),
}


def _known_ids(resources: list[PolicyResource], outputs: tuple[str, ...]) -> set[str]:
    ids = set()
    for resource in resources:
        for key in outputs:
            try:
                value = plain(resource.props.get(key))
            except UnknownValueError:
                continue  # a resource still to be created: its id is not known in a preview
            if isinstance(value, str):
                ids.add(value)
    return ids


def check(args: StackValidationArgs, config: NoConfig, context: RunContext) -> Iterator[Finding]:
    resources = list(args.resources)
    named = {
        kind: {plain(r.props.get(key)) for r in of_type(resources, typ)}
        for kind, (_, typ, key) in _BY_NAME.items()
    }
    by_id = {kind: list(of_type(resources, typ)) for kind, (_, typ, _) in _BY_ID.items()}
    ids = {kind: _known_ids(by_id[kind], outputs) for kind, (_, _, outputs) in _BY_ID.items()}

    for script in of_type(resources, types.WORKERS_SCRIPT):
        worker = plain(script.props.get("scriptName"))
        depends_on = {dep.urn for dep in script.dependencies}
        unbacked: dict[str, dict[str, str]] = {}
        for binding in map(fields, items(script.props.get("bindings"))):
            kind, name = binding.get("type"), binding.get("name")
            if kind in _BY_NAME:
                key, typ, _ = _BY_NAME[kind]
                target = plain(binding.get(key))
                if target not in named[kind]:
                    yield Finding(
                        f"Worker {worker}: {kind} binding {name} points at {target!r}, "
                        f"which is not a {typ.rsplit(':', 1)[-1]} of this stack",
                        script.urn,
                    )
            elif kind in _BY_ID:
                key, typ, _ = _BY_ID[kind]
                target = plain(binding.get(key))
                if ids[kind]:
                    if target not in ids[kind]:
                        yield Finding(
                            f"Worker {worker}: {kind} binding {name} points at id {target!r}, "
                            f"which is not a {typ.rsplit(':', 1)[-1]} of this stack",
                            script.urn,
                        )
                else:
                    unbacked.setdefault(kind, {})[name] = target
        for kind, bound in unbacked.items():
            typ = _BY_ID[kind][1]
            backing = [r for r in by_id[kind] if r.urn in depends_on]
            distinct = set(bound.values())
            if len(distinct) > len(backing):
                listing = ", ".join(f"{binding}={target}" for binding, target in sorted(bound.items()))
                yield Finding(
                    f"Worker {worker}: {len(distinct)} distinct {kind} ids are bound ({listing}) "
                    f"but the Worker depends on only {len(backing)} {typ.rsplit(':', 1)[-1]} resources of this "
                    "stack: an id was written in rather than taken from a resource of this stack",
                    script.urn,
                )


RULE = StackRule(
    info=RuleInfo(
        id="blaze-binding-same-stack",
        title="Bindings stay in their stack",
        description="Every Worker binding (D1, KV, R2, service, queue) points at a resource declared in the same stack.",
        severity=Severity.CRITICAL,
        remediation=(
            "Bind the resource object of this stack (its id or name output), never an id or name copied from "
            "another stack: staging and prod share one account, so a copied id makes staging write to prod data."
        ),
        docs="https://developers.cloudflare.com/workers/runtime-apis/bindings/",
        tags=("isolation", "bindings"),
    ),
    config=NoConfig,
    check=check,
)
