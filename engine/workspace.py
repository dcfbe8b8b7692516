"""The project on the real engine, offline: the pinned Pulumi CLI on a local file backend,
the program run in this process by the Python Automation API's language server, the
Cloudflare provider bridged from the Terraform provider, and the policy pack as an analyzer.

Nothing stands in for the engine; four things differ from a user's machine (README, "The
real engine"): the language host (the CLI is started with `--client`, as the Automation API
runs an inline program: the program is `__main__.py`, unmodified, run with runpy), the
Cloudflare provider (built here from pulumi-terraform-bridge over terraform-provider-cloudflare
v5.24.0), the policy pack (`policies/analyzer`, an executable analyzer plugin over the same
code and config), and the dynamic provider's launcher (`engine/plugins/pulumi-resource-pulumi-python`,
what the Python language host ships, on PATH).

A workspace keeps, under its folder: `home/` (PULUMI_HOME, the Cloudflare plugin installed
with `pulumi plugin install`), `state/` (the file backend), and `stacks/` (a scratch project
holding each stack's config: the committed `Pulumi.<stack>.yaml` with a throwaway salt and
placeholders for the secrets it lacks; the committed file is never written).
"""

from __future__ import annotations

import json
import logging
import os
import runpy
import shutil
import subprocess
import sys
from concurrent import futures
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

from engine import build

ROOT = Path(__file__).resolve().parent.parent
PROJECT = "blaze-infra"
# Self-managed backends take only this organisation (README, "Deploying for real").
ORGANIZATION = "organization"
# A passphrase for state that holds only placeholders: never a real secret.
PASSPHRASE = "blaze-infra throwaway passphrase: previews and loopback deploys only"
# A token of the form the provider accepts (^[0-9A-Za-z_-]{40,80}$); it opens nothing.
PLACEHOLDER_TOKEN = "placeholder_token_for_offline_previews_00"
PLUGINS = ROOT / "engine" / "plugins"
ANALYZER = ROOT / "policies" / "analyzer"
CLOUDFLARE_VERSION = "6.23.1"


class EngineRunError(RuntimeError):
    """A command of the CLI failed; `done` is what it printed."""

    def __init__(self, message: str, done: subprocess.CompletedProcess[str] | None = None) -> None:
        super().__init__(message)
        self.done = done


def stack_name(stack: str) -> str:
    return f"{ORGANIZATION}/{PROJECT}/{stack}"


def placeholder(key: str) -> str:
    """A stand-in for a secret the stack file lacks, of the shape its reader expects."""
    short = key.split(":", 1)[-1]
    return f"https://placeholder.invalid/{short}" if short.endswith("Url") else f"placeholder-{short}"


@dataclass
class Workspace:
    """One backend and PULUMI_HOME under `folder`, for the project at `root`."""

    folder: Path
    root: Path = ROOT
    # Added to every command's environment (a loopback API's URL and token, BLAZE_* settings).
    environ: Mapping[str, str] = field(default_factory=dict)
    binaries: Mapping[str, Path] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.folder = self.folder.resolve()
        if not self.binaries:
            self.binaries = build.ensure_all()
        self.home.mkdir(parents=True, exist_ok=True)
        self.state.mkdir(parents=True, exist_ok=True)
        self.stacks.mkdir(parents=True, exist_ok=True)
        self._scratch_project()
        build.install_provider(self.home, self.binaries["pulumi"], self.binaries["pulumi-resource-cloudflare"])

    def _scratch_project(self, runtime: dict[str, Any] | None = None) -> None:
        """The scratch project's Pulumi.yaml: the project's own, or with another runtime."""
        from ruamel.yaml import YAML

        yaml = YAML()
        project = yaml.load((self.root / "Pulumi.yaml").read_text())
        if runtime is not None:
            project["runtime"] = runtime
        with (self.stacks / "Pulumi.yaml").open("w") as out:
            yaml.dump(project, out)

    @property
    def home(self) -> Path:
        return self.folder / "home"

    @property
    def state(self) -> Path:
        return self.folder / "state"

    @property
    def stacks(self) -> Path:
        return self.folder / "stacks"

    def config_file(self, stack: str) -> Path:
        return self.stacks / f"Pulumi.{stack}.yaml"

    def environment(self) -> dict[str, str]:
        keep = {k: v for k, v in os.environ.items() if not k.startswith(("PULUMI_", "CLOUDFLARE_"))}
        keep["PATH"] = os.pathsep.join([str(PLUGINS), str(self.binaries["pulumi"].parent), keep.get("PATH", "")])
        return keep | {
            "PULUMI_HOME": str(self.home),
            "PULUMI_BACKEND_URL": self.state.as_uri(),
            "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
            # What the Automation API sets too: it enables `--event-log`.
            "PULUMI_DEBUG_COMMANDS": "true",
            "CLOUDFLARE_API_TOKEN": PLACEHOLDER_TOKEN,
        } | dict(self.environ)

    def pulumi(self, *args: str, cwd: Path | None = None, check: bool = True, capture: bool = True,
               timeout: float = 1800, language: bool = False) -> subprocess.CompletedProcess[str]:
        """The CLI with this workspace's environment, without the program (state, config, refresh,
        destroy, import): in the scratch project, whose stack files are the scratch configs, so
        no command can write a committed stack file. `language`: for a command that asks the
        language host for the program's plugins without running it (`import`), the scratch
        project's runtime is the Automation API's language server (runtime `client`, the one
        `--client` selects), since no Python language host exists here."""
        if language:
            with language_server(self.root / "__main__.py") as address:
                self._scratch_project({"name": "client", "options": {"address": address}})
                try:
                    return self.pulumi(*args, cwd=cwd, check=check, capture=capture, timeout=timeout)
                finally:
                    self._scratch_project()
        environment = self.environment()
        if args[:1] == ("preview",) or "--preview-only" in args:
            # The file backend gives a preview a snapshot manager too (its persister discards
            # every write), and by default that manager serialises the whole snapshot, secrets
            # re-encrypted, after every step: a preview's time and memory then grow with the
            # square of the stack (ten times the fleet: 2.5 GB in the CLI, 50 times the CPU).
            # Skipping the checkpoints a preview never writes changes nothing else (Pulumi Cloud's
            # previews discard them too: the workflows set it as well); an `up`
            # keeps them, so an interrupted deploy still leaves its state behind.
            environment["PULUMI_SKIP_CHECKPOINTS"] = "true"
        done = subprocess.run(
            [str(self.binaries["pulumi"]), *args, "--non-interactive"], cwd=cwd or self.stacks, env=environment,
            text=True, capture_output=capture, timeout=timeout, check=False,
        )
        if check and done.returncode != 0:
            raise EngineRunError(f"pulumi {' '.join(args)} exited {done.returncode}", done)
        return done

    # --- stacks ----------------------------------------------------------------------

    def has_stack(self, stack: str) -> bool:
        return (self.state / ".pulumi" / "stacks" / PROJECT / f"{stack}.json").is_file()

    def prepare(self, stack: str) -> Path:
        """The stack in the backend and its scratch config: the committed file's settings, and
        placeholders for the secrets it lacks or that only the real stack's key decrypts."""
        from ruamel.yaml import YAML

        if not self.has_stack(stack) or not self.config_file(stack).is_file():
            self.config_file(stack).unlink(missing_ok=True)
            if self.has_stack(stack):
                self.pulumi("stack", "rm", "--yes", "--force", "-s", stack_name(stack))
            self.pulumi("stack", "init", stack_name(stack), "--secrets-provider", "passphrase")
        yaml = YAML()
        scratch = yaml.load(self.config_file(stack).read_text()) or {}
        source = self.root / f"Pulumi.{stack}.yaml"
        settings = (yaml.load(source.read_text()) or {}).get("config") or {}
        scratch["config"] = {k: v for k, v in settings.items() if not (isinstance(v, dict) and "secure" in v)}
        with self.config_file(stack).open("w") as out:
            yaml.dump(scratch, out)
        missing = self._secrets_to_fill(stack)
        if missing:
            pairs = [arg for key in missing for arg in ("--secret", f"{key}={placeholder(key)}")]
            self.pulumi("config", "set-all", *pairs, "-s", stack_name(stack))
        return self.config_file(stack)

    def _secrets_to_fill(self, stack: str) -> list[str]:
        """Every secret the program will read that the scratch config cannot give it."""
        from stacks import secret_users
        from stacks.catalog import load_catalog
        from stacks.stack_file import read_stack_config, stack_settings

        config = read_stack_config(self.root / f"Pulumi.{stack}.yaml", f"Pulumi.{stack}.yaml")
        settings = stack_settings(stack, self.root)
        keys = sorted(f"{PROJECT}:{key}" for key in secret_users(load_catalog(self.root), settings))
        return [key for key in keys if key not in config.values or key in config.secret_keys]

    def set_outputs(self, stack: str, outputs: Mapping[str, Any]) -> None:
        """Give `stack` exactly these outputs, as `pulumi stack import` takes them."""
        exported = json.loads(self.pulumi("stack", "export", "-s", stack_name(stack)).stdout)
        deployment = exported.setdefault("deployment", {})
        deployment["resources"] = [{
            "urn": f"urn:pulumi:{stack}::{PROJECT}::pulumi:pulumi:Stack::{PROJECT}-{stack}",
            "custom": False, "type": "pulumi:pulumi:Stack", "outputs": dict(outputs),
        }]
        path = self.folder / f"{stack}.deployment.json"
        path.write_text(json.dumps(exported))
        self.pulumi("stack", "import", "-s", stack_name(stack), "--file", str(path))

    # --- the program -----------------------------------------------------------------

    def run(self, command: str, stack: str, *args: str, events: Path | None = None, policy: bool = False,
            check: bool = True, capture: bool = False, timeout: float = 3600, program: Path | None = None,
            ) -> subprocess.CompletedProcess[str]:
        """`pulumi <command>` of a stack that runs the program (preview, up, destroy with it):
        the CLI talks to this process's language server, which runs `__main__.py` (or `program`)."""
        argv = [command, "-s", stack_name(stack), "--config-file", str(self.config_file(stack)), *args]
        if policy:
            argv += ["--policy-pack", str(ANALYZER), "--policy-pack-config", str(ROOT / "policies" / f"{stack}.json")]
        if events is not None:
            events.parent.mkdir(parents=True, exist_ok=True)
            events.unlink(missing_ok=True)
            argv += ["--event-log", str(events)]
        with language_server(program or self.root / "__main__.py") as address:
            argv += [f"--client={address}", "--exec-kind", "auto.inline"]
            done = self.pulumi(*argv, cwd=self.root, check=False, capture=capture, timeout=timeout)
        if check and done.returncode != 0:
            raise EngineRunError(f"pulumi {command} -s {stack} exited {done.returncode}", done)
        return done

    def digest(self, events: Path) -> dict[str, Any]:
        """The document `pulumi preview --json` prints, from a preview's event log."""
        done = subprocess.run([str(self.binaries["previewdigest"]), str(events)], text=True, capture_output=True, check=False)
        if done.returncode != 0:
            raise EngineRunError(f"previewdigest {events} exited {done.returncode}: {done.stderr.strip()}")
        return json.loads(done.stdout)


@contextmanager
def language_server(program: Path) -> Iterator[str]:
    """The Automation API's LanguageRuntime server, running `program` as its inline program
    (the unmodified `__main__.py`, with runpy, as `python __main__.py` would)."""
    import grpc
    from pulumi.automation._server import LanguageServer
    from pulumi.runtime.proto import language_pb2_grpc

    def inline() -> None:
        runpy.run_path(str(program), run_name="__main__")

    # When the engine stops a run (the program failed, a refusal), the SDK's server logs a
    # debug line to an engine that is gone and grpc prints that as a traceback: noise after
    # the real error, which the CLI has already shown.
    logging.getLogger("grpc._server").setLevel(logging.CRITICAL)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4), options=[("grpc.max_receive_message_length", 1 << 30)])
    language_pb2_grpc.add_LanguageRuntimeServicer_to_server(LanguageServer(inline), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.stop(0)


__all__: Sequence[str] = ["EngineRunError", "Workspace", "language_server", "placeholder", "stack_name"]
