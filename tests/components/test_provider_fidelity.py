"""As close to the real provider as the installed SDK allows, without running it.

Every input of every Cloudflare resource in both plans is walked through the SDK's own
`...Args` classes: each key must be a documented argument, and each value of an argument
whose docstring lists "Available values" must be one of them.
"""

from __future__ import annotations

import functools
import inspect
import re
from typing import Any

import pulumi_cloudflare as cloudflare
import pytest

from tests.conftest import STACKS, Planned

# Enums the SDK leaves undocumented, taken from Cloudflare's API reference instead.
DOCUMENTED_ELSEWHERE = {
    # developers.cloudflare.com/api/resources/r2/subresources/buckets/subresources/cors
    ("R2BucketCorsRuleAllowedArgs", "methods"): {"GET", "PUT", "POST", "DELETE", "HEAD"},
}
# Enum-valued inputs the fleet sets; the walk must have met every one, so the test
# cannot pass by checking nothing.
EXPECTED_ENUMS = {
    "WorkersScriptBindingArgs.type",
    "NotificationPolicyArgs.alert_type",
    "R2BucketCorsRuleAllowedArgs.methods",
    "R2BucketLifecycleRuleDeleteObjectsTransitionConditionArgs.type",
    "R2BucketLifecycleRuleAbortMultipartUploadsTransitionConditionArgs.type",
}


def snake(camel: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", camel).lower()


@functools.cache
def documented_params(args_class: type) -> dict[str, tuple[str | None, frozenset[str] | None]]:
    """name -> (nested Args class name, allowed values) from the class's __init__."""
    signature = inspect.signature(args_class.__init__)
    docs: dict[str, str] = {}
    for chunk in re.split(r"(?:^|\n)\s*:param ", inspect.getdoc(args_class.__init__) or "")[1:]:
        match = re.match(r"(?s)(?P<type>.+?) (?P<name>\w+): (?P<text>.*)", chunk)
        if match:
            docs[match["name"]] = match["text"]
    params = {}
    for name, parameter in signature.parameters.items():
        if name == "__self__":
            continue
        nested = re.search(r"ForwardRef\('(\w+Args)'\)", str(parameter.annotation))
        allowed = None
        found = re.search(r"Available values: (.*?)(?:\.\s|\.$|$)", docs.get(name, ""), re.S)
        if found:
            # The SDK's docs render underscores between words as '*' (a Markdown artifact).
            allowed = frozenset(v.replace("*", "_") for v in re.findall(r'"([^"]+)"', found[1]))
        allowed = DOCUMENTED_ELSEWHERE.get((args_class.__name__, name), allowed)
        params[name] = (nested[1] if nested else None, allowed)
    return params


def walk(args_class: type, value: dict[str, Any], path: str, checked: set[str], problems: list[str]) -> None:
    params = documented_params(args_class)
    for key, item in value.items():
        name = snake(key)
        if name not in params:
            problems.append(f"{path}.{key}: not an argument of {args_class.__name__}")
            continue
        nested, allowed = params[name]
        items = item if isinstance(item, list) else [item]
        if nested is not None:
            for i, element in enumerate(items):
                if isinstance(element, dict):
                    walk(getattr(cloudflare, nested), element, f"{path}.{key}[{i}]", checked, problems)
        if allowed is not None:
            checked.add(f"{args_class.__name__}.{name}")
            for element in items:
                if element not in allowed:
                    problems.append(f"{path}.{key}: {element!r} is not one of {sorted(allowed)}")


@pytest.mark.parametrize("stack", STACKS)
def test_every_input_is_a_documented_argument_with_a_documented_value(planned: dict[str, Planned], stack: str) -> None:
    checked: set[str] = set()
    problems: list[str] = []
    for resource in planned[stack].plan["resources"]:
        if not resource["type"].startswith("cloudflare:"):
            continue
        args_class = getattr(cloudflare, resource["type"].rsplit(":", 1)[-1] + "Args")
        walk(args_class, resource["inputs"], resource["urn"], checked, problems)
    assert problems == []
    assert EXPECTED_ENUMS <= checked


def test_the_walk_catches_an_undocumented_value_and_an_unknown_key() -> None:
    checked: set[str] = set()
    problems: list[str] = []
    bad = {"scriptName": "x", "bindings": [{"name": "DB", "type": "d1_database", "id": "1"}], "mainModul": "x.js"}
    walk(cloudflare.WorkersScriptArgs, bad, "w", checked, problems)
    assert problems == [
        "w.bindings[0].type: 'd1_database' is not one of " + repr(sorted(documented_params(cloudflare.WorkersScriptBindingArgs)["type"][1])),
        "w.mainModul: not an argument of WorkersScriptArgs",
    ]


def test_the_sdk_args_classes_reject_an_unknown_key_at_construction() -> None:
    with pytest.raises(TypeError, match="unexpected keyword argument 'namespaceid'"):
        cloudflare.WorkersScriptBindingArgs(name="CACHE", type="kv_namespace", namespaceid="x")
    with pytest.raises(TypeError, match="unexpected keyword argument 'max_age'"):
        cloudflare.R2BucketCorsRuleArgs(allowed=cloudflare.R2BucketCorsRuleAllowedArgs(methods=["GET"], origins=["https://a.b"]), max_age=1)
