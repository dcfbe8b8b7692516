"""engine/build.py: where the engine's binaries go, when they are rebuilt, how a build fails."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from pathlib import Path

import pytest
import semver

from engine import build


def test_binaries_are_cached_outside_the_checkout_under_a_key_of_every_input(binaries: dict[str, Path]) -> None:
    root = build.cache_root()
    for name, path in binaries.items():
        assert path.is_file() and root in path.parents, name
        assert build.ROOT not in path.parents, f"{name} must not be built into the checkout"
    assert binaries["pulumi"].parent == binaries["venvcheck"].parent, "one module, one folder"


def test_a_changed_pin_or_recipe_file_changes_the_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    copy = tmp_path / "engine"
    shutil.copytree(build.ENGINE, copy)
    monkeypatch.setattr(build, "ENGINE", copy)
    before = {module: build.build_key(module) for module in ("pulumi", "cloudflare", "provider")}
    (copy / "pulumi" / "go.sum").write_text((copy / "pulumi" / "go.sum").read_text() + "\n")
    (copy / "cloudflare" / "_upstream" / "cmd" / "blaze-schemacheck" / "main.go").write_text("package main\n")
    # The provider's build go.sum sits in the overlay, not beside its module's go.mod.
    (copy / "provider" / "_upstream" / "go.sum").write_text((copy / "provider" / "_upstream" / "go.sum").read_text() + "\n")
    after = {module: build.build_key(module) for module in ("pulumi", "cloudflare", "provider")}
    assert all(before[m] != after[m] for m in before), (before, after)
    assert build.build_key("pulumi") == after["pulumi"], "the key is a function of the files alone"


def test_a_build_that_cannot_fetch_its_modules_fails_by_name_and_caches_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GOPROXY=off with an empty module cache: what a refused or unreachable module looks like.
    monkeypatch.setenv("GOPROXY", "off")
    monkeypatch.setenv("GOMODCACHE", str(tmp_path / "mod"))
    monkeypatch.setenv("GOCACHE", str(tmp_path / "cache"))
    cache = tmp_path / "engine-cache"
    with pytest.raises(build.EngineError) as caught:
        build.ensure("cloudflare", {"BLAZE_ENGINE_CACHE": str(cache)}, log=io.StringIO())
    assert "engine/cloudflare" in str(caught.value)
    assert "GOPROXY=off" in str(caught.value)
    assert not any(cache.rglob("schemacheck")), "a failed build leaves no binary behind"
    assert [p.name for p in cache.iterdir()] == [], "nor a half-built folder"


def _go_mod_requirements(go_mod: Path) -> dict[str, str]:
    done = subprocess.run(["go", "mod", "edit", "-json", str(go_mod)], capture_output=True, text=True, check=True)
    return {r["Path"]: r["Version"] for r in json.loads(done.stdout)["Require"]}


def test_the_provider_builds_with_upstreams_own_requirements_and_the_bridges() -> None:
    # engine/provider pins upstream's source; _upstream/go.mod replaces its go.mod in the copy,
    # so it must hold every requirement of upstream's go.mod at that version, or the higher
    # one the bridge's requirements made Go choose: never a lower one.
    module = build.ENGINE / "provider"
    pinned = build.requirements("provider")[build.CLOUDFLARE_TERRAFORM]
    downloaded = subprocess.run(
        ["go", "mod", "download", "-json", f"{build.CLOUDFLARE_TERRAFORM}@{pinned}"],
        cwd=module, capture_output=True, text=True, check=True,
    )
    upstream = _go_mod_requirements(Path(json.loads(downloaded.stdout)["GoMod"]))
    ours = _go_mod_requirements(module / "_upstream" / "go.mod")
    lower = {path: (version, ours.get(path)) for path, version in upstream.items()
             if path not in ours or semver.Version.parse(ours[path][1:]) < semver.Version.parse(version[1:])}
    assert lower == {}, f"engine/provider/_upstream/go.mod is older than upstream {pinned}'s go.mod: {lower}"
    assert ours["github.com/pulumi/pulumi-terraform-bridge/v3"] == "v3.120.0"
