"""Recorded-evidence cases, napalm style: tests/data/cases/<check>/<case>/ holds ``evidence.json`` (what
collect recorded), optional ``params.json`` and optional ``files/``, and ``expected.json``: the
findings evaluate must produce, in order (code, severity, and optionally target and a summary part)."""

import json
from pathlib import Path

import pytest

from diagnostics.check import RawEvidence
from diagnostics.registry import Registry

pytestmark = pytest.mark.unit
CASES = Path(__file__).resolve().parent.parent / "data" / "cases"
REGISTRY = Registry.from_entry_points()


def discover():
    for case in sorted(p for p in CASES.glob("*/*") if p.is_dir()):
        yield pytest.param(case, id=f"{case.parent.name}/{case.name}")


@pytest.mark.parametrize("case", list(discover()))
def test_case(case: Path):
    check = REGISTRY.get(case.parent.name)
    params_file = case / "params.json"
    params = check.params.model_validate(json.loads(params_file.read_text()) if params_file.exists() else {})
    files = (
        {str(p.relative_to(case / "files")): p.read_bytes() for p in sorted((case / "files").rglob("*")) if p.is_file()}
        if (case / "files").exists()
        else {}
    )
    raw = RawEvidence(data=json.loads((case / "evidence.json").read_text()), files=files)
    findings = list(check.evaluate(raw, params))
    expected = json.loads((case / "expected.json").read_text())
    assert [(f.code, f.severity.value) for f in findings] == [(e["code"], e["severity"]) for e in expected]
    for f, e in zip(findings, expected, strict=True):
        assert f.check == check.name
        if "target" in e:
            assert f.target == e["target"]
        if "summary_contains" in e:
            assert e["summary_contains"] in f.summary
        assert f.code in {c.code for c in check.codes}
