"""The Workers' TypeScript type-checks in strict mode against the Workers runtime's types."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

TSC = ROOT / "node_modules" / "typescript" / "bin" / "tsc"


def test_workers_type_check_in_strict_mode() -> None:
    node = Path(sys.executable).parent / "node"
    result = subprocess.run(
        [str(node), str(TSC), "--noEmit", "-p", "workers/tsconfig.json"],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_type_check_stays_strict() -> None:
    options = json.loads((ROOT / "workers" / "tsconfig.json").read_text())["compilerOptions"]
    assert options["strict"] is True and options["noUncheckedIndexedAccess"] is True
    assert options["types"] == ["@cloudflare/workers-types"]
