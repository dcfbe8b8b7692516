"""The drift report: Markdown from the JSON that `pulumi refresh --preview-only --json` or
`pulumi preview [--refresh] --json` prints.

    python -m operations.drift FILE [--stack NAME] [--out REPORT.md] [--source refresh|preview]

The document is the CLI's preview digest (pulumi/pulumi pkg/display/json.go): `steps`
with `op`, `urn`, `oldState`, `newState`, `detailedDiff` (path -> {kind, inputDiff}),
`diffReasons`, `replaceReasons`, plus `diagnostics` and `changeSummary`. The report lists
each drifted resource with every changed property path and its two values, resources
deleted outside Pulumi, and planned replacements. Known provider noise (diffs the upstream
issues in NOISE describe) is listed apart, keyed to its issue, and is not drift. Secret
values never appear: the CLI prints them as "[secret]", and values the provider marks or
this fleet knows as secret are redacted again here in case `--show-secrets` was used.
Which command printed the document is read from its root stack's step (`document_kind`);
`--source` only confirms it. The number checked and any change the steps do not detail
come from `changeSummary`, the CLI's own counts.

Exit codes (of this command; `make drift-report` turns any failure into 2):
0 no drift; 3 drift (or the run reported errors, so the check is incomplete);
2 the file is empty, unreadable, truncated or not that shape, or not of the command
`--source` names.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from docgen.markdown import ABSENT, code_cell

EXIT_CLEAN = 0
EXIT_DRIFT = 3
EXIT_UNUSABLE = 2
REDACTED = "[secret]"
# How the engine marks a secret value in serialized state (sdk/go/common/resource/sig).
SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
UPSTREAM = "https://github.com/cloudflare/terraform-provider-cloudflare/issues/"
_TOP_LEVEL_KEYS = {"config", "steps", "diagnostics", "duration", "changeSummary", "maybeCorrupt"}
_UNCHANGED_OPS = {"same", "refresh", "read", "discard"}
# The engine's step ops of a replacement (pkg/resource/deploy/step.go, StepOp).
_REPLACE_OPS = {"replace", "create-replacement", "delete-replaced", "read-replacement", "discard-replaced", "import-replacement"}


class ReportInputError(Exception):
    """The input is not a document this report can read."""


@dataclass(frozen=True)
class Change:
    path: str
    kind: str
    old: Any
    new: Any


@dataclass(frozen=True)
class Resource:
    urn: str
    type: str
    name: str

    @property
    def short_type(self) -> str:
        return self.type.rsplit(":", 1)[-1]


# The terraform-provider-cloudflare version the pinned pulumi_cloudflare bridges, at least.
# pulumi-cloudflare v6.17.0, the newest release whose source is readable here, pins its
# `upstream` submodule at b2277b8 = terraform-provider-cloudflare 5.19.1; later releases
# bridge the same or newer. tests/operations/test_drift.py ties this to requirements.txt, so
# a new pulumi_cloudflare pin makes someone re-check the list below.
BRIDGED_FOR = "pulumi_cloudflare==6.23.1"
BRIDGED_UPSTREAM = (5, 19, 1)


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


@dataclass(frozen=True)
class NoiseRule:
    """A perpetual diff an upstream provider issue describes: not drift, listed apart.

    `reported_on` is the terraform-provider-cloudflare version the issue was reported
    against; `fixed_in` the release that fixed it, None while it is open. An entry fixed in
    the bridged version or before must go: the diff it matched would now be real drift.
    """

    issue: int
    summary: str
    types: frozenset[str]
    matches: Callable[[Change, dict[str, Any]], bool]
    reported_on: str
    fixed_in: str | None = None

    @property
    def link(self) -> str:
        return f"[terraform-provider-cloudflare#{self.issue}]({UPSTREAM}{self.issue})"

    @property
    def versions(self) -> str:
        until = f"fixed in {self.fixed_in}" if self.fixed_in else "still open upstream"
        return f"terraform-provider-cloudflare {self.reported_on} ({until})"

    def applies_to(self, upstream: tuple[int, ...]) -> bool:
        """Whether a provider at `upstream` or later may still show this diff."""
        return self.fixed_in is None or upstream < _version(self.fixed_in)


def _empty(value: Any) -> bool:
    return value is ABSENT or value is None or value == [] or value == {} or value == ""


# Checked 2026-12-01 against the upstream tracker and CHANGELOG. Gone since they were
# fixed before the bridged version: #5522 (workers_script metadata diffs after every apply;
# fixed by #5775, released in 5.8.0) and #5892 (secret_text bindings on every deploy; 5.8.3).
NOISE: tuple[NoiseRule, ...] = (
    NoiseRule(
        7342,
        "notification_policy drifts on every plan (empty mechanism lists, created/modified timestamps)",
        frozenset({"NotificationPolicy"}),
        lambda c, _: c.path in {"created", "modified"} or (c.path.startswith("mechanisms.") and _empty(c.old) and _empty(c.new)),
        reported_on="5.23.0",
    ),
    NoiseRule(
        5607,
        "R2 jurisdiction \"default\" versus unset shows as a change",
        frozenset({"R2Bucket", "R2BucketCors", "R2BucketLifecycle", "R2CustomDomain"}),
        lambda c, _: c.path == "jurisdiction" and all(_empty(v) or v == "default" for v in (c.old, c.new)),
        reported_on="5.5.0",
    ),
)


@dataclass
class Report:
    stack: str
    source: str
    checked: int = 0
    drifted: list[tuple[Resource, list[Change]]] = field(default_factory=list)
    deleted: list[Resource] = field(default_factory=list)
    created: list[Resource] = field(default_factory=list)
    replaced: list[tuple[Resource, list[str], list[Change]]] = field(default_factory=list)
    noise: dict[int, list[tuple[Resource, Change]]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    maybe_corrupt: bool = False
    # Changed resources the CLI's changeSummary counts but the steps do not detail.
    undetailed: int = 0

    @property
    def has_drift(self) -> bool:
        return bool(self.drifted or self.deleted or self.created or self.replaced or self.errors or self.undetailed)


# Reading the document --------------------------------------------------------------------


def load_document(text: str, name: str) -> dict[str, Any]:
    """Parse and shape-check the CLI's JSON, or raise ReportInputError naming what is wrong."""
    if not text.strip():
        raise ReportInputError(f"{name}: empty (did the pulumi command fail before printing?)")
    try:
        document = json.loads(text)
    except ValueError as err:
        raise ReportInputError(f"{name}: not complete JSON ({err}); was the output cut off?") from None
    if not isinstance(document, dict) or not (set(document) & _TOP_LEVEL_KEYS):
        raise ReportInputError(f"{name}: not the JSON of `pulumi preview --json` or `pulumi refresh --preview-only --json`")
    steps = document.get("steps", [])
    if not isinstance(steps, list):
        raise ReportInputError(f"{name}: steps must be a list")
    for index, step in enumerate(steps):
        where = f"{name}: steps[{index}]"
        if not isinstance(step, dict) or not isinstance(step.get("op"), str) or not isinstance(step.get("urn"), str):
            raise ReportInputError(f"{where}: a step needs a string op and urn")
        for key in ("oldState", "newState"):
            if step.get(key) is not None and not isinstance(step[key], dict):
                raise ReportInputError(f"{where}.{key}: must be an object")
        detailed = step.get("detailedDiff")
        if detailed is not None and (
            not isinstance(detailed, dict) or not all(isinstance(v, dict) and isinstance(v.get("kind"), str) for v in detailed.values())
        ):
            raise ReportInputError(f"{where}.detailedDiff: must map property paths to {{kind, inputDiff}}")
        for key in ("diffReasons", "replaceReasons"):
            if step.get(key) is not None and not (isinstance(step[key], list) and all(isinstance(v, str) for v in step[key])):
                raise ReportInputError(f"{where}.{key}: must be a list of property names")
    if not isinstance(document.get("diagnostics", []), list):
        raise ReportInputError(f"{name}: diagnostics must be a list")
    return document


def parse_path(path: str) -> list[str | int]:
    """A Pulumi property path (`a.b[0]["c.d"]`) as its keys and indexes."""
    segments: list[str | int] = []
    position = 0
    for match in re.finditer(r'\[(\d+)\]|\["((?:[^"\\]|\\.)*)"\]|\.?([^.\[\]]+)', path):
        if match.start() != position:
            break
        index, quoted, plain = match.groups()
        segments.append(int(index) if index is not None else json.loads(f'"{quoted}"') if quoted is not None else plain)
        position = match.end()
    return segments if position == len(path) else [path]


def value_at(container: Any, segments: Iterable[str | int]) -> Any:
    for segment in segments:
        if isinstance(segment, int) and isinstance(container, list) and segment < len(container):
            container = container[segment]
        elif isinstance(segment, str) and isinstance(container, dict) and segment in container:
            container = container[segment]
        else:
            return ABSENT
    return container


def _redact(value: Any, short_type: str) -> Any:
    if isinstance(value, dict) and value.get(SECRET_SIG_KEY) == SECRET_SIG:
        return REDACTED
    if isinstance(value, dict):
        out = {k: _redact(v, short_type) for k, v in value.items()}
        if out.get("type") == "secret_text" and out.get("text") not in (None, ""):
            out["text"] = REDACTED
        if short_type == "NotificationPolicyWebhooks":
            out.update({k: REDACTED for k in ("url", "secret") if k in out})
        return out
    if isinstance(value, list):
        return [_redact(v, short_type) for v in value]
    return value


def _side(state: dict[str, Any] | None, segments: list[str | int], prefer: str, short_type: str) -> Any:
    if not state:
        return ABSENT
    other = "outputs" if prefer == "inputs" else "inputs"
    for container in (prefer, other):
        found = value_at(state.get(container) or {}, segments)
        if found is not ABSENT:
            break
    if found is ABSENT:
        return ABSENT
    head = segments[0] if segments else None
    if isinstance(head, str) and head in (state.get("additionalSecretOutputs") or []):
        return REDACTED
    # Redact in the context of the whole resource, so a binding's `text` is judged by its `type`.
    whole = _redact(state.get(container) or {}, short_type)
    return value_at(whole, segments)


def _changes(step: dict[str, Any], resource: Resource, source: str, keys: Iterable[str] | None = None) -> list[Change]:
    detailed = step.get("detailedDiff") or {}
    if keys is None:
        paths = sorted(detailed) or sorted(step.get("diffReasons") or [])
    else:
        paths = sorted(keys)
    old_state, new_state = step.get("oldState"), step.get("newState")
    out = []
    for path in paths:
        info = detailed.get(path, {})
        kind = info.get("kind", "update")
        segments = parse_path(path)
        # refresh: state against the account, both as outputs. preview: the account (old
        # state) against the program's inputs; inputDiff compares old inputs instead.
        if source == "refresh":
            old_prefer, new_prefer = "outputs", "outputs"
        else:
            old_prefer, new_prefer = ("inputs" if info.get("inputDiff") else "outputs"), "inputs"
        old = ABSENT if kind.startswith("add") else _side(old_state, segments, old_prefer, resource.short_type)
        new = ABSENT if kind.startswith("delete") else _side(new_state, segments, new_prefer, resource.short_type)
        out.append(Change(path, kind, old, new))
    return out


def _resource(step: dict[str, Any]) -> Resource:
    urn = step["urn"]
    state = step.get("newState") or step.get("oldState") or {}
    typ = state.get("type")
    if not isinstance(typ, str):
        # urn:pulumi:<stack>::<project>::<parent types $ separated>$<type>::<name>
        parts = urn.split("::")
        typ = parts[-2].rsplit("$", 1)[-1] if len(parts) >= 4 else "?"
    return Resource(urn=urn, type=typ, name=urn.rsplit("::", 1)[-1])


def _noise_rule(resource: Resource, change: Change, state: dict[str, Any]) -> NoiseRule | None:
    for rule in NOISE:
        if resource.short_type in rule.types and rule.matches(change, state):
            return rule
    return None


STACK_TYPE = "pulumi:pulumi:Stack"
# changeSummary ops that leave a resource as it was.
_UNCHANGED_SUMMARY = {"same", "read", "discard", "refresh"}


def document_kind(document: dict[str, Any]) -> str | None:
    """Which command printed the document: "refresh", "preview", or None if it cannot say.

    Both digests always carry the root stack's step (json.go shows it whatever the options).
    `pulumi refresh --preview-only` gives every resource, the stack included, a `refresh`
    step; `pulumi preview` gives the stack a `same` or `update` step, after the refresh
    steps when run with --refresh. Seen with the pinned CLI (tests/engine/test_drift_documents.py).
    """
    ops = {s["op"] for s in document.get("steps") or [] if _resource(s).type == STACK_TYPE}
    if ops - {"refresh"}:
        return "preview"
    return "refresh" if ops else None


def build_report(document: dict[str, Any], source: str, stack: str | None = None) -> Report:
    steps = document.get("steps") or []
    if stack is None:
        match = next((re.match(r"urn:pulumi:([^:]+)::", s["urn"]) for s in steps if s["urn"].startswith("urn:pulumi:")), None)
        stack = match.group(1) if match else "(unknown stack)"
    report = Report(stack=stack, source=source, maybe_corrupt=bool(document.get("maybeCorrupt")))
    for diagnostic in document.get("diagnostics") or []:
        if isinstance(diagnostic, dict) and diagnostic.get("severity") in ("error", "warning"):
            message = str(diagnostic.get("message", "")).strip()
            (report.errors if diagnostic["severity"] == "error" else report.warnings).append(message)

    replaced: dict[str, tuple[Resource, list[str], list[Change]]] = {}
    checked: set[str] = set()
    for step in steps:
        resource = _resource(step)
        if resource.type == STACK_TYPE:
            continue
        op = step["op"]
        checked.add(resource.urn)
        if op in _UNCHANGED_OPS:
            continue
        if op == "delete":
            report.deleted.append(resource)
        elif op == "create":
            report.created.append(resource)
        elif op in _REPLACE_OPS:
            # A replacement comes as several steps (create-replace, delete-replace, ...); keep one.
            if resource.urn not in replaced or (step.get("replaceReasons") and not replaced[resource.urn][1]):
                reasons = sorted(step.get("replaceReasons") or [])
                replaced[resource.urn] = (resource, reasons, _changes(step, resource, source))
        else:
            real = []
            state = step.get("newState") or step.get("oldState") or {}
            for change in _changes(step, resource, source) or [Change("(the provider gave no property detail)", op, ABSENT, ABSENT)]:
                rule = _noise_rule(resource, change, state)
                if rule is None:
                    real.append(change)
                else:
                    report.noise.setdefault(rule.issue, []).append((resource, change))
            if real:
                report.drifted.append((resource, real))
    report.replaced = list(replaced.values())
    # A preview leaves unchanged resources out of its steps (they are shown only with
    # --show-sames), so the CLI's own per-operation counts are the number checked.
    # The CLI counts the stack itself; a refresh that changed only outputs gives `update`
    # in the summary but no detailed step, so what the summary counts and the steps do not
    # show is drift too, never a clean report.
    summary = document.get("changeSummary")
    if isinstance(summary, dict) and summary and all(isinstance(n, int) and n >= 0 for n in summary.values()):
        stack_ops = {s["op"] for s in steps if _resource(s).type == STACK_TYPE}
        report.checked = max(0, sum(summary.values()) - (1 if stack_ops else 0))
        stack_changed = 1 if stack_ops - _UNCHANGED_SUMMARY else 0  # new stack outputs are not drift
        changed = sum(n for op, n in summary.items() if op not in _UNCHANGED_SUMMARY) - stack_changed
        shown = {r.urn for r, _ in report.drifted} | {r.urn for r in report.deleted + report.created}
        shown |= {r.urn for r, _, _ in report.replaced} | {r.urn for entries in report.noise.values() for r, _ in entries}
        report.undetailed = max(0, changed - len(shown))
    else:
        report.checked = len(checked)
    return report


# Writing Markdown -----------------------------------------------------------------------


def _columns(source: str) -> tuple[str, str]:
    return ("in state", "in the account") if source == "refresh" else ("in the account", "in the code")


def _change_table(changes: list[Change], source: str) -> list[str]:
    old, new = _columns(source)
    lines = [f"| property | change | {old} | {new} |", "|---|---|---|---|"]
    lines += [f"| `{c.path}` | {c.kind} | {code_cell(c.old)} | {code_cell(c.new)} |" for c in changes]
    return lines + [""]


def render(report: Report) -> str:
    command = "pulumi refresh --preview-only" if report.source == "refresh" else "pulumi preview --refresh"
    noise_count = sum(len(v) for v in report.noise.values())
    lines = [f"## Drift report: `{report.stack}` ({command})", ""]
    counts = (
        f"{len(report.drifted)} drifted, {len(report.deleted)} deleted outside Pulumi, "
        f"{len(report.created)} missing, {len(report.replaced)} to be replaced"
        + (f", {report.undetailed} changed without detail" if report.undetailed else "")
    )
    checked = f"{report.checked} resource{'' if report.checked == 1 else 's'} checked"
    if report.has_drift:
        lines.append(f"**Drift found:** {counts} ({checked}).")
    else:
        lines.append(f"**No drift** ({checked}).")
    if report.undetailed:
        lines.append(
            f"The CLI counts {report.undetailed} changed resource{'' if report.undetailed == 1 else 's'} that its JSON does not "
            f"detail (a change of outputs only, for example): run `{command}` interactively to see "
            f"{'it' if report.undetailed == 1 else 'them'}."
        )
    if noise_count:
        lines.append(f"Known provider quirks ({noise_count}) are listed separately below; they are not drift.")
    lines.append("")
    if report.maybe_corrupt:
        lines += ["> The CLI reports that some resources may be corrupt (`maybeCorrupt`); run `pulumi refresh` interactively.", ""]
    if report.errors:
        lines += ["### Errors (the check is incomplete)", ""] + [f"- {_one_line(e)}" for e in report.errors] + [""]
    if report.drifted:
        lines += ["### Drifted resources", ""]
        for resource, changes in report.drifted:
            lines += [f"#### `{resource.name}` ({resource.type})", ""] + _change_table(changes, report.source)
    deleted_title = "Deleted outside Pulumi" if report.source == "refresh" else "In the state but not in the code (to be deleted)"
    for title, resources in ((deleted_title, report.deleted), ("Missing from the account (to be created)", report.created)):
        if resources:
            lines += [f"### {title}", ""] + [f"- `{r.name}` ({r.type})" for r in resources] + [""]
    if report.replaced:
        lines += ["### Planned replacements", ""]
        for resource, reasons, changes in report.replaced:
            because = ", ".join(f"`{r}`" for r in reasons) or "not given"
            lines += [f"#### `{resource.name}` ({resource.type})", "", f"Replaced because of: {because}", ""]
            if changes:
                lines += _change_table(changes, report.source)
    if report.noise:
        lines += ["### Known provider noise (not drift)", ""]
        for rule in NOISE:
            entries = report.noise.get(rule.issue)
            if not entries:
                continue
            old, new = _columns(report.source)
            lines += [
                f"#### {rule.link}: {rule.summary}", "",
                f"Reported against {rule.versions}; {BRIDGED_FOR} bridges {'.'.join(map(str, BRIDGED_UPSTREAM))} or later.", "",
                f"| resource | property | {old} | {new} |", "|---|---|---|---|",
            ]
            lines += [f"| `{r.name}` | `{c.path}` | {code_cell(c.old)} | {code_cell(c.new)} |" for r, c in entries]
            lines.append("")
    if report.warnings:
        lines += ["### Warnings from the run", ""] + [f"- {_one_line(w)}" for w in report.warnings] + [""]
    return "\n".join(lines)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file", type=Path, help="the JSON the pulumi command printed")
    parser.add_argument(
        "--source", choices=("refresh", "preview"),
        help="which command printed it; read from the document (its root stack's step), so this only "
        "confirms it, and is needed only when the document has no root stack step",
    )
    parser.add_argument("--stack", help="stack name for the title (default: from the URNs)")
    parser.add_argument("--out", type=Path, help="also write the Markdown here")
    args = parser.parse_args(argv)
    try:
        try:
            text = args.file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            raise ReportInputError(f"{args.file}: cannot be read ({err})") from None
        document = load_document(text, str(args.file))
        kind = document_kind(document)
        if kind is not None and args.source is not None and kind != args.source:
            raise ReportInputError(f"{args.file}: the JSON of `pulumi {kind}`, not of `pulumi {args.source}` as --source says")
        source = kind or args.source
        if source is None:
            raise ReportInputError(f"{args.file}: no root stack step tells which command printed it; give --source refresh|preview")
        report = build_report(document, source, args.stack)
    except ReportInputError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_UNUSABLE
    markdown = render(report)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(markdown, encoding="utf-8")
    print(markdown)
    return EXIT_DRIFT if report.has_drift else EXIT_CLEAN


if __name__ == "__main__":
    sys.exit(main())
