"""Entry point of the pack for `pulumi preview --policy-pack policies` (the engine runs this file).

It only builds the policies and hands them to PolicyPack, which serves them to the engine
and never returns; everything else lives in importable modules.
"""

import sys
from pathlib import Path

from pulumi_policy import PolicyPack

# The engine runs this file with the pack folder on sys.path; the pack imports itself as
# `policies` and reads the catalog's waivers through `stacks`, both under the project root.
PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from policies.framework import RunContext  # noqa: E402
from policies.pack import PACK_ENFORCEMENT, PACK_NAME, load_waivers, pack_policies  # noqa: E402

PolicyPack(
    name=PACK_NAME,
    description="The conventions of the blaze-infra Cloudflare fleet (policies/RULES.md).",
    enforcement_level=PACK_ENFORCEMENT,
    policies=pack_policies(RunContext(waivers=load_waivers(PROJECT_ROOT))),
)
