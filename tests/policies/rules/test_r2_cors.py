"""blaze-r2-cors-restricted: narrow CORS passes; wide or unencrypted CORS is reported."""

from __future__ import annotations

import pytest

from policies import resource_types as types
from policies.rules.r2_cors import RULE
from tests.policies.sdk import validate_resource

PROD = {"allowedMethods": ["GET", "HEAD", "PUT", "POST"], "allowWildcardOrigin": False}
STAGING = {"allowedMethods": ["GET", "HEAD", "PUT", "POST"], "allowWildcardOrigin": True}


def cors(origins: list[str], methods: list[str] | None = None, max_age: int | None = 3600) -> dict:
    rule = {"id": "browser-access", "allowed": {"origins": origins, "methods": methods or ["GET", "PUT"]}}
    if max_age is not None:
        rule["maxAgeSeconds"] = max_age
    return {"bucketName": "blaze-media", "rules": [rule]}


PASSING = [
    ("https origins in prod", cors(["https://blazesportsintel.com"]), PROD),
    ("wildcard where the stack allows it", cors(["https://*.blazesportsintel.com"]), STAGING),
]
VIOLATING = [
    ("http origin", cors(["http://blazesportsintel.com"]), PROD, "is not an https origin"),
    ("wildcard in prod", cors(["*"]), PROD, "origin '*' is a wildcard"),
    ("DELETE method", cors(["https://a.example"], ["GET", "DELETE"]), PROD, "methods DELETE go beyond"),
    ("no max age", cors(["https://a.example"], max_age=None), PROD, "no maxAgeSeconds"),
    ("no rules at all", {"bucketName": "blaze-media", "rules": []}, PROD, "has no CORS rules"),
]


@pytest.mark.parametrize(("props", "config"), [c[1:] for c in PASSING], ids=[c[0] for c in PASSING])
def test_passing(props: dict, config: dict) -> None:
    assert validate_resource(RULE, types.R2_BUCKET_CORS, props, config) == []


@pytest.mark.parametrize(("props", "config", "expected"), [c[1:] for c in VIOLATING], ids=[c[0] for c in VIOLATING])
def test_violating(props: dict, config: dict, expected: str) -> None:
    messages = validate_resource(RULE, types.R2_BUCKET_CORS, props, config)
    assert len(messages) == 1 and expected in messages[0], messages
