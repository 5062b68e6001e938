"""The runner turns crashes and overruns into UNKNOWN findings and keeps the others intact."""

import threading
import time

import pytest

from diagnostics.check import Check, Code, NoParams, RawEvidence
from diagnostics.config import Settings
from diagnostics.model import CheckStatus, Finding, Severity
from diagnostics.runner import Job, execute
from diagnostics.sources.errors import Unreachable

pytestmark = pytest.mark.unit
RELEASE = threading.Event()


FINE = (Code(code="FINE", severity=Severity.INFO, meaning="ok"),)


def make_check(name, collect, evaluate=None, codes=FINE):
    def default_evaluate(raw, params):
        yield Finding(check=name, code="FINE", severity=Severity.INFO, target="here", summary=f"{name} ok")

    return Check(
        name=name,
        title=name,
        description=name,
        codes=codes,
        params=NoParams,
        collect=collect,
        evaluate=evaluate or default_evaluate,
    )


def good_collect(ctx):
    return RawEvidence(data={"ok": True})


def boom_collect(ctx):
    raise ZeroDivisionError("division by zero in a plugin")


def sleepy_collect(ctx):
    RELEASE.wait(30)  # far past any deadline in these tests
    return RawEvidence(data={})


def source_error_collect(ctx):
    raise Unreachable("10.9.9.9:3306: connection refused")


def jobs(*checks):
    return [Job(check=c, params=NoParams()) for c in checks]


def test_crash_and_timeout_become_unknown_while_others_are_intact():
    checks = [
        make_check("good", good_collect),
        make_check("boom", boom_collect),
        make_check("sleepy", sleepy_collect),
        make_check("src", source_error_collect),
    ]
    t0 = time.monotonic()
    outcomes = execute(jobs(*checks), Settings(), timeout_s=1.0)
    wall = time.monotonic() - t0
    RELEASE.set()
    by = {o.check.name: o for o in outcomes}
    assert by["good"].status is CheckStatus.COMPLETED
    assert [f.summary for f in by["good"].findings] == ["good ok"]
    assert by["boom"].status is CheckStatus.FAILED
    assert by["boom"].findings[0].code == "CHECK_FAILED"
    assert by["boom"].findings[0].severity is Severity.UNKNOWN
    assert "ZeroDivisionError: division by zero in a plugin" in by["boom"].findings[0].summary
    assert by["sleepy"].status is CheckStatus.TIMEOUT
    assert by["sleepy"].findings[0].code == "CHECK_TIMEOUT"
    assert by["src"].findings[0].summary == "check src could not run: Unreachable: 10.9.9.9:3306: connection refused"
    assert wall < 2.5, f"wall time {wall:.2f}s should stay near the 1 s deadline"


def test_wall_time_is_the_deadline_not_the_sum():
    RELEASE.clear()
    checks = [make_check(f"sleepy{i}", sleepy_collect) for i in range(4)]
    t0 = time.monotonic()
    outcomes = execute(jobs(*checks), Settings(), timeout_s=0.5, concurrency=8)
    wall = time.monotonic() - t0
    RELEASE.set()
    assert all(o.status is CheckStatus.TIMEOUT for o in outcomes)
    assert wall < 1.5


def test_undeclared_code_and_foreign_check_are_bugs():
    def bad_code(raw, params):
        yield Finding(check="liar", code="NOT_DECLARED", severity=Severity.WARN, target="x", summary="s")

    def foreign(raw, params):
        yield Finding(check="someone_else", code="FINE", severity=Severity.WARN, target="x", summary="s")

    out = execute(
        jobs(make_check("liar", good_collect, bad_code), make_check("thief", good_collect, foreign)),
        Settings(),
        timeout_s=5,
    )
    assert "undeclared code NOT_DECLARED" in out[0].findings[0].summary
    assert "finding for check 'someone_else'" in out[1].findings[0].summary


def test_replay_runs_only_evaluate():
    def never(ctx):
        raise AssertionError("collect must not run on replay")

    out = execute([Job(check=make_check("good", never), params=NoParams(), raw=RawEvidence(data={}))], Settings())
    assert out[0].status is CheckStatus.COMPLETED and out[0].findings[0].code == "FINE"


def test_a_per_item_budget_raises_the_checks_deadline_instead_of_being_capped():
    """Before: [thresholds.images] hash_timeout_s was silently capped at [run] check_timeout_s."""
    from checks.images import ImagesParams
    from diagnostics.config import parse_settings
    from diagnostics.runner import job_timeout

    seen = {}

    def collect(ctx):
        seen["budget"] = ctx.remaining()
        return RawEvidence(data={})

    check = make_check("hashing", collect)
    selected = parse_settings({"run": {"check_timeout_s": 60}, "images": {"templates": [7]}})
    params = ImagesParams(hash_timeout_s=7200)
    assert job_timeout(Job(check=check, params=params), selected, 60) == 7200 + 10 + 60
    assert job_timeout(Job(check=check, params=ImagesParams()), parse_settings({}), 60) == 60  # not hashing
    assert job_timeout(Job(check=check, params=NoParams()), selected, 60) == 60  # no per-item budget
    assert job_timeout(Job(check=check, params=params, raw=RawEvidence(data={})), selected, 60) == 60  # replay
    [outcome] = execute([Job(check=check, params=params)], selected)
    assert outcome.status is CheckStatus.COMPLETED and seen["budget"] > 7000


def test_collected_evidence_and_failure_reasons_are_redacted_before_evaluate(monkeypatch):
    from diagnostics.config import parse_settings

    monkeypatch.setenv("CSDIAG_TEST_SNMP", 'pu"blic')
    cfg = parse_settings(
        {
            "switches": [
                {
                    "name": "s",
                    "host": "127.0.0.1",
                    "platform": "generic",
                    "snmp": {"version": "2c", "community_env": "CSDIAG_TEST_SNMP"},
                }
            ]
        }
    )
    seen = {}

    def evaluate(raw, params):
        seen.update(raw.data)
        yield Finding(check="leak", code="FINE", severity=Severity.INFO, target="t", summary=raw.data["v"])

    def leak_collect(ctx):
        return RawEvidence(data={'pu"blic_ip': 'x pu"blic y', "v": "http://u:pw@h:1/"})

    def failing(ctx):
        raise Unreachable('snmp://127.0.0.1 community pu"blic timed out')

    out = execute(
        [
            Job(check=make_check("leak", leak_collect, evaluate), params=NoParams()),
            Job(check=make_check("fails", failing), params=NoParams()),
        ],
        cfg,
    )
    assert seen == {'pu"blic_ip': "x *** y", "v": "http://***@h:1/"}  # values redacted, the key kept
    assert out[0].findings[0].summary == "http://***@h:1/"
    assert 'pu"blic' not in out[1].error and "***" in out[1].error
