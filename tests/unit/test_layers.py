"""The layers, proved by walking every import (also those inside functions):

- nothing in ``diagnostics/`` outside ``diagnostics/cli/`` imports ``checks`` or ``reports``;
- nothing but the CLI imports ``diagnostics.cli``;
- ``reports/`` imports no check and does not sort findings (the ranking decides the order);
- no import cycles among csdiag's modules.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.unit
PACKAGES = ("diagnostics", "checks", "reports")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))}


def imports(path: Path, name: str) -> set[str]:
    """Every csdiag module ``path`` imports, at any depth of the file (TYPE_CHECKING blocks excluded:
    they are not run)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip |= {id(n) for b in node.body for n in ast.walk(b)}
    is_pkg = path.name == "__init__.py"
    base = name.split(".") if is_pkg else name.split(".")[:-1]
    out: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                mod = ".".join(base[: len(base) - node.level + 1] + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            out.add(mod)
            out |= {f"{mod}.{a.name}" for a in node.names}
    return {m for m in out if m.split(".")[0] in PACKAGES}


def graph() -> dict[str, set[str]]:
    mods = modules()
    g: dict[str, set[str]] = {}
    for name, path in mods.items():
        g[name] = {m for m in imports(path, name) if m in mods and m != name}
    return g


def test_engine_imports_neither_checks_nor_reports():
    bad = {
        name: sorted(m for m in deps if m.split(".")[0] in ("checks", "reports"))
        for name, deps in graph().items()
        if name.startswith("diagnostics") and not name.startswith("diagnostics.cli")
    }
    bad = {k: v for k, v in bad.items() if v}
    # sources/switchcli reads the command list of checks/optics_cli (issue 16 moves it): the one known
    # exception, listed so that a new one fails and this one is noticed when it goes.
    known = {"diagnostics.sources.switchcli": ["checks.optics_cli"]}
    assert {k: v for k, v in bad.items() if known.get(k) != v} == {}


def test_only_the_cli_imports_the_cli():
    users = {name for name, deps in graph().items() if any(d.startswith("diagnostics.cli") for d in deps)}
    assert {u for u in users if not u.startswith("diagnostics.cli")} == set()


def test_reports_import_no_check_and_do_not_sort_findings():
    for name, path in modules().items():
        if not name.startswith("reports"):
            continue
        assert not any(m.startswith("checks") for m in imports(path, name)), name
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"\bsort_key\b", text), f"{name} orders findings itself"


def test_no_import_cycles():
    g = graph()
    # a package imports its own submodules for registration (diagnostics.cli → diagnostics.cli.triage);
    # that edge and the submodule's import of its package's siblings are not a cycle of layers.
    state: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(n: str) -> None:
        state[n] = 1
        stack.append(n)
        for d in sorted(g.get(n, ())):
            if n.startswith(d + ".") or d.startswith(n + "."):
                continue  # package ↔ its own submodule
            if state.get(d) == 1:
                cycles.append([*stack[stack.index(d) :], d])
            elif d not in state:
                visit(d)
        stack.pop()
        state[n] = 2

    for n in sorted(g):
        if n not in state:
            visit(n)
    assert [c for c in cycles if frozenset(c) not in KNOWN_CYCLES] == []


# Cycles tolerated until they go (none now); a new one fails the test.
KNOWN_CYCLES: set[frozenset[str]] = set()
