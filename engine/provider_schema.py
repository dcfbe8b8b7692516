"""Every Cloudflare input of a plan, checked by the Cloudflare provider's own code.

The Pulumi Cloudflare provider is the Terraform provider behind pulumi-terraform-bridge:
each `cloudflare:index/<name>:<Name>` is the Terraform resource `cloudflare_<snake name>`,
each property the snake_case of its camelCase name. Its Go module is not served here
(README, "The real engine"), so the plan is checked against the Terraform provider's own
resource schemas and validation (engine/cloudflare, `schemacheck`):

- names: every property is an attribute of the resource (at every nesting level);
- inputs, not outputs: no attribute only the provider computes is set;
- required attributes are present, and every value has the attribute's type;
- the provider's ValidateResourceConfig: its validators (enumerations, formats, conflicts,
  the content_sha256 of a content_file, ...), as Terraform or the bridge's Check calls it.

Each finding names the resource's URN and the property's path. Plans hold every secret
as "[secret]", so nothing secret reaches the checker.
"""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping, Optional

CLOUDFLARE = "cloudflare:"
NESTING = {1: "single", 2: "list", 3: "set", 4: "map"}


@dataclass(frozen=True)
class Finding:
    urn: str
    path: str
    problem: str

    def __str__(self) -> str:
        return f"{self.urn}: {self.path or '-'}: {self.problem}"


def snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def plural(name: str) -> str:
    """The bridge names a list or set attribute in the plural (`email` -> `emails`,
    `pagerduty` -> `pagerduties`); a name already plural stays."""
    if name.endswith("s"):
        return name
    if name.endswith("y") and name[-2:-1] not in "aeiou":
        return name[:-1] + "ies"
    return name + ("es" if name.endswith(("x", "ch", "sh")) else "s")


def _is_list(attribute: Mapping[str, Any]) -> bool:
    nested = attribute.get("NestedType")
    if nested is not None:
        return NESTING.get(nested["Nesting"]) in ("list", "set")
    return isinstance(attribute.get("Type"), list) and attribute["Type"][0] in ("list", "set")


def terraform_type(token: str) -> str:
    """`cloudflare:index/workersScript:WorkersScript` -> `cloudflare_workers_script`."""
    return "cloudflare_" + snake(token.split(":")[1].split("/")[-1])


def load_schemas(schemacheck: Path) -> dict[str, Any]:
    done = subprocess.run([str(schemacheck), "schema"], text=True, capture_output=True, timeout=120, check=True)
    return json.loads(done.stdout)


class _Converter:
    """Pulumi wire inputs -> a Terraform config, with every schema finding on the way."""

    def __init__(self, urn: str) -> None:
        self.urn = urn
        self.findings: list[Finding] = []

    def problem(self, path: str, text: str) -> None:
        self.findings.append(Finding(self.urn, path, text))

    def block(self, inputs: Mapping[str, Any], attributes: list[dict[str, Any]], path: str) -> dict[str, Any]:
        by_name = {a["Name"]: a for a in attributes}
        plurals = {plural(a["Name"]): a["Name"] for a in attributes if _is_list(a) and plural(a["Name"]) != a["Name"]}
        config: dict[str, Any] = {}
        for key, value in inputs.items():
            name = snake(key)
            name = name if name in by_name else plurals.get(name, name)
            here = f"{path}.{key}" if path else key
            attribute = by_name.get(name)
            if attribute is None:
                self.problem(here, f"not an attribute of the resource (no {name!r} in the provider's schema)")
                continue
            if attribute["Computed"] and not (attribute["Optional"] or attribute["Required"]):
                self.problem(here, f"{name!r} is computed by the provider, not an input")
                continue
            config[name] = self.attribute(value, attribute, here)
        for name, attribute in by_name.items():
            if attribute["Required"] and name not in config:
                self.problem(f"{path}.{name}" if path else name, "required by the provider, missing")
        return config

    def attribute(self, value: Any, attribute: dict[str, Any], path: str) -> Any:
        nested = attribute.get("NestedType")
        if nested is None:
            return self.typed(value, attribute["Type"], path)
        mode = NESTING.get(nested["Nesting"], "?")
        if mode == "single":
            return self.object(value, nested["Attributes"], path)
        if mode in ("list", "set"):
            if not isinstance(value, list):
                self.problem(path, f"a {mode} of objects is expected, not {type(value).__name__}")
                return value
            return [self.object(item, nested["Attributes"], f"{path}[{i}]") for i, item in enumerate(value)]
        if not isinstance(value, dict):
            self.problem(path, f"a map of objects is expected, not {type(value).__name__}")
            return value
        return {k: self.object(v, nested["Attributes"], f"{path}.{k}") for k, v in value.items()}

    def object(self, value: Any, attributes: list[dict[str, Any]], path: str) -> Any:
        if not isinstance(value, dict):
            self.problem(path, f"an object is expected, not {type(value).__name__}")
            return value
        return self.block(value, attributes, path)

    def typed(self, value: Any, typ: Any, path: str) -> Any:
        if typ in ("string", "number", "bool"):
            expected = {"string": (str,), "number": (int, float), "bool": (bool,)}[typ]
            if not isinstance(value, expected) or (typ == "number" and isinstance(value, bool)):
                self.problem(path, f"a {typ} is expected, not {type(value).__name__} {value!r}")
            return value
        if typ == "dynamic":
            return value
        kind, inner = typ[0], typ[1]
        if kind in ("list", "set"):
            if not isinstance(value, list):
                self.problem(path, f"a {kind} is expected, not {type(value).__name__}")
                return value
            return [self.typed(v, inner, f"{path}[{i}]") for i, v in enumerate(value)]
        if kind == "map":
            if not isinstance(value, dict):
                self.problem(path, f"a map is expected, not {type(value).__name__}")
                return value
            return {k: self.typed(v, inner, f"{path}.{k}") for k, v in value.items()}
        if kind == "object":
            if not isinstance(value, dict):
                self.problem(path, f"an object is expected, not {type(value).__name__}")
                return value
            unknown = sorted(set(map(snake, value)) - set(inner))
            for name in unknown:
                self.problem(f"{path}.{name}", "not an attribute of the object")
            return {snake(k): self.typed(v, inner[snake(k)], f"{path}.{k}") for k, v in value.items() if snake(k) in inner}
        return value


def check(resources: Iterable[Mapping[str, Any]], schemas: Mapping[str, Any], schemacheck: Path, cwd: Path) -> list[Finding]:
    """Findings for every Cloudflare resource of a plan's `resources` (none: all accepted).

    `cwd` is the folder the provider reads relative paths from (content_file): the
    project root, where `pulumi preview` runs.
    """
    findings: list[Finding] = []
    requests: list[tuple[str, str, dict[str, Any]]] = []
    for resource in resources:
        if not resource["type"].startswith(CLOUDFLARE):
            continue
        urn, tf_type = resource["urn"], terraform_type(resource["type"])
        schema = schemas.get(tf_type)
        if schema is None:
            findings.append(Finding(urn, "", f"no resource {tf_type} in the provider"))
            continue
        converter = _Converter(urn)
        config = converter.block(resource["inputs"], schema["Block"]["Attributes"], "")
        findings += converter.findings
        if not converter.findings:
            requests.append((urn, tf_type, config))
    if requests:
        answers = ask(schemacheck, "validate", [{"type": t, "config": c} for _, t, c in requests], cwd=cwd)
        for (urn, _, _), diagnostics in zip(requests, answers):
            for d in diagnostics:
                if d["severity"] == "ERROR":
                    findings.append(Finding(urn, d.get("attribute", ""), f"{d['summary']}: {d['detail']}".rstrip(": ")))
    return findings


def ask(schemacheck: Path, mode: str, requests: list[dict[str, Any]], cwd: Optional[Path] = None,
        env: Optional[Mapping[str, str]] = None) -> list[Any]:
    """`schemacheck <mode>`'s answers, one per request (a JSON line each way)."""
    lines = "".join(json.dumps(r) + "\n" for r in requests)
    done = subprocess.run([str(schemacheck), mode], input=lines, text=True, capture_output=True, cwd=cwd,
                          env=None if env is None else dict(env), timeout=300, check=False)
    answers = [json.loads(line) for line in done.stdout.splitlines()]
    if done.returncode != 0 or len(answers) != len(requests):
        raise RuntimeError(f"schemacheck {mode} answered {len(answers)} of {len(requests)} (exit {done.returncode}): {done.stderr.strip()}")
    return answers
