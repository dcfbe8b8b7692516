"""Every Worker binding points at a resource declared in the same stack."""

from __future__ import annotations

from typing import Any, Iterator

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
# Bindings whose target is named by an id the provider assigns. Such an id is known when
# the resource exists (refreshed state, the offline plan, whose mocks assign every id) and
# unknown in the preview that creates it. So a known id in a binding must be the known id
# of a resource of this stack (an id of a resource still to be created cannot be known),
# and each unknown one must come from a resource of this stack still to be created that
# the Worker depends on.
_BY_ID = {
    "d1": ("id", types.D1_DATABASE, ("uuid", "id")),
    "kv_namespace": ("namespaceId", types.KV_NAMESPACE, ("id",)),
}

_UNKNOWN = object()  # a value the engine does not know yet (a preview before create)


def _read(mapping: Any, key: str) -> Any:
    """`mapping[key]`, or _UNKNOWN where the engine sent its unknown-value sentinel."""
    try:
        return plain(mapping.get(key))
    except UnknownValueError:
        return _UNKNOWN


def _ids(resource: PolicyResource, outputs: tuple[str, ...]) -> set[str]:
    return {v for v in (_read(resource.props, key) for key in outputs) if isinstance(v, str) and v}


def _short(typ: str) -> str:
    return typ.rsplit(":", 1)[-1]


def check(args: StackValidationArgs, config: NoConfig, context: RunContext) -> Iterator[Finding]:
    resources = list(args.resources)
    named = {
        kind: {plain(r.props.get(key)) for r in of_type(resources, typ)}
        for kind, (_, typ, key) in _BY_NAME.items()
    }
    known = {
        kind: set().union(*(_ids(r, outputs) for r in of_type(resources, typ)))
        for kind, (_, typ, outputs) in _BY_ID.items()
    }

    for script in of_type(resources, types.WORKERS_SCRIPT):
        worker = plain(script.props.get("scriptName"))
        bindings = _read(script.props, "bindings")
        if bindings is _UNKNOWN:
            yield Finding(f"Worker {worker}: its bindings are not known in this preview, so none can be shown to stay in this stack", script.urn)
            continue
        # The resources the bindings were built from (the engine sends them per property),
        # else all of the Worker's dependencies (the offline plan records only those).
        sources = script.property_dependencies.get("bindings") or script.dependencies
        unknown: dict[str, list[str]] = {}
        for binding in map(fields, items(bindings)):
            kind, name = binding.get("type"), binding.get("name")
            if kind in _BY_NAME:
                key, typ, _ = _BY_NAME[kind]
                target = _read(binding, key)
                if target is _UNKNOWN or target not in named[kind]:
                    shown = "a value not known yet" if target is _UNKNOWN else repr(target)
                    yield Finding(
                        f"Worker {worker}: {kind} binding {name} points at {shown}, which is not a {_short(typ)} of this stack",
                        script.urn,
                    )
            elif kind in _BY_ID:
                key, typ, _ = _BY_ID[kind]
                target = _read(binding, key)
                if target is _UNKNOWN:
                    unknown.setdefault(kind, []).append(str(name))
                elif target not in known[kind]:
                    yield Finding(
                        f"Worker {worker}: {kind} binding {name} points at id {target!r}, which is not the id of "
                        f"a {_short(typ)} of this stack: an id was written in rather than taken from a resource",
                        script.urn,
                    )
        for kind, names in unknown.items():
            typ, outputs = _BY_ID[kind][1], _BY_ID[kind][2]
            to_create = [r for r in sources if r.resource_type == typ and not _ids(r, outputs)]
            if len(names) > len(to_create):
                yield Finding(
                    f"Worker {worker}: {len(names)} {kind} bindings ({', '.join(sorted(names))}) have ids not known yet, "
                    f"but the Worker depends on only {len(to_create)} {_short(typ)} resources of this stack still to be "
                    "created: an id comes from somewhere else",
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
