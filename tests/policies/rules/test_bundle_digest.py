"""blaze-worker-bundle-digest: a bundle file with its sha256 passes; inline or undigested code does not."""

from __future__ import annotations

import pytest

from policies import resource_types as types
from policies.rules.bundle_digest import RULE
from tests.policies.sdk import validate_resource

DIGEST = "d494aa599c933d65f9557c7c2279efb1a9a3a68301962b7a51449fc5f9da25d0"
BUNDLED = {"scriptName": "blaze-backup", "contentFile": "build/workers/backup.js", "contentSha256": DIGEST}


def test_passing() -> None:
    assert validate_resource(RULE, types.WORKERS_SCRIPT, BUNDLED) == []


@pytest.mark.parametrize(
    ("props", "expected"),
    [
        ({**BUNDLED, "content": "export default {}"}, "uploads inline content"),
        ({**BUNDLED, "contentFile": ""}, "names no contentFile"),
        ({**BUNDLED, "contentSha256": DIGEST.upper()}, "is not the sha256"),
        ({k: v for k, v in BUNDLED.items() if k != "contentSha256"}, "contentSha256 None"),
    ],
    ids=["inline content", "no file", "digest not lowercase hex", "no digest"],
)
def test_violating(props: dict, expected: str) -> None:
    messages = validate_resource(RULE, types.WORKERS_SCRIPT, props)
    assert len(messages) == 1 and expected in messages[0], messages
