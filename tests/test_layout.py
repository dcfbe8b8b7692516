"""The layout is the architecture: each folder one concern, imports one way, no circles.

LAYERS lists the folders holding Python, bottom layer first. A folder imports only folders
before it in that list, and only those its row of the README's Layout table names; nothing
but tests/ imports tests/; no module reaches itself through its imports. Imports inside
functions count: a lazy import is still an arrow. Every `python -m` a document, the
Makefile, a workflow or the code gives names a module of this repository.
"""

from __future__ import annotations

import ast
import os
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ROOT

LAYERS = (
    "toolchain",
    "stacks",
    "d1",
    "workers",
    "components",
    "__main__.py",
    "policies",
    "local",
    "engine",
    "docgen",
    "operations",
    "bench",
)
TESTS = "tests"
SKIPPED = {".git", ".venv", "node_modules", "build", "__pycache__", ".pytest_cache"}
# `python -m` of modules that are not this repository's.
THIRD_PARTY = {"pip", "pytest", "venv", "pulumi.dynamic", "pulumi.policy"}


@dataclass(frozen=True)
class Import:
    source: str  # the importing module
    target: str  # the imported module of this repository (a package's __init__ when a name of it)
    where: str  # path:line

    @property
    def arrow(self) -> str:
        return f"{self.where}: {self.source} imports {self.target}"


def files(root: Path, suffixes: tuple[str, ...] = (".py",)) -> list[Path]:
    """The project's files under `root`, never walking into a virtualenv or node_modules."""
    found = []
    for folder, subfolders, names in os.walk(root):
        subfolders[:] = [name for name in subfolders if name not in SKIPPED]
        found += [Path(folder) / name for name in names if name.endswith(suffixes)]
    return sorted(found)


def python_files(root: Path) -> list[Path]:
    return files(root)


def module_of(path: Path, root: Path) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def folder_of(module: str) -> str:
    """The row of the layout a module belongs to: its top-level package, or the root file."""
    return "__main__.py" if module == "__main__" else module.split(".")[0]


def project_imports(root: Path) -> list[Import]:
    modules = {module_of(p, root): p for p in python_files(root)}
    found: list[Import] = []
    for module, path in modules.items():
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    base = ".".join([*package.split(".")[: len(package.split(".")) - node.level + 1], *([base] if base else [])])
                # `from a import b` imports the module a.b when there is one, else a name of a.
                names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names]
            else:
                continue
            for name in names:
                target = next((".".join(name.split(".")[:n]) for n in range(name.count(".") + 1, 0, -1)
                               if ".".join(name.split(".")[:n]) in modules), None)
                if target is not None and target != module:
                    found.append(Import(module, target, f"{path.relative_to(root)}:{node.lineno}"))
    return found


def upward(imports: list[Import]) -> list[str]:
    """Each import of a folder above the importer's in LAYERS, or of tests/ from outside it."""
    order = {name: index for index, name in enumerate(LAYERS)}
    wrong = []
    for found in imports:
        source, target = folder_of(found.source), folder_of(found.target)
        if source == target or source == TESTS:
            continue
        if target == TESTS:
            wrong.append(f"{found.arrow}: nothing outside tests/ imports tests/")
        elif source in order and target in order and order[target] > order[source]:
            wrong.append(f"{found.arrow}: {target}/ is above {source}/ in LAYERS")
    return wrong


def circles(imports: list[Import]) -> list[list[str]]:
    """The import circles between modules (Tarjan's strongly connected components)."""
    graph: dict[str, set[str]] = {}
    for found in imports:
        graph.setdefault(found.source, set()).add(found.target)
        graph.setdefault(found.target, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found_circles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for following in sorted(graph[node]):
            if following not in index:
                visit(following)
                low[node] = min(low[node], low[following])
            elif following in on_stack:
                low[node] = min(low[node], index[following])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found_circles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found_circles


def layout_table(readme: str) -> dict[str, set[str] | None]:
    """The README's Layout rows, in order: folder -> the folders it imports (None: any)."""
    section = readme.split("\n## Layout\n", 1)[1].split("\n## ", 1)[0]
    rows: dict[str, set[str] | None] = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not cells[0].startswith("`"):
            continue
        folder = re.match(r"`([^`]+?)/?`", cells[0])[1]
        rows[folder] = None if cells[2] == "any folder above" else set(re.findall(r"`([^`]+)`", cells[2]))
    return rows


def test_every_folder_with_python_has_its_place_in_the_layers() -> None:
    folders = {folder_of(module_of(p, ROOT)) for p in python_files(ROOT)}
    assert folders - {TESTS} == set(LAYERS), "add a new folder to LAYERS and to the README's Layout table"


def test_imports_run_down_the_layers_and_nothing_imports_tests() -> None:
    assert upward(project_imports(ROOT)) == []


def test_no_import_circle() -> None:
    assert circles(project_imports(ROOT)) == []


def test_the_readme_table_is_the_map_in_the_order_of_the_layers() -> None:
    rows = layout_table((ROOT / "README.md").read_text())
    assert [folder for folder in rows if folder in LAYERS] == list(LAYERS), "the Layout table lists the layers bottom first"
    assert rows[TESTS] is None and list(rows).index(TESTS) == len(LAYERS), "tests/ comes after every layer"
    others = [folder for folder in rows if folder not in (*LAYERS, TESTS)]
    assert all(not python_files(ROOT / folder) for folder in others if (ROOT / folder).is_dir()), others
    actual: dict[str, set[str]] = {folder: set() for folder in LAYERS}
    for found in project_imports(ROOT):
        source, target = folder_of(found.source), folder_of(found.target)
        if source in actual and target != source:
            actual[source].add(target)
    for position, folder in enumerate(LAYERS):
        listed = rows[folder]
        assert listed is not None and listed <= set(LAYERS[:position]), f"{folder}: its row names a folder that is not below it"
        assert actual[folder] == listed, f"{folder}: imports {sorted(actual[folder])}, its README row says {sorted(listed)}"


def documented_modules(root: Path) -> list[tuple[str, str]]:
    """(file, module) of every `python -m <module>` in the docs, the Makefile, the workflows and the code."""
    texts = [p for p in files(root, (".md", ".py", ".ts", ".mjs", ".yml")) if "diagrams" not in p.parts]
    texts += [root / "Makefile", root / "engine" / "plugins" / "pulumi-resource-pulumi-python", root / "policies" / "analyzer"]
    found = []
    for path in texts:
        text = path.read_text()
        for module in re.findall(r'python[\d.]* (?:-[A-Za-z]+ )*-m ([A-Za-z_][\w.]*\w)|(?:executable|python), "-m", "([\w.]+)"', text):
            name = module[0] or module[1]
            found.append((str(path.relative_to(root)), name))
    return found


def test_every_python_dash_m_names_a_module_of_this_repository() -> None:
    found = documented_modules(ROOT)
    assert {"local.plan", "operations.drift", "d1.restore"} <= {module for _, module in found}
    missing = sorted({f"{where}: python -m {module}" for where, module in found if module not in THIRD_PARTY
                      and not (ROOT / f"{module.replace('.', '/')}.py").is_file()
                      and not (ROOT / module.replace(".", "/") / "__main__.py").is_file()})
    assert missing == []


@pytest.mark.parametrize(
    ("files", "broken"),
    [
        ({"stacks/cron.py": "from workers.bundle import Bundle\n", "workers/bundle.py": ""}, "upward"),
        ({"engine/preview.py": "from tests.conftest import ROOT\n", "tests/conftest.py": ""}, "upward"),
        ({"d1/schema.py": "from d1 import migrations\n", "d1/migrations.py": "def f():\n    from d1.schema import X\n"}, "circle"),
    ],
    ids=["an import back up", "tests imported from outside", "a circle through a lazy import"],
)
def test_the_checks_fail_on_what_they_forbid(tmp_path: Path, files: dict[str, str], broken: str) -> None:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
        (tmp_path / name).parent.joinpath("__init__.py").touch()
    imports = project_imports(tmp_path)
    assert (upward(imports) != []) == (broken == "upward")
    assert (circles(imports) != []) == (broken == "circle")
