"""blaze-data-protected: protected and retained data passes; anything less is reported."""

from __future__ import annotations

import pytest

from policies import resource_types as types
from policies.rules.data_protection import RULE
from tests.policies.sdk import engine_options, plan_options, validate_resource


@pytest.mark.parametrize("resource_type", types.DATA)
def test_passing_protected_and_retained(resource_type: str) -> None:
    opts = plan_options(protect=True, retain_on_delete=True)
    assert validate_resource(RULE, resource_type, {"name": "blaze-x"}, opts=opts) == []


@pytest.mark.parametrize(
    ("opts", "expected"),
    [
        (plan_options(protect=False, retain_on_delete=True), ["is not protected"]),
        (plan_options(protect=True, retain_on_delete=False), ["is not retained on delete"]),
        (plan_options(), ["is not protected", "is not retained on delete"]),
    ],
    ids=["unprotected", "not retained", "neither"],
)
def test_violating(opts: object, expected: list[str]) -> None:
    messages = validate_resource(RULE, types.D1_DATABASE, {"name": "blaze-x"}, opts=opts)
    assert [m.split(":")[0] for m in messages] == expected


def test_in_the_engine_only_protect_is_visible() -> None:
    assert validate_resource(RULE, types.R2_BUCKET, {"name": "blaze-x"}, opts=engine_options(protect=True)) == []
    assert len(validate_resource(RULE, types.R2_BUCKET, {"name": "blaze-x"}, opts=engine_options())) == 1
