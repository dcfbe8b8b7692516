"""Every Worker deploys a bundle file with its sha256, never inline content."""

from __future__ import annotations

import re
from typing import Iterator

from pulumi_policy import ResourceValidationArgs, Severity

from policies import resource_types as types
from policies.framework import NoConfig, ResourceRule, RuleInfo, RunContext, plain

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def check(args: ResourceValidationArgs, config: NoConfig, context: RunContext) -> Iterator[str]:
    if plain(args.props.get("content")) is not None:
        yield "uploads inline content: a preview cannot tell a code change from none, and the state holds the code"
    if not plain(args.props.get("contentFile")):
        yield "names no contentFile (the bundle built by the program)"
    digest = plain(args.props.get("contentSha256"))
    if not isinstance(digest, str) or not _SHA256.match(digest):
        yield f"contentSha256 {digest!r} is not the sha256 of the bundle (64 lowercase hex digits)"


RULE = ResourceRule(
    info=RuleInfo(
        id="blaze-worker-bundle-digest",
        title="Workers deploy a bundle by digest",
        description="Every Worker deploys a bundle file (contentFile) with its sha256, never inline content.",
        severity=Severity.HIGH,
        remediation=(
            "Deploy through components/worker.py, which passes the family bundle's content_file, content_sha256 "
            "and main_module; do not pass `content`."
        ),
        docs="https://www.pulumi.com/registry/packages/cloudflare/api-docs/workersscript/",
        tags=("workers", "deploys"),
    ),
    config=NoConfig,
    resource_types=(types.WORKERS_SCRIPT,),
    check=check,
)
