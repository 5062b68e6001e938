"""`make demo` must show every check working: the bundled demo evidence covers every built-in check,
and replays without engine failures."""

import pytest

from diagnostics import engine
from diagnostics.config import Settings
from diagnostics.registry import Registry
from tests.conftest import ROOT

pytestmark = pytest.mark.unit


def test_demo_bundle_covers_every_check():
    registry = Registry.from_entry_points()
    run = engine.replay(ROOT / "examples/demo-bundle", Settings(), registry)
    assert {c.name for c in run.checks} == set(registry.names())
    assert all(c.status.value == "completed" for c in run.checks)
    codes = {f.code for f in run.findings}
    assert not codes & {"CHECK_FAILED", "CHECK_TIMEOUT", "PLUGIN_BROKEN"}
    for check in registry.names():
        assert any(f.check == check for f in run.findings), f"the demo shows nothing from {check}"


def test_the_api_part_judges_the_same_site_as_the_database_part():
    """examples/demo-bundle-api: the same seeded site read through CloudStack's API (csdiag collect --source
    api, tests/record_demo.py). Every problem the database part shows for platform, ssvm and templates is
    shown through the API too, but for what one API observation cannot prove (a stall needs a second run,
    README "The API as a source"); what only the API says is its INFO about those gaps."""
    registry = Registry.from_entry_points()
    db = engine.replay(ROOT / "examples/demo-bundle", Settings(), registry)
    api = engine.replay(ROOT / "examples/demo-bundle-api", Settings(), registry)
    assert {c.name for c in api.checks} == {"platform", "ssvm", "templates"}
    assert all(c.status.value == "completed" for c in api.checks)
    assert all(e.source.split()[0].startswith("http://127.0.0.1:") for f in api.findings for e in f.evidence[:1])
    shown = {c.name for c in api.checks}
    db_problems = {f.code for f in db.findings if f.check in shown and f.severity.value != "INFO"}
    api_problems = {f.code for f in api.findings if f.severity.value != "INFO"}
    assert db_problems - api_problems == {"TEMPLATE_DOWNLOAD_STALLED", "TEMPLATE_INSTALL_STUCK"}
    assert api_problems <= db_problems
    assert "TEMPLATE_STALL_NOT_PROVABLE" in {f.code for f in api.findings}


def test_no_bundle_holds_the_demo_api_secret():
    from tests.record_demo import DEMO_API_SECRET

    for path in (ROOT / "examples").rglob("*"):
        if path.is_file():
            assert DEMO_API_SECRET.encode() not in path.read_bytes(), path
