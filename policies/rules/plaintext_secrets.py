"""No secret in a plain_text binding; every secret_text value is a Pulumi secret."""

from __future__ import annotations

import re
from typing import Iterator

from pulumi_policy import ResourceValidationArgs, Severity

from policies import resource_types as types
from policies.framework import NoConfig, ResourceRule, RuleInfo, RunContext, fields, is_secret, items, observed, plain

# Words of a binding name (split at underscores and case changes) that name a credential.
_SECRET_WORDS = frozenset(
    {"SECRET", "SECRETS", "TOKEN", "TOKENS", "KEY", "KEYS", "APIKEY", "PASSWORD", "PASSWD", "PWD",
     "CREDENTIAL", "CREDENTIALS", "PRIVATE", "DSN", "SIGNATURE"}
)
_NAME_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")

# Values that carry a credential whatever their binding is called.
_SECRET_VALUES = (
    ("a URL with a user or password", re.compile(r"^[a-z][a-z0-9+.-]*://[^/?#@\s]+@", re.IGNORECASE)),
    ("a URL with a credential in its query",
     re.compile(r"[?&](api[_-]?key|key|token|access[_-]?token|secret|password|sig|signature)=", re.IGNORECASE)),
    ("a private key", re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")),
    ("an AWS access key", re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("a GitHub token", re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b")),
    ("a Slack token", re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}")),
    ("a Stripe key", re.compile(r"\b[sr]k_(live|test)_[A-Za-z0-9]{16,}")),
    ("a JSON Web Token", re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.")),
)


def secret_looking_name(name: str) -> bool:
    return any(word.upper() in _SECRET_WORDS for word in _NAME_WORDS.findall(name))


def secret_looking_value(value: str) -> str | None:
    """What kind of credential `value` looks like, or None."""
    return next((kind for kind, pattern in _SECRET_VALUES if pattern.search(value)), None)


def check(args: ResourceValidationArgs, config: NoConfig, context: RunContext) -> Iterator[str]:
    secrets_visible = observed(args.opts) is not None
    for binding in map(fields, items(args.props.get("bindings"))):
        kind, name, text = binding.get("type"), str(binding.get("name")), binding.get("text")
        if kind == "plain_text":
            if secret_looking_name(name):
                yield f"plain_text binding {name} is named like a secret: make it a secret_text binding"
            kind_of_secret = secret_looking_value(str(plain(text)))
            if kind_of_secret:
                yield f"plain_text binding {name} holds {kind_of_secret}: make it a secret_text binding"
        elif kind == "secret_text" and secrets_visible and not is_secret(text):
            yield f"secret_text binding {name} holds a plain value, not a Pulumi secret: it lands unencrypted in the state"


RULE = ResourceRule(
    info=RuleInfo(
        id="blaze-worker-no-plaintext-secrets",
        title="Secrets stay secret",
        description="No plain_text binding is named like or holds a credential; every secret_text value is a Pulumi secret.",
        severity=Severity.CRITICAL,
        remediation=(
            "Move the value to the stack's secrets (pulumi config set --secret blaze-infra:<key>) and list it "
            "under the Worker's `secrets:` in stacks/catalog/workers.yaml; rotate a credential that was committed."
        ),
        docs="https://developers.cloudflare.com/workers/configuration/secrets/",
        tags=("secrets", "security"),
    ),
    config=NoConfig,
    resource_types=(types.WORKERS_SCRIPT,),
    check=check,
)
