"""The Cloudflare provider plugin (engine/provider) with the real CLI, against the pinned SDK.

The plugin is installed into a fresh PULUMI_HOME by `engine.build.install_provider`
(the CLI's `pulumi plugin install ... --file`), its schema is asked of the plugin itself
through the CLI, and compared with the installed pulumi_cloudflare SDK: the same tokens,
the same input property names at every nesting level, except the properties the SDK has
and terraform-provider-cloudflare v5.24.0 does not. Those are computed here, must be the
ones the README documents, and must never be sent by the program. Last, one real input of
each type from both plans goes through the plugin's own Check in a `pulumi preview` of a
YAML program, run by the YAML language host the engine builds, and `pulumi import` reads
from a loopback API through the client the plugin configures as upstream does.
"""

from __future__ import annotations

import collections.abc
import filecmp
import importlib.metadata
import json
import re
import shutil
import subprocess
import typing
from pathlib import Path
from typing import Any, Iterator

import pulumi_cloudflare as cloudflare
import pytest
import yaml
from pulumi import _types
from pulumi.runtime import rpc

from engine import build
from local.cloudflare_api import TOKEN, Account, CloudflareApi, Namespace
from tests.conftest import ROOT, STACKS, Planned
from tests.engine.conftest import Cli

PLUGIN = "pulumi-resource-cloudflare"
SDK_VERSION = importlib.metadata.version("pulumi_cloudflare")
# The Workers versions issue will declare these; the plugin serves them already.
VERSIONS_TYPES = ("Worker", "WorkerVersion", "WorkersDeployment")
README_SECTION = "### How this provider differs from pulumi-cloudflare's release"


@pytest.fixture(scope="module")
def home(binaries: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("provider-home")
    build.install_provider(home, binaries["pulumi"], binaries[PLUGIN])
    return home


def cli_in(binaries: dict[str, Path], home: Path, work: Path) -> Cli:
    state = work / "state"
    state.mkdir(exist_ok=True)
    return Cli(binaries["pulumi"], work, home, state, binaries["pulumi-language-yaml"].parent)


@pytest.fixture(scope="module")
def schema(binaries: dict[str, Path], home: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The package schema as the plugin itself answers the CLI's GetSchema."""
    cli = cli_in(binaries, home, tmp_path_factory.mktemp("schema"))
    return cli.json("package", "get-schema", str(binaries[PLUGIN]))


def test_the_cli_installs_the_plugin_and_lists_it_at_the_sdks_version(binaries: dict[str, Path], home: Path, tmp_path: Path) -> None:
    listed = cli_in(binaries, home, tmp_path).json("plugin", "ls", "--json")
    assert [(p["name"], p["kind"], p["version"]) for p in listed] == [("cloudflare", "resource", SDK_VERSION)], listed


def test_installing_is_a_no_op_for_the_same_binary_and_replaces_a_changed_one(binaries: dict[str, Path], tmp_path: Path) -> None:
    home, plugin = tmp_path / "home", binaries[PLUGIN]
    installed = build.install_provider(home, binaries["pulumi"], plugin)
    assert filecmp.cmp(installed, plugin, shallow=False)
    # Without a CLI to run, only a no-op can succeed.
    assert build.install_provider(home, tmp_path / "no-such-cli", plugin) == installed
    rebuilt = tmp_path / "rebuilt" / PLUGIN
    rebuilt.parent.mkdir()
    shutil.copy2(plugin, rebuilt)
    with rebuilt.open("ab") as binary:  # trailing bytes: still the same runnable program
        binary.write(b"\0rebuilt")
    assert build.install_provider(home, binaries["pulumi"], rebuilt) == installed
    assert filecmp.cmp(installed, rebuilt, shallow=False), "the changed binary was not installed"


def sdk_tokens() -> dict[str, str]:
    """Class name -> type token, from the resource modules the SDK registers on import."""
    return {
        name: token
        for key, modules in rpc._RESOURCE_MODULES.items()
        if key.startswith("cloudflare:")
        for module in modules
        for token, name in module.mod_info["classes"].items()
    }


def declared_types(planned: dict[str, Planned]) -> set[str]:
    return {r["type"] for stack in STACKS for r in planned[stack].plan["resources"] if r["type"].startswith("cloudflare:")}


def test_the_schema_has_the_sdks_tokens_for_the_programs_types_and_the_versions_types(
    schema: dict[str, Any], planned: dict[str, Planned]
) -> None:
    tokens = sdk_tokens()
    declared = declared_types(planned)
    assert declared <= set(tokens.values()), declared - set(tokens.values())
    expected = declared | {tokens[name] for name in VERSIONS_TYPES}
    assert len(expected) == 14, sorted(expected)
    assert set(schema["resources"]) == expected
    data_sources = [token for token in schema.get("functions", {}) if token.startswith("cloudflare:")]
    assert data_sources == [], "no data sources: their invokes would call the API"
    assert schema["name"] == "cloudflare" and schema["version"] == SDK_VERSION


def _nested_args(hint: Any) -> type | None:
    """The SDK `...Args` class a property holds (itself, or in a list or map), if any."""
    hint = _types.unwrap_type(hint)
    if isinstance(hint, type) and _types.is_input_type(hint):
        return hint
    if typing.get_origin(hint) in (list, dict, collections.abc.Sequence, collections.abc.Mapping):
        return _nested_args(typing.get_args(hint)[-1])
    return None


def _nested_ref(spec: dict[str, Any]) -> str | None:
    """The schema object type a property holds (itself, or in a list or map), if any."""
    for holder in (spec, spec.get("items", {}), spec.get("additionalProperties", {})):
        if holder.get("$ref", "").startswith("#/types/"):
            return holder["$ref"].removeprefix("#/types/")
    return None


def differences(schema: dict[str, Any]) -> dict[str, set[str]]:
    """Input property paths (`Type.property.nested`) only the SDK has, only the schema has,
    or that hold an object on one side and not on the other."""
    found: dict[str, set[str]] = {"sdk only": set(), "schema only": set(), "object on one side": set()}

    def compare(args: type, properties: dict[str, Any], path: str) -> None:
        sdk = _types.input_type_types(args)
        found["sdk only"] |= {f"{path}.{name}" for name in sdk.keys() - properties.keys()}
        found["schema only"] |= {f"{path}.{name}" for name in properties.keys() - sdk.keys()}
        for name in sdk.keys() & properties.keys():
            nested, ref = _nested_args(sdk[name]), _nested_ref(properties[name])
            if (nested is None) != (ref is None):
                found["object on one side"].add(f"{path}.{name}")
            elif nested is not None:
                compare(nested, schema["types"][ref].get("properties", {}), f"{path}.{name}")

    for token, spec in schema["resources"].items():
        name = token.rsplit(":", 1)[1]
        compare(getattr(cloudflare, f"{name}Args"), spec.get("inputProperties", {}), name)
    return found


def documented_newer_properties() -> set[str]:
    """The `Type.property` paths README's section on this provider lists."""
    text = (ROOT / "README.md").read_text()
    assert README_SECTION in text, f"README.md has no section {README_SECTION!r}"
    section = text.split(README_SECTION, 1)[1].split("\n#", 1)[0]
    return set(re.findall(r"`([A-Z]\w+(?:\.\w+)+)`", section))


def test_input_names_equal_the_sdks_except_the_newer_properties_the_readme_documents(schema: dict[str, Any]) -> None:
    found = differences(schema)
    assert found["schema only"] == set(), "v5.24.0 has inputs the SDK lacks"
    assert found["object on one side"] == set()
    assert found["sdk only"], "the walk found nothing: it compared nothing"
    assert found["sdk only"] == documented_newer_properties(), (
        "the SDK's properties that v5.24.0 lacks changed; README.md's list says otherwise:\n"
        f"only computed: {sorted(found['sdk only'] - documented_newer_properties())}\n"
        f"only documented: {sorted(documented_newer_properties() - found['sdk only'])}"
    )


def _values_at(value: Any, path: list[str]) -> Iterator[Any]:
    """Every value under `path` in wire-format inputs, through lists and objects."""
    if isinstance(value, list):
        for item in value:
            yield from _values_at(item, path)
    elif not path:
        yield value
    elif isinstance(value, dict) and path[0] in value:
        yield from _values_at(value[path[0]], path[1:])


@pytest.mark.parametrize("stack", STACKS)
def test_the_program_never_sends_a_property_the_plugin_lacks(stack: str, planned: dict[str, Planned]) -> None:
    newer = documented_newer_properties()
    assert newer, "README.md lists no newer properties"
    sent = []
    for resource in planned[stack].plan["resources"]:
        short = resource["type"].rsplit(":", 1)[-1]
        for path in newer:
            name, *rest = path.split(".")
            if name == short and any(True for _ in _values_at(resource["inputs"], rest)):
                sent.append(f"{resource['urn']}: {path}")
    assert sent == [], "v5.24.0 would not know these inputs:\n" + "\n".join(sent)


def test_the_walk_finds_a_nested_property_in_a_list_of_objects() -> None:
    inputs = {"bindings": [{"name": "A"}, {"name": "B", "retry": {"limit": 1}}]}
    assert list(_values_at(inputs, ["bindings", "retry"])) == [{"limit": 1}]
    assert list(_values_at(inputs, ["bindings", "stream"])) == []


def checked_program(planned: dict[str, Planned]) -> dict[str, Any]:
    """A YAML program of the richest input of each type of each stack's plan, as planned."""
    resources = {}
    for stack in STACKS:
        by_type: dict[str, dict[str, Any]] = {}
        for resource in planned[stack].plan["resources"]:
            if resource["type"].startswith("cloudflare:"):
                best = by_type.get(resource["type"])
                if best is None or len(json.dumps(resource["inputs"])) > len(json.dumps(best["inputs"])):
                    by_type[resource["type"]] = resource
        for resource in by_type.values():
            resources[f"{stack}-{resource['name']}"] = {"type": resource["type"], "properties": resource["inputs"]}
    return {"name": "provider-check", "runtime": "yaml", "resources": resources}


def preview(binaries: dict[str, Path], home: Path, work: Path, program: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    work.mkdir()
    # Pulumi YAML interpolates ${...}; a literal one is written $${...}.
    (work / "Pulumi.yaml").write_text(yaml.safe_dump(program, sort_keys=False).replace("${", "$${"))
    # Worker inputs name their bundle relative to the project root, where the provider reads it.
    (work / "build").symlink_to(ROOT / "build")
    cli = cli_in(binaries, home, work)
    cli.run("stack", "init", "check")
    done = cli.run("preview", "--json", check=False)
    return done.returncode, json.loads(done.stdout)


def test_the_plugins_check_accepts_a_real_input_of_every_type_of_both_plans(
    binaries: dict[str, Path], home: Path, planned: dict[str, Planned], tmp_path: Path
) -> None:
    program = checked_program(planned)
    assert {r["type"] for r in program["resources"].values()} == declared_types(planned)
    code, document = preview(binaries, home, tmp_path / "project", program)
    errors = [d["message"] for d in document.get("diagnostics", []) if d.get("severity") == "error"]
    assert code == 0 and errors == [], "\n".join(errors)
    created = {s["urn"].rsplit("::", 1)[1] for s in document["steps"] if s["op"] == "create" and "cloudflare:index" in s["urn"]}
    assert created == set(program["resources"])


def test_the_plugins_check_refuses_a_value_the_provider_does_not_take(
    binaries: dict[str, Path], home: Path, planned: dict[str, Planned], tmp_path: Path
) -> None:
    policy = next(r for r in planned["staging"].plan["resources"] if r["type"].endswith(":NotificationPolicy"))
    program = {"name": "provider-check", "runtime": "yaml", "resources": {
        "broken": {"type": policy["type"], "properties": dict(policy["inputs"], alertType="not_an_alert_type")},
    }}
    code, document = preview(binaries, home, tmp_path / "project", program)
    messages = "\n".join(d["message"] for d in document.get("diagnostics", []))
    assert code != 0
    assert "alert_type" in messages or "alertType" in messages, messages
    assert "not_an_alert_type" in messages, messages


def test_the_plugins_client_takes_config_first_else_the_environment_as_upstreams_does(
    binaries: dict[str, Path], home: Path, tmp_path: Path
) -> None:
    namespace = Namespace("0f" * 16, "blaze-cache")
    account = Account("5c" * 16, namespaces=[namespace])
    kv = "cloudflare:index/workersKvNamespace:WorkersKvNamespace"
    with CloudflareApi(account) as api:
        work = tmp_path / "project"
        work.mkdir()
        (work / "Pulumi.yaml").write_text("name: provider-client\nruntime: yaml\n")
        cli = cli_in(binaries, home, work)

        def imported(stack: str, base_url: str) -> str:
            """The title `pulumi import` reads into a new stack, CLOUDFLARE_BASE_URL=base_url."""
            environment = cli.environment() | {"CLOUDFLARE_API_TOKEN": TOKEN, "CLOUDFLARE_BASE_URL": base_url}
            done = subprocess.run(
                [str(cli.binary), "import", kv, "cache", f"{account.id}/{namespace.id}", "--stack", stack,
                 "--yes", "--generate-code=false", "--non-interactive"],
                cwd=work, env=environment, text=True, capture_output=True, timeout=120, check=False,
            )
            assert done.returncode == 0, done.stdout + done.stderr
            state = cli.json("stack", "export", "--stack", stack)["deployment"]["resources"]
            return next(r["outputs"]["title"] for r in state if r["type"] == kv)

        cli.run("stack", "init", "environment")
        assert imported("environment", api.base_url) == namespace.title
        cli.run("stack", "init", "config")
        cli.run("config", "set", "cloudflare:baseUrl", api.base_url, "--stack", "config")
        # Nothing listens on the discard port: only the configured URL can answer.
        assert imported("config", "http://127.0.0.1:9/client/v4") == namespace.title

    reads = [r for r in api.requests if r.path == f"/client/v4/accounts/{account.id}/storage/kv/namespaces/{namespace.id}"]
    assert len(reads) >= 2, [r.path for r in api.requests]
    assert {r.headers.get("authorization") for r in reads} == {f"Bearer {TOKEN}"}
    assert all(r.headers["user-agent"].startswith(f"terraform-provider-cloudflare/{SDK_VERSION} terraform-plugin-framework/1.") for r in reads)
