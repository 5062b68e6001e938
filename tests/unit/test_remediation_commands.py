"""Every ``csdiag …`` command that a remediation or incident text tells an operator to run exists and
parses with the real command line (typer/click), options and all.

Texts are read from the source: every ``remediation=`` argument and ``"remediation":`` entry in checks/
and diagnostics/ (f-strings with their placeholders filled by a word), and every string of the rule files
(incidents.toml, checks/*.toml: signatures and their remediation snippets). A command runs from ``csdiag`` up to the end of its clause (``;``,
``)``, a backtick, or ``,``/``.`` ending a word); words after the last option of a command without
arguments are prose ("… shows why").
"""

from __future__ import annotations

import ast
import re
import tomllib
from typing import Any

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.unit
COMMAND = re.compile(r"\bcsdiag ([^;)`\n]+)")
# Texts in files this issue does not own, waiting for their owner's edit (the test fails when one is
# fixed, so that the entry is removed): text → the change asked for.
PENDING: dict[str, str] = {}  # a text that names a command still to be built → what to change


def _text(node: ast.expr) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "X" for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _text(node.left), _text(node.right)
        return left + right if left is not None and right is not None else None
    return None


def remediation_texts() -> list[tuple[str, str]]:
    out = []
    files = [*sorted((ROOT / "checks").rglob("*.py")), *sorted((ROOT / "diagnostics").rglob("*.py"))]
    for path in files:
        if "diagnostics/cli" in path.as_posix():
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        where = str(path.relative_to(ROOT))
        for node in ast.walk(tree):
            values: list[ast.expr] = []
            if isinstance(node, ast.keyword) and node.arg == "remediation":
                values.append(node.value)
            elif isinstance(node, ast.Dict):
                values += [v for k, v in zip(node.keys, node.values, strict=True) if _text(k) == "remediation" if k]
            for v in values:
                for candidate in (v, *(x for x in ast.walk(v) if isinstance(x, ast.expr))):
                    if (text := _text(candidate)) and "csdiag " in text:
                        out.append((where, text))
                        break
    for path in [*sorted((ROOT / "checks").rglob("*.toml")), *sorted((ROOT / "diagnostics").glob("*.toml"))]:
        if path.name.startswith("config"):
            continue
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        out += [(str(path.relative_to(ROOT)), t) for t in _strings(data)]
    return [(w, t) for w, t in out if "csdiag " in t]


def _strings(data: object) -> list[str]:
    """Every string in a TOML document (rules, signatures and their shared remediation snippets)."""
    if isinstance(data, str):
        return [data]
    if isinstance(data, dict):
        return [s for v in data.values() for s in _strings(v)]
    if isinstance(data, list):
        return [s for v in data for s in _strings(v)]
    return []


def commands(text: str) -> list[list[str]]:
    found = []
    for m in COMMAND.finditer(text):
        words = []
        for token in m.group(1).split():
            end = token.endswith((",", ".", ":"))
            words.append(token.rstrip(",.:"))
            if end:
                break
        found.append(words)
    return found


def check_command(words: list[str]) -> str | None:
    """None when ``csdiag WORDS`` parses; else why not."""
    import typer.main
    from typer import core
    from typer._click.exceptions import ClickException  # typer ≥ 0.29 vendors click

    from diagnostics.cli import app

    cmd: Any = typer.main.get_command(app)
    path = ["csdiag"]
    i = 0
    while hasattr(cmd, "commands"):
        if i >= len(words) or words[i] not in cmd.commands:
            return f"`{' '.join(path)}` has no command {words[i] if i < len(words) else '(none given)'!r}"
        cmd = cmd.commands[words[i]]
        path.append(words[i])
        i += 1
    options = {o: p for p in cmd.params if isinstance(p, core.TyperOption) for o in (*p.opts, *p.secondary_opts)}
    takes_arguments = any(isinstance(p, core.TyperArgument) for p in cmd.params)
    args: list[str] = []
    while i < len(words):
        w = words[i]
        if w.startswith("-"):
            name = w.split("=", 1)[0]
            if name not in options:
                return f"`{' '.join(path)}` has no option {name}"
            args.append(w)
            if not options[name].is_flag and "=" not in w:
                if i + 1 >= len(words):
                    return f"{name} needs a value"
                args.append(words[i + 1])
                i += 1
        elif takes_arguments:
            args.append(w)
        else:
            break  # prose after the command
        i += 1
    try:
        cmd.make_context(" ".join(path), args)
    except ClickException as exc:
        return f"`{' '.join(path)} {' '.join(args)}`: {exc.format_message()}"
    return None


def test_the_texts_name_commands():
    found = [c for _, t in remediation_texts() for c in commands(t)]
    assert len(found) >= 10  # the extraction finds them (ssvm check, storage check, gate …, image lint …)


@pytest.mark.parametrize("where, text", remediation_texts())
def test_every_named_command_parses(where, text):
    for words in commands(text):
        problem = check_command(words)
        pending = next((p for p in PENDING if p in text and " ".join(words) in p), None)
        if pending:
            assert problem is not None, f"{pending!r} works now: remove it from PENDING"
            continue
        assert problem is None, f"{where}: `csdiag {' '.join(words)}`: {problem}"
