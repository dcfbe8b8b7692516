"""blaze-naming-stack-pattern: passing and violating names, per stack pattern."""

from __future__ import annotations

import pytest

from policies import resource_types as types
from policies.rules.naming import RULE
from tests.policies.sdk import validate_resource

PROD = {"namePattern": r"^blaze(-[a-z0-9]+)+(?<!-staging)$"}
STAGING = {"namePattern": r"^blaze(-[a-z0-9]+)+-staging$"}

PASSING = [
    ("prod worker", types.WORKERS_SCRIPT, {"scriptName": "blaze-gateway"}, PROD),
    ("prod kv title", types.KV_NAMESPACE, {"title": "blaze-mlb-cache"}, PROD),
    ("staging bucket", types.R2_BUCKET, {"name": "blaze-media-staging"}, STAGING),
    ("staging alert policy", types.NOTIFICATION_POLICY, {"name": "blaze-certificates-staging"}, STAGING),
]
VIOLATING = [
    ("staging name in prod", types.D1_DATABASE, {"name": "blaze-media-staging"}, PROD, "blaze-media-staging"),
    ("prod name in staging", types.WORKERS_SCRIPT, {"scriptName": "blaze-gateway"}, STAGING, "blaze-gateway"),
    ("no fleet prefix", types.QUEUE, {"queueName": "jobs"}, PROD, "queueName 'jobs'"),
    ("name missing", types.NOTIFICATION_WEBHOOKS, {}, PROD, "name None"),
]


@pytest.mark.parametrize(("resource_type", "props", "config"), [c[1:] for c in PASSING], ids=[c[0] for c in PASSING])
def test_passing(resource_type: str, props: dict, config: dict) -> None:
    assert validate_resource(RULE, resource_type, props, config) == []


@pytest.mark.parametrize(
    ("resource_type", "props", "config", "expected"), [c[1:] for c in VIOLATING], ids=[c[0] for c in VIOLATING]
)
def test_violating(resource_type: str, props: dict, config: dict, expected: str) -> None:
    messages = validate_resource(RULE, resource_type, props, config)
    assert len(messages) == 1 and expected in messages[0], messages


def test_resources_without_a_name_of_their_own_are_not_judged() -> None:
    assert validate_resource(RULE, types.R2_BUCKET_CORS, {"bucketName": "elsewhere"}, PROD) == []


def test_an_invalid_pattern_in_the_config_is_an_error_naming_the_property() -> None:
    with pytest.raises(ValueError, match=r"blaze-naming-stack-pattern: policy config namePattern: .*not a regular"):
        validate_resource(RULE, types.R2_BUCKET, {"name": "blaze-x"}, {"namePattern": "(unclosed"})
