"""`make adopt STACK=prod` against a whole live account, as a user runs it (one process).

The account is the loopback Cloudflare v4 API of the tests (local/cloudflare_api/) with
every resource both stacks declare, so the numbers count this machine's work (the SDK,
paging, matching, the baselines' schema comparison) and loopback round trips, not
Cloudflare's latency: with the real API each of the requests costs a round trip more.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from types import SimpleNamespace

from bench.process import run_process
from local.cloudflare_api import TOKEN, CloudflareApi
from local.cloudflare_api.hand_made import STACKS, live_account
from stacks import PROJECT_ROOT


def measure_adopt(runs: int) -> list[str]:
    python = sys.executable
    plans = {}
    for stack in STACKS:  # what `make plans` writes first, staging before prod
        subprocess.run([python, "-m", "local.plan", stack], cwd=PROJECT_ROOT, check=True, capture_output=True)
        plans[stack] = SimpleNamespace(plan=json.loads((PROJECT_ROOT / "build" / "plan" / f"{stack}.json").read_text()))
    account = live_account(plans)  # type: ignore[arg-type]  # only .plan is read
    argv = [python, "-m", "operations.adopt", "prod"]
    saved = {k: os.environ.get(k) for k in ("CLOUDFLARE_API_TOKEN", "CLOUDFLARE_BASE_URL")}
    with CloudflareApi(account) as api:
        os.environ.update(CLOUDFLARE_API_TOKEN=TOKEN, CLOUDFLARE_BASE_URL=api.base_url)
        try:
            run_process(argv, PROJECT_ROOT)  # untimed: bytecode compiled
            api.requests.clear()
            samples = [run_process(argv, PROJECT_ROOT) for _ in range(runs)]
            requests = len(api.requests) // runs
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
    document = json.loads((PROJECT_ROOT / "build" / "adopt" / "prod.json").read_text())
    imported = sum("id" in entry for entry in document["resources"])
    seconds = statistics.median(s.seconds for s in samples)
    peak = statistics.median(s.peak_mib for s in samples)
    return [
        "## Adopting the live account (`make adopt STACK=prod`, operations/adopt.py)",
        "",
        f"One process per run, against a loopback account with every resource both stacks declare: "
        f"{requests} requests (lists to their last page, each Worker's schedules, two reads per database), "
        f"{imported} import ids written; median of {runs} runs.",
        "",
        "| measure | value |",
        "|---|---|",
        f"| wall time | {seconds:.2f} s |",
        f"| peak memory | {peak:.0f} MiB |",
        "",
    ]
