"""Every Pulumi command the README, the runbook or a workflow tells a user to run.

Each one is either run here, by the real CLI against a local file backend (the Pulumi
Cloud names translated as the runbook says: `blazesportsintel/<stack>` becomes
`organization/blaze-infra/<stack>`), or listed in NEEDS with the reason it cannot run here.
A new kind of command in the docs fails the first test until it is one or the other.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT, Planned
from tests.engine.conftest import Cli, stack_name
from tests.engine.test_backend import import_outputs

DOCS = ("README.md", "docs/RUNBOOK.md", "policies/README.md", "workers/README.md")
NEEDS = {
    "login": "Pulumi Cloud: needs a Pulumi access token (a self-managed backend is run here: login --local)",
    "stack export --version": "Pulumi Cloud only: a self-managed backend exports no earlier deployments",
}
# Commands that run the program or the providers: run by the real engine (the pinned CLI, the
# bridged provider, the pack as an analyzer, engine/workspace.py) against a loopback account,
# in these tests. Every flag the docs give such a command is used there too.
RUN_BY_THE_ENGINE = {
    "preview": ("tests/engine/test_lifecycle.py", "tests/engine/test_adoption.py", "tests/engine/test_preview.py"),
    "up": ("tests/engine/test_lifecycle.py", "engine/deployment.py"),
    "refresh": ("tests/engine/test_lifecycle.py",),
    "import": ("tests/engine/test_adoption.py",),
    "destroy": ("tests/engine/test_lifecycle.py",),
}
# How those tests give the flags that name a local path, or that the runner always gives.
TRANSLATED_FLAGS = {
    # The pack given by folder needs the Python language host; here it is the executable
    # analyzer over the same folder and config (README, "The real engine").
    "--policy-pack": "policy=",
    "--policy-pack-config": "policy=",
    # engine/workspace.py names the stack and runs non-interactively on every command.
    "--stack": "stack",
    "-s": "stack",
    "--non-interactive": "stack",
}
RUN_HERE = {
    "login --local", "stack init", "stack select", "stack output", "stack history", "config set", "config get",
    "state unprotect", "state delete",
}
# The resource the commands that edit a state find protected in it (the runbook's example).
PROTECTED = ("urn:pulumi:prod::blaze-infra::blaze:fleet:Fleet$blaze:kv:Namespace$cloudflare:index/"
             "workersKvNamespace:WorkersKvNamespace::blaze-upload-nonces-namespace")
PLACEHOLDERS = {"<key>": "opsWebhookUrl", "<stack>": "staging", "<N>": "1"}


@dataclass(frozen=True)
class Documented:
    where: str
    command: str
    env: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    @property
    def kind(self) -> str:
        words = shlex.split(self.command)[1:]
        if words[0] == "login":
            return "login --local" if "--local" in words or any(w.startswith(("file://", "s3://")) for w in words) else "login"
        if words[0] in ("stack", "config", "state"):
            kind = " ".join(words[:2])
            return f"{kind} --version" if kind == "stack export" and "--version" in words else kind
        return words[0]


def _command(line: str) -> str | None:
    if substituted := re.search(r"\$\((pulumi [^)]*)\)", line):  # url=$(pulumi config get ...)
        line = substituted.group(1)
    line = re.sub(r"^(\w+=(\$\([^)]*\)|\S+)\s+)+", "", line.split(" #", 1)[0].strip())  # VAR=value prefixes
    return line if line.startswith("pulumi ") and len(line.split()) > 1 else None


def documented() -> list[Documented]:
    found: list[Documented] = []
    for doc in DOCS:
        text = (ROOT / doc).read_text()
        blocks = re.findall(r"```sh\n(.*?)```", text, flags=re.DOTALL)
        spans = re.findall(r"`(pulumi [^`]+)`", text)
        indented = [l[4:] for l in text.splitlines() if l.startswith("    pulumi ")]
        for line in [l for b in blocks for l in b.splitlines()] + spans + indented:
            if (command := _command(line)) is not None:
                found.append(Documented(doc, command))
    for path in sorted((ROOT / ".github" / "workflows").glob("*.yml")):
        for name, job in (yaml.safe_load(path.read_text()).get("jobs") or {}).items():
            env = {k: str(v).replace("${{ matrix.stack }}", "staging") for k, v in (job.get("env") or {}).items()}
            for step in job.get("steps", []):
                where = f".github/workflows/{path.name} ({name})"
                if "pulumi/actions" in step.get("uses", "") and "command" in step.get("with", {}):
                    inputs = step["with"]
                    found.append(Documented(where, f"pulumi {inputs['command']} --stack {inputs['stack-name']}", env))
                for line in step.get("run", "").splitlines():
                    if (command := _command(line.rstrip("\\ "))) is not None:
                        found.append(Documented(where, command, env))
    return found


def test_every_documented_pulumi_command_is_run_here_or_says_why_not() -> None:
    commands = documented()
    assert len(commands) > 30, "the docs' commands were not found"
    unknown = sorted({f"{c.where}: {c.command}" for c in commands
                      if c.kind not in RUN_HERE and c.kind not in NEEDS and c.kind not in RUN_BY_THE_ENGINE})
    assert unknown == [], "neither run by a test nor listed in NEEDS with a reason"
    assert {c.kind for c in commands} >= RUN_HERE, "RUN_HERE names a kind the docs no longer use"


@pytest.mark.parametrize("kind", sorted(RUN_BY_THE_ENGINE))
def test_each_command_that_runs_the_program_is_run_by_the_engine_with_every_documented_flag(kind: str) -> None:
    sources = "\n".join((ROOT / test).read_text() for test in RUN_BY_THE_ENGINE[kind])
    runs = re.findall(rf'(?:program|cli|run)\(\s*"{kind}"((?:[^()]|\([^()]*\))*)\)', sources)
    assert runs, f"no test runs `pulumi {kind}`"
    flags = {word.split("=", 1)[0] if word.startswith("--generate") is False else word
             for c in documented() if c.kind == kind for word in shlex.split(c.command) if word.startswith("-")}
    used = "\n".join(runs)
    missing = sorted(flag for flag in flags if f'"{flag}"' not in used and TRANSLATED_FLAGS.get(flag, "\0") not in used)
    assert missing == [], f"documented flags of `pulumi {kind}` no engine test uses"


def translate(entry: Documented) -> list[str]:
    """The command as a user of a self-managed backend types it (README, RUNBOOK)."""
    text = entry.command
    for name, value in entry.env.items():
        text = re.sub(rf'"?\$\{{?{name}\}}?"?', value, text)
    for placeholder, value in PLACEHOLDERS.items():
        text = text.replace(placeholder, value)
    text = re.sub(r"blazesportsintel/([\w-]+)", lambda m: stack_name(m.group(1)), text)
    return shlex.split(text)[1:]


@pytest.fixture(scope="module")
def prepared(binaries: dict[str, Path], planned: dict[str, Planned], tmp_path_factory: pytest.TempPathFactory) -> Cli:
    """A backend as after a deploy: both stacks, their plan's outputs, the secrets the docs read set."""
    base = tmp_path_factory.mktemp("documented")
    (base / "project").mkdir()
    (base / "state").mkdir()
    for name in ("Pulumi.yaml", "Pulumi.staging.yaml", "Pulumi.prod.yaml"):
        shutil.copy2(ROOT / name, base / "project" / name)
    cli = Cli(binaries["pulumi"], base / "project", base / "home", base / "state")
    for stack in ("staging", "prod"):
        cli.run("stack", "init", stack_name(stack))
        import_outputs(cli, stack, planned[stack].plan["outputs"], base)
        for key in ("opsWebhookUrl", "opsWebhookSecret", "monitorDashboardToken"):
            cli.run("config", "set", "--secret", f"blaze-infra:{key}", f"throwaway-{key}", "-s", stack_name(stack))
    return cli


def _run_here() -> list[Documented]:
    return sorted({c for c in documented() if c.kind in RUN_HERE}, key=lambda c: (c.where, c.command))


@pytest.mark.parametrize("entry", _run_here(), ids=lambda c: f"{c.where}: {c.command}")
def test_a_documented_command_runs_on_a_local_backend(entry: Documented, prepared: Cli, tmp_path: Path) -> None:
    args = translate(entry)
    if entry.kind in ("stack init", "stack select", "login --local"):
        # Commands that make a backend or a stack start from an empty one, in a home of their own.
        (tmp_path / "state").mkdir()
        for name in ("Pulumi.yaml", "Pulumi.staging.yaml", "Pulumi.prod.yaml"):
            shutil.copy2(ROOT / name, tmp_path / name)
        cli = Cli(prepared.binary, tmp_path, tmp_path / "home", tmp_path / "state")
        env = cli.environment() | {"HOME": str(tmp_path / "home")}
        if entry.kind == "login --local":
            env.pop("PULUMI_BACKEND_URL")
    elif entry.kind in ("state unprotect", "state delete"):
        # A stack of its own whose state holds a protected resource (the one the command names).
        (tmp_path / "state").mkdir()
        for name in ("Pulumi.yaml", "Pulumi.staging.yaml", "Pulumi.prod.yaml"):
            shutil.copy2(ROOT / name, tmp_path / name)
        cli = Cli(prepared.binary, tmp_path, tmp_path / "home", tmp_path / "state")
        env = cli.environment()
        urn = next((a for a in args if a.startswith("urn:pulumi:")), PROTECTED)
        stack = args[args.index("-s") + 1]
        cli.run("stack", "init", stack)
        import_protected(cli, stack, urn, tmp_path)
    else:
        cli, env = prepared, prepared.environment()
    done = subprocess.run(
        [str(cli.binary), *args, "--non-interactive"], cwd=cli.cwd, env=env, input="throwaway-value\n",
        text=True, capture_output=True, timeout=120, check=False,
    )
    assert done.returncode == 0, f"{entry.where}: {entry.command}\nran: pulumi {' '.join(args)}\n{done.stdout}\n{done.stderr}"
    if entry.kind == "state unprotect":
        state = cli.json("stack", "export", "-s", stack)["deployment"]["resources"]
        assert [r.get("protect", False) for r in state if r["urn"] == urn] == [False]
    if entry.kind == "state delete":
        state = cli.json("stack", "export", "-s", stack)["deployment"].get("resources") or []
        assert [r["urn"] for r in state if r["urn"] == urn] == [], "the protected resource is still in the state"


def import_protected(cli: Cli, stack: str, urn: str, tmp_path: Path) -> None:
    """The stack's state as after a deploy, reduced to the resource `urn` (protected), its
    parent component and the Cloudflare provider it was made with; no plugin is needed to
    edit a state."""
    exported = cli.json("stack", "export", "-s", stack)
    prefix, name = urn.rsplit("::", 1)
    chain = prefix.split("::", 2)[2].split("$")
    head = f"urn:pulumi:{stack.rsplit('/', 1)[-1]}::blaze-infra::"
    root = f"{head}pulumi:pulumi:Stack::blaze-infra-{stack.rsplit('/', 1)[-1]}"
    provider = f"{head}pulumi:providers:cloudflare::default_6_23_1"
    parent = f"{head}{'$'.join(chain[:-1])}::{name.removesuffix('-namespace')}"
    exported["deployment"]["resources"] = [
        {"urn": root, "custom": False, "type": "pulumi:pulumi:Stack"},
        {"urn": provider, "custom": True, "id": "00000000-0000-4000-8000-000000000001", "type": "pulumi:providers:cloudflare",
         "inputs": {"version": "6.23.1"}, "outputs": {"version": "6.23.1"}, "parent": root},
        {"urn": parent, "custom": False, "type": chain[-2], "parent": root},
        {"urn": urn, "custom": True, "id": "5c1a0e4e0c9a4d3f8e1b2a3c4d5e6f70", "type": chain[-1], "protect": True,
         "retainOnDelete": True, "parent": parent, "provider": f"{provider}::00000000-0000-4000-8000-000000000001",
         "inputs": {"title": "blaze-upload-nonces"}, "outputs": {"title": "blaze-upload-nonces"}},
    ]
    path = tmp_path / "protected.deployment.json"
    path.write_text(json.dumps(exported))
    cli.run("stack", "import", "-s", stack, "--file", str(path))
