"""Checking whole plan documents with the pack, as `make policy` does, with the date pinned."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from policies.check import Outcome, PlanDocument, check_plan
from policies.config import read_pack_config
from policies.framework import Waivers
from policies.pack import pack_policies
from tests.policies.sdk import context

PACK_DIR = Path(__file__).resolve().parents[2] / "policies"


def check(plan: dict[str, Any], stack: str, waivers: Waivers | None = None) -> Outcome:
    run = context(waivers)
    settings = read_pack_config(PACK_DIR / f"{stack}.json", f"policies/{stack}.json", pack_policies(run))
    return check_plan(PlanDocument.model_validate(plan), settings, run)


def editable(plan: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of a plan document, as it reads back from its JSON file."""
    return json.loads(json.dumps(copy.deepcopy(plan)))


def find(plan: dict[str, Any], name: str) -> dict[str, Any]:
    return next(r for r in plan["resources"] if r["name"] == name)
