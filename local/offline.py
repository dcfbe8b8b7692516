"""Run the real Pulumi program offline, under Pulumi's own mock runtime.

This is what `make plan` and the tests use: the unmodified `__main__.py`, the real
`pulumi` and `pulumi_cloudflare` SDKs, and a stack's own `Pulumi.<stack>.yaml`. Only the
engine is replaced: `pulumi.runtime.set_mocks` answers every registration with stable,
invented ids, and a recording monitor keeps what the provider would have received
(wire-format inputs) and the resource options the engine would have applied.
"""

from __future__ import annotations

import hashlib
import json
import logging
import runpy
import sys
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

import pulumi
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc

from stacks import PROJECT_ROOT, secret_users
from stacks.catalog import load_catalog
from stacks.errors import InputError
from stacks.settings import NAMESPACE, Settings, read_settings
from stacks.stack_file import PROJECT, REDACTED, StackConfig, read_stack_config

# The organisation the program runs in offline: the one self-managed backends have (the
# real engine's local-backend runs here use it too); on Pulumi Cloud it is the real org.
ORGANIZATION = "organization"
STACK_TYPE = "pulumi:pulumi:Stack"
STACK_REFERENCE_TYPE = "pulumi:pulumi:StackReference"
# How the engine marks a secret value on the wire (pulumi/runtime/rpc.py).
_SIG_KEY = rpc._special_sig_key
_SECRET_SIG = rpc._special_secret_sig


class PlanError(Exception):
    """The offline run could not produce a trustworthy plan (not an input error)."""


def is_secret_wrapper(value: Any) -> bool:
    return isinstance(value, dict) and value.get(_SIG_KEY) == _SECRET_SIG


@dataclass
class Registration:
    """One resource as the engine saw it: identity, provider inputs and options."""

    type: str
    name: str
    urn: str = ""
    parent: str = ""
    custom: bool = False
    inputs: dict[str, Any] = field(default_factory=dict)
    protect: bool = False
    retain_on_delete: bool = False
    depends_on: list[str] = field(default_factory=list)
    import_id: str = ""
    id: str = ""  # the id the mocks assigned, as the provider would; "" for components


def _stable_id(stack: str, typ: str, name: str) -> str:
    return hashlib.sha256(f"{stack}\0{typ}\0{name}".encode()).hexdigest()[:32]


class FleetMocks(pulumi_mocks.Mocks):
    """Answers registrations like the Cloudflare provider would, with stable ids.

    Ids depend only on (stack, type, logical name): two runs give the same ids, and the
    same logical resource has different ids in staging and prod. A `StackReference` to
    another stack of this project is answered with that stack's outputs, as given.
    """

    def __init__(self, stack: str, organization: str = ORGANIZATION) -> None:
        self.stack = stack
        self.organization = organization
        self.stack_outputs: dict[str, Mapping[str, Any]] = {}  # referenced stack name -> its outputs
        self.inputs: dict[tuple[str, str], dict[str, Any]] = {}
        self._lock = threading.Lock()

    def new_resource(self, args: pulumi_mocks.MockResourceArgs) -> tuple[str | None, dict]:
        with self._lock:
            self.inputs[(args.typ, args.name)] = args.inputs
        if args.typ == STACK_REFERENCE_TYPE:
            return self._stack_reference(args.inputs.get("name", ""))
        if not args.custom:
            return None, {}
        ident = _stable_id(self.stack, args.typ, args.name)
        outputs = dict(args.inputs)
        short = args.typ.rsplit(":", 1)[-1]
        if short == "D1Database":
            outputs["uuid"] = str(uuid.UUID(ident))
            return outputs["uuid"], outputs
        if short in ("WorkersScript", "WorkersCronTrigger"):
            return outputs.get("scriptName"), outputs
        if short == "R2Bucket":
            return outputs.get("name"), outputs
        if short in ("NotificationPolicy", "NotificationPolicyWebhooks"):
            return str(uuid.UUID(ident)), outputs
        return ident, outputs

    def _stack_reference(self, name: str) -> tuple[str, dict]:
        organization, project, stack = (name.split("/") + ["", "", ""])[:3]
        if (organization, project) != (self.organization, PROJECT):
            raise PlanError(f"stack reference {name!r} is outside {self.organization}/{PROJECT}, the only one this run knows")
        if stack not in self.stack_outputs:
            raise PlanError(f"stack reference {name!r}: no outputs of stack {stack!r} were given to the offline run")
        return name, {"name": name, "outputs": dict(self.stack_outputs[stack]), "secretOutputNames": []}

    def call(self, args: pulumi_mocks.MockCallArgs) -> tuple[dict, list[tuple[str, str]] | None]:
        return {}, None


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """The SDK's mock monitor, keeping each registration's options (mocks never see them)."""

    def __init__(self, mocks: FleetMocks) -> None:
        super().__init__(mocks)
        self.fleet_mocks = mocks
        self.registrations: dict[str, Registration] = {}
        self._lock = threading.Lock()

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        """The URN the engine gives: the parent's whole chain of types, then this type.

        The SDK's mock monitor keeps only the parent's last type; plans, diffs, drift
        reports, policy findings and import files must name resources as the engine does.
        A child of the stack itself has no parent type (the engine leaves the stack out).
        """
        if parent:
            parent_type = parent.split("::")[2]
            if parent_type != STACK_TYPE:
                type_ = f"{parent_type}${type_}"
        return f"urn:pulumi:{pulumi.get_stack()}::{pulumi.get_project()}::{type_}::{name}"

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        response = super().RegisterResource(request)
        if request.type != STACK_TYPE:
            record = Registration(
                type=request.type,
                name=request.name,
                urn=response.urn,
                parent=request.parent,
                custom=bool(request.custom),
                protect=bool(request.protect),
                retain_on_delete=bool(request.retainOnDelete),
                depends_on=sorted(set(request.dependencies)),
                import_id=request.importId,
                id=response.id if request.custom else "",
            )
            with self._lock:
                self.registrations[record.urn] = record
        return response

    def recorded(self) -> list[Registration]:
        """Every registration with its inputs, sorted by URN (registration order varies)."""
        out = []
        for urn in sorted(self.registrations):
            record = self.registrations[urn]
            record.inputs = self.fleet_mocks.inputs.get((record.type, record.name), {})
            out.append(record)
        return out


def _settings(config: StackConfig, stack: str) -> Settings | None:
    """The stack's settings as the program will read them, or None when they are invalid
    (the program run then reports the error itself, with the same message)."""
    pulumi.runtime.set_all_config(dict(config.values), list(config.secret_keys))
    try:
        return read_settings(pulumi.Config(NAMESPACE), f"Pulumi.{stack}.yaml")
    except InputError:
        return None


def _missing_secrets(config: StackConfig, stack: str, root: Path) -> list[str]:
    """Secrets the program will require that the stack file does not hold (yet)."""
    settings = _settings(config, stack)
    if settings is None:
        return []
    try:
        catalog = load_catalog(root)
    except InputError:
        return []  # the program run reports it
    needed = secret_users(catalog, settings)
    return sorted(f"{NAMESPACE}:{key}" for key in needed if f"{NAMESPACE}:{key}" not in config.values)


def referenced_stacks(config: StackConfig, stack: str) -> list[str]:
    """The stacks of this project whose outputs the program of `stack` reads (prod: staging)."""
    settings = _settings(config, stack)
    if settings is None or settings.promotion is None:
        return []
    return [settings.promotion.staging_stack]


class _Collected(logging.Handler):
    """Keeps the warnings the program logs (pulumi.log.warn reaches mocks as logging)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@dataclass
class Run:
    stack: str
    registrations: list[Registration]
    outputs: dict[str, Any]
    secret_values: list[str]
    placeholder_secrets: list[str]
    warnings: list[str] = field(default_factory=list)


class OfflineRun:
    """One run of `root/__main__.py` for a stack under mocks.

    `execute()` raises whatever the program raises; `monitor` keeps what was registered
    up to that point, so a test can check that a rejected input registered nothing.

    `stack_outputs` (stack name -> outputs) answers the program's StackReferences. When it
    is not given, each referenced stack is first run from the same `root`, so the outputs
    are what that stack would export from this very tree.
    """

    def __init__(
        self,
        stack: str,
        config: StackConfig,
        root: Path = PROJECT_ROOT,
        fill_missing_secrets: bool = True,
        stack_outputs: Mapping[str, Mapping[str, Any]] | None = None,
        organization: str = ORGANIZATION,
    ) -> None:
        self.stack = stack
        self.config = config
        self.root = root
        self.fill_missing_secrets = fill_missing_secrets
        self.stack_outputs = stack_outputs
        self.mocks = FleetMocks(stack, organization)
        self.monitor = RecordingMonitor(self.mocks)
        self.warnings = _Collected()

    def _referenced_outputs(self) -> dict[str, Mapping[str, Any]]:
        outputs: dict[str, Mapping[str, Any]] = {}
        for name in referenced_stacks(self.config, self.stack):
            if name == self.stack:
                raise PlanError(f"stack {name} references itself")
            display = f"Pulumi.{name}.yaml"
            referenced = run_program(name, read_stack_config(self.root / display, display), self.root)
            outputs[name] = plan_document(referenced)["outputs"]
        return outputs

    def execute(self) -> Run:
        if str(PROJECT_ROOT) not in sys.path:
            sys.path.insert(0, str(PROJECT_ROOT))
        if self.stack_outputs is None:
            self.stack_outputs = self._referenced_outputs()
        self.mocks.stack_outputs = dict(self.stack_outputs)
        logger = logging.getLogger(f"{__name__}.program")
        logger.propagate = False
        for handler in list(logger.handlers):
            logger.removeHandler(handler)  # a previous run's; each run keeps its own warnings
        logger.addHandler(self.warnings)
        pulumi.runtime.reset_options()
        pulumi.runtime.set_mocks(self.mocks, project=PROJECT, stack=self.stack, preview=False, logger=logger, monitor=self.monitor, organization=self.mocks.organization)

        placeholders = _missing_secrets(self.config, self.stack, self.root) if self.fill_missing_secrets else []
        values = dict(self.config.values) | {key: REDACTED for key in placeholders}
        secret_keys = sorted(set(self.config.secret_keys) | set(placeholders))
        pulumi.runtime.set_all_config(values, secret_keys)

        outputs: dict[str, Any] = {}

        async def collect(exported: dict[str, Any]) -> None:
            for key in sorted(exported):
                output = pulumi.Output.from_input(exported[key])
                outputs[key] = REDACTED if await output.is_secret() else await output.future()

        @pulumi.runtime.test
        def program() -> Any:
            runpy.run_path(str(self.root / "__main__.py"), run_name="__main__")
            root_resource = pulumi.runtime.get_root_resource()
            return collect(dict(root_resource.outputs) if root_resource is not None else {})

        program()
        secret_values = sorted({values[key] for key in secret_keys})
        return Run(self.stack, self.monitor.recorded(), outputs, secret_values, placeholders, list(self.warnings.messages))


def run_program(
    stack: str,
    config: StackConfig,
    root: Path = PROJECT_ROOT,
    fill_missing_secrets: bool = True,
    stack_outputs: Mapping[str, Mapping[str, Any]] | None = None,
) -> Run:
    """Run the program of `root` for `stack` under mocks and return what it registered."""
    return OfflineRun(stack, config, root, fill_missing_secrets, stack_outputs).execute()


def _normalise(value: Any) -> Any:
    # Numbers cross the wire as doubles; write whole ones as integers for readable plans.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _normalise(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normalise(v) for v in value]
    return value


class Redactor:
    """Replaces secret values with REDACTED, and refuses to pass one that is not marked secret."""

    def __init__(self, secret_values: Iterable[str]) -> None:
        self.secret_values = [s for s in secret_values if s]

    def _contains_secret(self, text: str) -> bool:
        return any(secret in text for secret in self.secret_values)

    def _inside_secret(self, value: Any) -> tuple[Any, bool]:
        if isinstance(value, str):
            return (REDACTED, True) if self._contains_secret(value) else (value, False)
        if isinstance(value, dict):
            pairs = {k: self._inside_secret(v) for k, v in value.items()}
            return {k: v for k, (v, _) in pairs.items()}, any(hit for _, hit in pairs.values())
        if isinstance(value, list):
            items = [self._inside_secret(v) for v in value]
            return [v for v, _ in items], any(hit for _, hit in items)
        return value, False

    def redact(self, value: Any, where: str) -> Any:
        if is_secret_wrapper(value):
            inner, found = self._inside_secret(value.get("value"))
            # A secret wrapper holding none of the known secret strings was marked secret by
            # something else (a provider output, a derived value): hide all of it.
            return inner if found else REDACTED
        if isinstance(value, dict):
            return {k: self.redact(v, f"{where}.{k}") for k, v in value.items()}
        if isinstance(value, list):
            return [self.redact(v, f"{where}[{i}]") for i, v in enumerate(value)]
        if isinstance(value, str) and self._contains_secret(value):
            raise PlanError(f"a secret value reached a plain (non-secret) input at {where}")
        return value


def plan_document(run: Run) -> dict[str, Any]:
    """The plan file's content: every resource with redacted wire inputs, and the outputs."""
    redactor = Redactor(run.secret_values)
    resources = []
    for record in run.registrations:
        resources.append(
            {
                "type": record.type,
                "name": record.name,
                "urn": record.urn,
                "parent": record.parent,
                "id": record.id,
                "inputs": _normalise(redactor.redact(record.inputs, record.urn)),
                "options": {
                    "protect": record.protect,
                    "retainOnDelete": record.retain_on_delete,
                    "dependsOn": record.depends_on,
                    "importId": record.import_id,
                },
            }
        )
    outputs = _normalise(redactor.redact(run.outputs, "outputs"))
    return {"stack": run.stack, "resources": resources, "outputs": outputs}


def write_plan(document: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
