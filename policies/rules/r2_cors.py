"""R2 CORS: https origins only, no wildcard where the stack forbids it, few methods, a max age."""

from __future__ import annotations

from typing import Annotated, Iterator, Literal

from pulumi_policy import ResourceValidationArgs, Severity
from pydantic import Field

from policies import resource_types as types
from policies.framework import ResourceRule, RuleConfig, RuleInfo, RunContext, fields, items, plain

Method = Literal["GET", "HEAD", "PUT", "POST", "DELETE"]


class Config(RuleConfig):
    allowed_methods: Annotated[
        list[Method],
        Field(min_length=1, description="Methods a browser may use: what uploads and downloads need, nothing more"),
    ]
    allow_wildcard_origin: Annotated[
        bool, Field(description="Whether an origin may be '*' or contain a wildcard (never in prod)")
    ]


def _origin_problem(origin: str, config: Config) -> str | None:
    if "*" in origin:
        return None if config.allow_wildcard_origin else "is a wildcard, which this stack does not allow"
    if not origin.startswith("https://"):
        return "is not an https origin: the page and its uploads would travel unencrypted"
    return None


def check(args: ResourceValidationArgs, config: Config, context: RunContext) -> Iterator[str]:
    rules = items(args.props.get("rules"))
    if not rules:
        yield "has no CORS rules"
    for index, rule in enumerate(map(fields, rules)):
        label = f"rule {plain(rule.get('id')) or index}"
        allowed = fields(rule.get("allowed"))
        for origin in map(plain, items(allowed.get("origins"))):
            problem = _origin_problem(str(origin), config)
            if problem:
                yield f"{label}: origin {origin!r} {problem}"
        extra = sorted(set(map(plain, items(allowed.get("methods")))) - set(config.allowed_methods))
        if extra:
            yield f"{label}: methods {', '.join(extra)} go beyond what uploads and downloads need ({', '.join(config.allowed_methods)})"
        if plain(rule.get("maxAgeSeconds")) is None:
            yield f"{label}: no maxAgeSeconds, so browsers repeat the preflight request before every call"


RULE = ResourceRule(
    info=RuleInfo(
        id="blaze-r2-cors-restricted",
        title="R2 CORS is narrow",
        description="R2 CORS rules allow only https origins (no wildcard where the stack forbids it), only the methods uploads and downloads need, and set a max age.",
        severity=Severity.HIGH,
        remediation=(
            "List the stack's exact https origins under corsOrigins in Pulumi.<stack>.yaml, keep the bucket's "
            "cors.methods in stacks/catalog/buckets.yaml to the allowed ones, and set cors.max_age_seconds."
        ),
        docs="https://developers.cloudflare.com/r2/buckets/cors/",
        tags=("r2", "cors", "security"),
    ),
    config=Config,
    resource_types=(types.R2_BUCKET_CORS,),
    check=check,
)
