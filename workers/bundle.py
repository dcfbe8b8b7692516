"""Bundle the Workers' entry points into deploy artifacts with esbuild.

One esbuild invocation builds every family; the result is byte-for-byte deterministic,
so a Worker's `content_sha256` changes exactly when its code does. A stamp of the
inputs (sources, lockfile pin, flags) lets an unchanged tree skip esbuild entirely.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import pulumi

OUT_DIR = "build/workers"
SOURCE_DIR = "workers/src"
STAMP = ".inputs.json"
ESBUILD = "node_modules/.bin/esbuild"
INSTALLED_PACKAGES = "node_modules/.package-lock.json"
# The flags FACTS.md verified for workerd: ES modules, no Node built-ins assumed.
ESBUILD_FLAGS = (
    "--bundle",
    "--format=esm",
    "--platform=neutral",
    "--target=es2022",
    "--main-fields=module,main",
    "--conditions=workerd,worker,browser",
    "--charset=utf8",
    # The bundle names each module by its path in comments; resolving a symlinked
    # node_modules would put a machine-specific path there and change the digest.
    "--preserve-symlinks",
    "--log-level=warning",
)
_SOURCE_SUFFIXES = {".ts", ".js", ".mjs", ".json", ".sql"}


class BundleError(pulumi.RunError):
    """The Workers' code could not be bundled; nothing has been registered."""


@dataclass(frozen=True)
class Bundle:
    """One family's deploy artifact, as the WorkersScript resource references it."""

    family: str
    content_file: str  # relative to the project root, so previews match across machines
    sha256: str
    main_module: str


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _esbuild_version(root: Path) -> str:
    manifest = root / "node_modules" / "esbuild" / "package.json"
    pinned = json.loads((root / "package.json").read_text())["devDependencies"]["esbuild"]
    if not (root / ESBUILD).exists() or not manifest.exists():
        raise BundleError(f"esbuild {pinned} is not installed in node_modules: run `make setup` (npm ci)")
    installed = json.loads(manifest.read_text())["version"]
    if installed != pinned:
        raise BundleError(f"node_modules has esbuild {installed}, package.json pins {pinned}: run `make setup` (npm ci)")
    return installed


def _inputs_digest(root: Path, entries: Mapping[str, str], version: str) -> str:
    digest = hashlib.sha256()
    digest.update(json.dumps({"esbuild": version, "flags": ESBUILD_FLAGS, "entries": dict(sorted(entries.items()))}).encode())
    for path in sorted(p for p in (root / SOURCE_DIR).rglob("*") if p.suffix in _SOURCE_SUFFIXES and p.is_file()):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + _sha256(path).encode())
    # The bundles also contain npm packages (zod): npm's record of what is installed
    # changes whenever any of them does.
    installed = root / INSTALLED_PACKAGES
    digest.update(_sha256(installed).encode() if installed.is_file() else b"-")
    return digest.hexdigest()


def _bundles(entries: Mapping[str, str], hashes: Mapping[str, str]) -> dict[str, Bundle]:
    return {
        family: Bundle(family=family, content_file=f"{OUT_DIR}/{family}.js", sha256=hashes[family], main_module=f"{family}.js")
        for family in sorted(entries)
    }


def _fresh(out: Path, digest: str, entries: Mapping[str, str]) -> dict[str, str] | None:
    """The recorded hashes if the last build came from the same inputs and is intact."""
    try:
        stamp = json.loads((out / STAMP).read_text())
    except (OSError, ValueError):
        return None
    hashes = stamp.get("outputs", {})
    if stamp.get("inputs") != digest or set(hashes) != set(entries):
        return None
    for family, sha in hashes.items():
        path = out / f"{family}.js"
        if not path.is_file() or _sha256(path) != sha:
            return None
    return hashes


def build_bundles(root: Path, entries: Mapping[str, str]) -> dict[str, Bundle]:
    """Bundle `entries` (family -> entry file relative to root) into build/workers/<family>.js."""
    version = _esbuild_version(root)
    out = root / OUT_DIR
    digest = _inputs_digest(root, entries, version)
    hashes = _fresh(out, digest, entries)
    if hashes is not None:
        return _bundles(entries, hashes)

    out.mkdir(parents=True, exist_ok=True)
    # Build beside the final folder and move files in, so a concurrent reader never sees
    # a half-written bundle and a failed build leaves the previous one intact.
    with tempfile.TemporaryDirectory(prefix=".tmp-", dir=out) as tmp:
        staging = Path(tmp)
        argv = [str(root / ESBUILD), *(f"{family}={entry}" for family, entry in sorted(entries.items()))]
        argv += [*ESBUILD_FLAGS, f"--outdir={staging.relative_to(root).as_posix()}"]
        result = subprocess.run(argv, cwd=root, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise BundleError(f"esbuild failed (exit {result.returncode}):\n{result.stderr.strip()}")
        hashes = {}
        for family in sorted(entries):
            built = staging / f"{family}.js"
            hashes[family] = _sha256(built)
            os.replace(built, out / f"{family}.js")
    stamp_tmp = out / f"{STAMP}.{os.getpid()}"
    stamp_tmp.write_text(json.dumps({"inputs": digest, "outputs": hashes}, indent=2, sort_keys=True) + "\n")
    os.replace(stamp_tmp, out / STAMP)
    return _bundles(entries, hashes)


def clean(root: Path) -> None:
    """Remove every built bundle (for a cold build)."""
    shutil.rmtree(root / OUT_DIR, ignore_errors=True)
