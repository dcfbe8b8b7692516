"""The real engine's binaries, built from Go modules: `python -m engine.build [--print]`.

Each folder under `engine/` is a Go module of the project's own with a committed,
pinned `go.mod`/`go.sum` and no copied dependency code. Its binaries are built with the
machine's Go from the module proxy into a cache outside the checkout (see `cache_root`),
once per machine: the cache key is every input of the build (the module files, the build
recipe, the Go version), so a changed pin rebuilds and an unchanged one does not. Go's
own caches (`go env GOMODCACHE GOCACHE`) stay where they are and survive fresh clones.

Exit codes: 0 every binary is there (with --print, one `name path` line each); 1 a build
failed (Go's output says which module or version; a module the proxy refuses shows the
proxy's answer); 2 usage.
"""

from __future__ import annotations

import argparse
import filecmp
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

ROOT = Path(__file__).resolve().parent.parent
ENGINE = ROOT / "engine"
CACHE_VARIABLE = "BLAZE_ENGINE_CACHE"


class EngineError(RuntimeError):
    """A binary of the real engine could not be built."""


@dataclass(frozen=True)
class Binary:
    """One binary: the Go package it is built from and the module that pins it.

    With `inside`, the package is ours but must sit in that module's tree (it imports the
    module's internal/ packages): the pinned module is copied from Go's module cache and
    `engine/<module>/_upstream/` (which the go tool ignores) is added to the copy, which
    is then built as the main module: with upstream's go.mod and go.sum, or with the
    go.mod and go.sum in `_upstream/` when the package needs more than upstream requires.
    """

    name: str
    module: str  # folder under engine/
    package: str
    version_flag: str = ""  # `-X <symbol>=` takes the version of `versioned` from go.mod
    versioned: str = ""
    inside: str = ""

    def ldflags(self, requirements: Mapping[str, str]) -> str:
        flags = ["-s", "-w"]
        if self.version_flag:
            flags.append(f"-X {self.version_flag}={requirements[self.versioned]}")
        return " ".join(flags)


PULUMI_PKG = "github.com/pulumi/pulumi/pkg/v3"
CLOUDFLARE_TERRAFORM = "github.com/cloudflare/terraform-provider-cloudflare"
PULUMI_YAML = "github.com/pulumi/pulumi-yaml"
ACTIONLINT = "github.com/rhysd/actionlint"
PROVIDER = "cloudflare"  # the Pulumi package the provider plugin serves

BINARIES = (
    Binary("pulumi", "pulumi", f"{PULUMI_PKG}/cmd/pulumi", "github.com/pulumi/pulumi/sdk/v3/go/common/version.Version", PULUMI_PKG),
    Binary("venvcheck", "pulumi", "blaze-infra/engine/pulumi/venvcheck"),
    # The document `pulumi preview --json` prints, rendered by the CLI's own display code from
    # a preview's event log, so `make preview` shows the progress and still writes the JSON.
    Binary("previewdigest", "pulumi", "blaze-infra/engine/pulumi/previewdigest"),
    Binary("schemacheck", "cloudflare", "./cmd/blaze-schemacheck", inside=CLOUDFLARE_TERRAFORM),
    # The Cloudflare provider plugin: pulumi-cloudflare's own module is not served, so the
    # bridge is built over upstream's resources inside upstream's tree, with the bridge's pins.
    Binary("pulumi-resource-cloudflare", "provider", "./cmd/pulumi-resource-cloudflare", inside=CLOUDFLARE_TERRAFORM),
    # The YAML language host: no Python one is served (README "The real engine"), but with
    # this one the CLI runs real programs, so tests read the JSON it really prints.
    # pulumi-yaml v1.25.0 builds against its own pulumi pkg (v3.206.0), not v3.274.1.
    Binary("pulumi-language-yaml", "yaml", f"{PULUMI_YAML}/cmd/pulumi-language-yaml", f"{PULUMI_YAML}/pkg/version.Version", PULUMI_YAML),
    # The workflows' linter: actionlint's own command, told the inputs of the actions we pin.
    Binary("actionlint", "actionlint", "blaze-infra/engine/actionlint/pinned", f"{ACTIONLINT}.version", ACTIONLINT),
)


def requirements(module: str) -> dict[str, str]:
    """Module path -> version, as the module's go.mod requires (read by `go mod edit`)."""
    out = _go(["mod", "edit", "-json"], ENGINE / module)
    return {r["Path"]: r["Version"] for r in json.loads(out).get("Require") or []}


def cache_root(environ: Mapping[str, str] = os.environ) -> Path:
    if environ.get(CACHE_VARIABLE):
        return Path(environ[CACHE_VARIABLE])
    base = Path(environ["XDG_CACHE_HOME"]) if environ.get("XDG_CACHE_HOME") else Path.home() / ".cache"
    return base / "blaze-infra" / "engine"


def build_key(module: str) -> str:
    """Everything the module's binaries depend on: its files, the recipe, the Go version."""
    digest = hashlib.sha256()
    folder = ENGINE / module
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes() + b"\0")
    for binary in BINARIES:
        if binary.module == module:
            digest.update(repr(binary).encode())
    digest.update(_go(["env", "GOVERSION"], folder).encode())
    return digest.hexdigest()[:16]


def binary_dir(module: str, environ: Mapping[str, str] = os.environ) -> Path:
    return cache_root(environ) / f"{module}-{build_key(module)}" / "bin"


def ensure(module: str, environ: Mapping[str, str] = os.environ, log=sys.stderr) -> Path:
    """The folder with `module`'s binaries, built first if this machine lacks them."""
    target = binary_dir(module, environ)
    wanted = [b for b in BINARIES if b.module == module]
    if all((target / b.name).is_file() for b in wanted):
        return target
    pins = requirements(module)
    target.parent.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{module}-", dir=target.parent.parent))
    try:
        (staging / "bin").mkdir()
        for binary in wanted:
            where, label = ENGINE / module, f"engine/{module}"
            if binary.inside:
                where, label = _upstream_copy(module, binary.inside, pins[binary.inside], staging), f"{label} (in {binary.inside})"
            print(f"engine: building {binary.name} ({binary.package}) in {label}", file=log, flush=True)
            _go(
                ["build", "-trimpath", "-ldflags", binary.ldflags(pins), "-o", str(staging / "bin" / binary.name), binary.package],
                where,
                capture=False,
                label=label,
            )
        if target.parent.exists():
            shutil.rmtree(target.parent)
        shutil.rmtree(staging / "src", ignore_errors=True)
        staging.rename(target.parent)  # whole or not at all: a broken build leaves no half cache
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _upstream_copy(module: str, path: str, version: str, staging: Path) -> Path:
    """A writable copy of module `path`@`version` (checked against our go.sum) with our files added."""
    downloaded = json.loads(_go(["mod", "download", "-json", f"{path}@{version}"], ENGINE / module))
    source = staging / "src"
    shutil.copytree(downloaded["Dir"], source)
    # Go's module cache is read-only; our go.mod and go.sum may replace upstream's.
    for entry in [source, *source.rglob("*")]:
        entry.chmod(0o755 if entry.is_dir() else 0o644)
    shutil.copytree(ENGINE / module / "_upstream", source, dirs_exist_ok=True)
    return source


def ensure_all(environ: Mapping[str, str] = os.environ, log=sys.stderr) -> dict[str, Path]:
    """Binary name -> its path, every module built."""
    folders = {module: ensure(module, environ, log) for module in dict.fromkeys(b.module for b in BINARIES)}
    return {b.name: folders[b.module] / b.name for b in BINARIES}


def install_provider(home: Path, pulumi: Path, plugin: Path, log=sys.stderr) -> Path:
    """Install the provider plugin into the PULUMI_HOME `home` with the CLI; its installed path.

    `pulumi plugin install resource cloudflare <version> --file <plugin>`, the version being
    the one the plugin reports. A no-op when that exact binary is installed there already;
    re-installed when the binary changed (a rebuild).
    """
    reported = subprocess.run([str(plugin), "-version"], capture_output=True, text=True, timeout=60, check=False)
    version = reported.stdout.strip()
    if reported.returncode != 0 or not version:
        raise EngineError(f"{plugin} -version failed (exit {reported.returncode}): {reported.stderr.strip()}")
    installed = home / "plugins" / f"resource-{PROVIDER}-v{version}" / plugin.name
    if installed.is_file() and filecmp.cmp(installed, plugin, shallow=False):
        return installed
    print(f"engine: installing {plugin.name} {version} into {home}", file=log, flush=True)
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PULUMI_")} | {
        "PULUMI_HOME": str(home),
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
    }
    command = [str(pulumi), "plugin", "install", "resource", PROVIDER, version, "--file", str(plugin), "--reinstall"]
    done = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=300, check=False)
    if done.returncode != 0:
        raise EngineError(f"pulumi plugin install resource {PROVIDER} {version} failed (exit {done.returncode}): {(done.stderr or done.stdout).strip()}")
    if not (installed.is_file() and filecmp.cmp(installed, plugin, shallow=False)):
        raise EngineError(f"pulumi plugin install resource {PROVIDER} {version} did not install {plugin} as {installed}")
    return installed


def _go(args: list[str], cwd: Path, capture: bool = True, label: str = "") -> str:
    # GOTOOLCHAIN=local: never fetch another Go; -mod=readonly: a go.sum that does not
    # match fails the build instead of being rewritten; -buildvcs=false: the binaries do
    # not depend on the checkout's git state.
    env = dict(os.environ, GOTOOLCHAIN="local", GOFLAGS="-mod=readonly -buildvcs=false")
    try:
        done = subprocess.run(["go", *args], cwd=cwd, env=env, text=True, capture_output=capture, check=False)
    except FileNotFoundError as err:
        raise EngineError("go is not on PATH: the real engine is built with Go (README, prerequisites)") from err
    if done.returncode != 0:
        # `go mod download -json` reports a refused module on stdout, as its "Error".
        detail = ((done.stderr or "").strip() or (done.stdout or "").strip()) if capture else "(Go's output is above)"
        raise EngineError(f"go {' '.join(args[:2])} in {label or f'engine/{cwd.name}'} failed (exit {done.returncode}): {detail}")
    return done.stdout or ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m engine.build", description="Build the real engine's binaries (cached).")
    parser.add_argument("--print", action="store_true", help="print one `name path` line per binary")
    args = parser.parse_args(argv)
    try:
        paths = ensure_all()
    except EngineError as err:
        print(f"engine: {err}", file=sys.stderr)
        return 1
    if args.print:
        for name, path in paths.items():
            print(f"{name} {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
