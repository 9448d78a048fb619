"""docs/ARCHITECTURE.md's import rules, checked on the source (stdlib ``ast``; nothing is imported):

* the module-level import graph of ``kazerne`` has no cycle (imports inside functions counted too);
* no module imports another module's private (``_``) name;
* the leaves (``errors``, ``limits``, ``jsonsafe``, ``files``, ``progress``) import nothing of kazerne
  but ``errors``;
* only the command line prints: ``print(`` appears in no library module except the console layer.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import networkx as nx
import pytest

PKG = Path(__file__).resolve().parents[1] / "kazerne"
LEAVES = {"errors", "limits", "jsonsafe", "files", "progress"}
#: modules allowed to print: the command line and the console functions it calls
PRINTING = {"kazerne.cli", "kazerne.console"}


def module_name(f: Path) -> str:
    parts = list(f.relative_to(PKG.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@functools.cache
def imports(f: Path) -> list:
    """(target module, imported names) for each kazerne import of file ``f``."""
    return list(_imports(f))


def _imports(f: Path):
    mod = module_name(f).split(".")
    pkg = mod if f.name == "__init__.py" else mod[:-1]
    tree = ast.parse(f.read_text(encoding="utf-8"))
    for node in ast.walk(tree):  # typing-only imports (if TYPE_CHECKING) count too: no cycle even for mypy
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg[: len(pkg) - node.level + 1]
                target = ".".join(base + (node.module.split(".") if node.module else []))
            elif (node.module or "").split(".")[0] == "kazerne":
                target = node.module
            else:
                continue
            yield target, [a.name for a in node.names]
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split(".")[0] == "kazerne":
                    yield a.name, []


FILES = sorted(PKG.rglob("*.py"))
MODULES = {module_name(f) for f in FILES}


def resolve(target: str, names: list) -> list[str]:
    """The kazerne modules an import statement loads (``from pkg import mod`` loads ``pkg.mod``)."""
    out = [target] if target in MODULES else []
    out += [f"{target}.{n}" for n in names if f"{target}.{n}" in MODULES]
    return out


def graph() -> nx.DiGraph:
    g = nx.DiGraph()
    for f in FILES:
        src = module_name(f)
        g.add_node(src)
        for target, names in imports(f):
            for t in resolve(target, names):
                if t != src and not src.startswith(t + ".") and t != "kazerne":
                    g.add_edge(src, t)
    return g


def test_the_scan_sees_the_package():
    g = graph()
    assert len(g) == len(FILES) and len(g) > 50
    assert g.has_edge("kazerne.scenarios.runner", "kazerne.scenarios.schema")  # a known import


def test_no_import_cycle_between_modules():
    cycles = list(nx.simple_cycles(graph()))
    assert cycles == [], f"import cycles: {cycles[:5]}"


def test_no_module_imports_another_modules_private_names():
    bad = []
    for f in FILES:
        for target, names in imports(f):
            if target in MODULES and target != module_name(f):
                bad += [
                    f"{module_name(f)}: {target}.{n}"
                    for n in names
                    # a private module of one's own package (routing._dijkstra) is that package's business
                    if n.startswith("_") and n != "__version__" and f"{target}.{n}" not in MODULES
                ]
    assert bad == []


@pytest.mark.parametrize("leaf", sorted(LEAVES))
def test_leaves_import_only_errors(leaf):
    f = PKG / f"{leaf}.py"
    targets = {t for t, n in imports(f) for t in resolve(t, n)}
    assert targets <= {"kazerne.errors"}


def test_only_the_command_line_prints():
    printing = set()
    for f in FILES:
        tree = ast.parse(f.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print":
                printing.add(module_name(f))
    # the print_* functions the CLI calls for each run kind live beside their kind; they are the
    # console layer of that kind, so the rule is: no other module prints
    # progress writes its stage lines to stderr (long work shows progress, silenced by --quiet)
    console_layer = {
        "kazerne.progress",
        "kazerne.scenarios.slices",
        "kazerne.scenarios.runner",
        "kazerne.scenarios.studies",
        "kazerne.scenarios.ems",
        "kazerne.scenarios.batch",
        "kazerne.report.compare",
        "kazerne.coverage.cli_solve",
    }
    assert printing - PRINTING - console_layer == set()


#: package -> the packages it may import (docs/ARCHITECTURE.md, "Packages and who imports whom",
#: with the known reaches up a layer listed there); a new edge changes that page and this table
LEAF_PKGS = {"errors", "limits", "jsonsafe", "files", "progress", "checks", "units", "procs"}
#: the time base (issue 22): imports only the leaves; every layer above may import it
BASE = LEAF_PKGS | {"clock"}
ALLOWED = {
    "clock": LEAF_PKGS,
    "routing": BASE | {"coverage", "sites", "report"},  # travel.to_problem, plot(), pack writing
    "sites": BASE | {"routing", "report"},
    "demand": BASE | {"routing", "report"},
    "coverage": BASE | {"routing", "sites", "response", "report"},
    "response": BASE | {"coverage"},
    "calibration": BASE | {"routing", "demand", "sites", "response", "report", "scenarios"},
    "report": BASE | {"routing", "coverage", "sites", "__init__"},  # __init__: __version__
    "scenarios": BASE
    | {"routing", "sites", "demand", "coverage", "response", "calibration", "report", "console", "__init__"},
}


def package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def test_package_imports_are_the_documented_ones():
    extra = sorted(
        f"{a} -> {b}"
        for a, b in graph().edges()
        if package(a) != package(b)
        and package(a) in ALLOWED | {p: LEAF_PKGS for p in LEAF_PKGS}
        and package(b) not in (ALLOWED.get(package(a)) or ({"errors"} if package(a) in LEAF_PKGS else set()))
    )
    assert extra == []
