"""Every dependency is pinned exactly, and the Workers are bundled by the one esbuild installed."""

from __future__ import annotations

import json
import re
from importlib import metadata

import pytest

from tests.conftest import ROOT

EXACT_NPM = re.compile(r"\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?")
EXACT_PIP = re.compile(r"[A-Za-z0-9_.-]+==[0-9][0-9A-Za-z.+!-]*")


def package_json() -> dict[str, str]:
    return json.loads((ROOT / "package.json").read_text())["devDependencies"]


def lockfile_packages() -> dict[str, dict]:
    return json.loads((ROOT / "package-lock.json").read_text())["packages"]


def test_every_npm_dependency_is_an_exact_version_and_the_lockfile_installs_it() -> None:
    for name, version in package_json().items():
        assert EXACT_NPM.fullmatch(version), f"package.json: {name} {version!r} is a range, not a version"
    packages = lockfile_packages()
    assert packages[""]["devDependencies"] == package_json(), "package-lock.json is stale: run npm install"
    for name, version in package_json().items():
        assert packages[f"node_modules/{name}"]["version"] == version, name


def test_one_esbuild_is_installed_the_one_package_json_pins() -> None:
    # wrangler depends on an exact esbuild; ours must be that one, or npm installs a second copy
    # under node_modules/wrangler and the bundles and wrangler's own builds differ.
    found = {path: meta["version"] for path, meta in lockfile_packages().items() if path.rsplit("node_modules/", 1)[-1] == "esbuild"}
    assert found == {"node_modules/esbuild": package_json()["esbuild"]}, found
    wrangler = lockfile_packages()["node_modules/wrangler"]["dependencies"]["esbuild"]
    assert wrangler == package_json()["esbuild"], f"wrangler {package_json()['wrangler']} depends on esbuild {wrangler}"


def requirement_lines(name: str) -> list[str]:
    return [l.strip() for l in (ROOT / name).read_text().splitlines() if l.strip() and not l.startswith("#")]


@pytest.mark.parametrize("name", ["requirements.txt", "requirements-dev.txt"])
def test_every_python_requirement_is_pinned_exactly(name: str) -> None:
    for line in requirement_lines(name):
        assert line == "-r requirements.txt" or EXACT_PIP.fullmatch(line), f"{name}: {line!r} is not name==version"


def test_the_virtualenv_runs_the_pinned_versions_pip_and_setuptools_included() -> None:
    # venv seeds its own pip and setuptools; only the pins say which ones the tests run with.
    pins = [l.split("==") for n in ("requirements.txt", "requirements-dev.txt") for l in requirement_lines(n) if "==" in l]
    wrong = {name: (version, metadata.version(name)) for name, version in pins if metadata.version(name) != version}
    assert wrong == {}, f"pinned vs installed (run make setup): {wrong}"
