"""blaze-worker-no-plaintext-secrets: ordinary vars and marked secrets pass; credentials in plain text do not."""

from __future__ import annotations

import pytest
from pulumi_policy import Secret

from policies import resource_types as types
from policies.rules.plaintext_secrets import RULE
from tests.policies.sdk import engine_options, validate_resource


def script(*bindings: dict) -> dict:
    return {"scriptName": "blaze-x", "bindings": list(bindings)}


PASSING = [
    ("ordinary var", {"name": "SPORT", "type": "plain_text", "text": "mlb"}),
    ("public upstream url", {"name": "UPSTREAM_URL", "type": "plain_text", "text": "https://api.sportsdata.io/v3/mlb"}),
    ("secret_text holding a Pulumi secret", {"name": "UPLOAD_TOKEN", "type": "secret_text", "text": Secret("[secret]")}),
    ("kv binding named like a key", {"name": "API_KEYS", "type": "kv_namespace", "namespaceId": "abc"}),
]
VIOLATING = [
    ("var named like a token", {"name": "ADMIN_TOKEN", "type": "plain_text", "text": "x"}, "named like a secret"),
    ("camelCase api key", {"name": "apiKey", "type": "plain_text", "text": "x"}, "named like a secret"),
    ("url with a password", {"name": "FEED_URL", "type": "plain_text", "text": "https://u:p@feeds.example/x"},
     "a URL with a user or password"),
    ("url with a key in its query", {"name": "FEED_URL", "type": "plain_text", "text": "https://x.example/?api_key=1"},
     "a credential in its query"),
    ("a private key", {"name": "CERT", "type": "plain_text", "text": "-----BEGIN RSA PRIVATE KEY-----\nMII"},
     "a private key"),
    ("secret_text holding a plain value", {"name": "UPLOAD_TOKEN", "type": "secret_text", "text": "hunter2hunter2"},
     "not a Pulumi secret"),
]


@pytest.mark.parametrize("binding", [c[1] for c in PASSING], ids=[c[0] for c in PASSING])
def test_passing(binding: dict) -> None:
    assert validate_resource(RULE, types.WORKERS_SCRIPT, script(binding)) == []


@pytest.mark.parametrize(("binding", "expected"), [c[1:] for c in VIOLATING], ids=[c[0] for c in VIOLATING])
def test_violating(binding: dict, expected: str) -> None:
    messages = validate_resource(RULE, types.WORKERS_SCRIPT, script(binding))
    assert len(messages) == 1 and expected in messages[0], messages


def test_in_the_engine_secret_text_values_arrive_unwrapped_and_are_not_judged() -> None:
    binding = {"name": "UPLOAD_TOKEN", "type": "secret_text", "text": "the-decrypted-value"}
    assert validate_resource(RULE, types.WORKERS_SCRIPT, script(binding), opts=engine_options()) == []


def test_in_the_engine_plain_text_credentials_are_still_reported() -> None:
    binding = {"name": "DB_PASSWORD", "type": "plain_text", "text": "x"}
    assert len(validate_resource(RULE, types.WORKERS_SCRIPT, script(binding), opts=engine_options())) == 1
