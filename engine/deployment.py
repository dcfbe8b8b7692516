"""A project deployed by the real engine to a loopback Cloudflare account: the lifecycle tests'
harness, outside tests/ so that a benchmark can deploy the same way.

The program, the CLI, the bridged provider, the pack and the migration step are the real
ones (engine/workspace.py); only the Cloudflare API is the loopback one (local/cloudflare_api),
reached through `CLOUDFLARE_BASE_URL` (the provider) and `CLOUDFLARE_API_BASE_URL` (wrangler
and the D1 API), with the loopback token.
"""

from __future__ import annotations

import json
import subprocess
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cloudflare

from engine.workspace import Workspace, stack_name
from local.cloudflare_api import TOKEN, Account, CloudflareApi, Zone
from local.project import ProjectCopy, copy_project
from stacks import PROJECT_ROOT
from stacks.stack_file import read_stack_config

STACKS = ("staging", "prod")


def fleet_account(account: Account | None = None) -> CloudflareApi:
    """The loopback API of the account and zones both stack files name (empty unless given)."""
    config = read_stack_config(PROJECT_ROOT / "Pulumi.staging.yaml", "Pulumi.staging.yaml").values
    zones = json.loads(config["blaze-infra:zones"])
    return CloudflareApi(account or Account(config["blaze-infra:accountId"], zones=[Zone(z["id"], z["name"]) for z in zones.values()]))


@dataclass(frozen=True)
class Ran:
    done: subprocess.CompletedProcess[str]
    events: Path

    @property
    def output(self) -> str:
        return self.done.stdout + self.done.stderr


@dataclass
class Deployment:
    """A project copy, its workspace (backend and PULUMI_HOME) and the account it deploys to."""

    project: ProjectCopy
    workspace: Workspace
    api: CloudflareApi
    logs: Path

    @classmethod
    def start(cls, folder: Path, api: CloudflareApi, binaries: dict[str, Path]) -> Deployment:
        project = copy_project(folder / "project")
        environ = {"CLOUDFLARE_API_TOKEN": TOKEN, "CLOUDFLARE_BASE_URL": api.base_url, "CLOUDFLARE_API_BASE_URL": api.base_url}
        workspace = Workspace(folder / "engine", root=project.root, environ=environ, binaries=binaries)
        for stack in STACKS:
            workspace.prepare(stack)
        return cls(project, workspace, api, folder / "logs")

    def up(self, stack: str, *args: str, check: bool = True) -> Ran:
        """`pulumi up` as the deploy workflow runs it (prod with the pack, mandatory)."""
        return self.program("up", stack, "--yes", "--skip-preview", *args, policy=stack == "prod", check=check)

    def program(self, command: str, stack: str, *args: str, policy: bool = False, check: bool = True) -> Ran:
        """A command that runs the program, with its event log kept."""
        self.logs.mkdir(parents=True, exist_ok=True)
        log = self.logs / f"{len(list(self.logs.iterdir())):03d}-{stack}-{command}.jsonl"
        done = self.workspace.run(command, stack, *args, events=log, policy=policy, check=False, capture=True)
        if check and done.returncode != 0:
            raise AssertionError(f"pulumi {command} -s {stack} exited {done.returncode}:\n{done.stdout[-6000:]}\n{done.stderr[-3000:]}")
        return Ran(done, log)

    def cli(self, *args: str, stack: str | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
        """A command that does not run the program (refresh, destroy, import, state, output)."""
        language = args[0] == "import"  # it asks the language host for the program's plugins
        done = self.workspace.pulumi(*args, *(["-s", stack_name(stack)] if stack else []), check=False, language=language)
        if check and done.returncode != 0:
            raise AssertionError(f"pulumi {' '.join(args)} exited {done.returncode}:\n{done.stdout[-6000:]}\n{done.stderr[-3000:]}")
        return done

    def outputs(self, stack: str) -> dict[str, Any]:
        return json.loads(self.cli("stack", "output", "--json", "--show-secrets", stack=stack).stdout)

    def resources(self, stack: str) -> list[dict[str, Any]]:
        exported = json.loads(self.cli("stack", "export", stack=stack).stdout)
        return exported["deployment"].get("resources") or []


def events(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def changed_outputs(path: Path) -> dict[str, set[str]]:
    """From a refresh's event log: resource name -> the outputs the refresh changed."""
    found: dict[str, set[str]] = {}
    for event in events(path):
        metadata = (event.get("resOutputsEvent") or {}).get("metadata")
        if not metadata or metadata["op"] not in ("update", "delete"):
            continue
        old, new = metadata["old"]["outputs"], (metadata.get("new") or {}).get("outputs") or {}
        keys = {k for k in set(old) | set(new) if old.get(k) != new.get(k) and k != "__pulumi_raw_state_delta"}
        found[metadata["urn"].rsplit("::", 1)[-1]] = keys if metadata["op"] == "update" else {"(deleted)"}
    return found


def dashboard(api: CloudflareApi) -> cloudflare.Cloudflare:
    """Changes made by hand in the account: the official SDK, as the dashboard's API calls."""
    return cloudflare.Cloudflare(api_token=TOKEN, base_url=api.base_url, max_retries=0)


def upload_by_hand(api: CloudflareApi, account: str, name: str) -> None:
    """A Worker uploaded from the dashboard: one ES module, as multipart/form-data."""
    module = b"export default { fetch() { return new Response('made by hand'); } };\n"
    boundary = "handmadeboundary"
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="index.js"; filename="index.js"\r\n'
            "Content-Type: application/javascript+module\r\n\r\n").encode() + module
    body += (f'\r\n--{boundary}\r\nContent-Disposition: form-data; name="metadata"\r\nContent-Type: application/json\r\n\r\n'
             '{"main_module":"index.js","compatibility_date":"2026-07-15"}' f"\r\n--{boundary}--\r\n").encode()
    request = urllib.request.Request(f"{api.base_url}/accounts/{account}/workers/scripts/{name}", data=body, method="PUT", headers={
        "Authorization": f"Bearer {TOKEN}", "Content-Type": f"multipart/form-data; boundary={boundary}"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 200
