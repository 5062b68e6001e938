"""Whole runs (the registered checks, through the engine and runner) while the CloudStack database fails:
the run finishes within its deadline + 5 s, the affected check is UNKNOWN with the reason, the others are
intact, no process or descriptor is left, no secret in any output."""

from __future__ import annotations

import os
import signal
import time

import pytest

from diagnostics import engine
from diagnostics.config import parse_settings
from diagnostics.model import Severity
from diagnostics.registry import Registry
from tests.faults.conftest import fault_server, refused_port
from tests.services.mariadb import READER_PASSWORD, READER_USER

pytestmark = [pytest.mark.faults, pytest.mark.integration]
DEADLINE_S = 3.0
DB_PASSWORD_ENV = "CSDIAG_FAULTS_DB_PW"
MARIADB_GREETING = b"\x4a\x00\x00\x00\x0a5.5.5-10.11.6-MariaDB\x00"


def settings_for(port: int, database: str = "cloud"):
    return parse_settings(
        {
            "run": {"check_timeout_s": DEADLINE_S},
            "cloudstack": {
                "database": {
                    "host": "127.0.0.1",
                    "port": port,
                    "user": READER_USER,
                    "password_env": DB_PASSWORD_ENV,
                    "database": database,
                    "connect_timeout_s": 1,
                    "query_timeout_s": 2,
                }
            },
        }
    )


def run_checks(settings):
    registry = Registry.from_entry_points()
    t0 = time.monotonic()
    run, _ = engine.collect_and_evaluate(settings, registry, only=["platform", "images"])
    return run, time.monotonic() - t0


def by_check(run):
    out: dict[str, list] = {}
    for f in run.findings:
        out.setdefault(f.check, []).append(f)
    return out


@pytest.fixture
def db_password(monkeypatch):
    monkeypatch.setenv(DB_PASSWORD_ENV, READER_PASSWORD)
    return READER_PASSWORD


@pytest.mark.parametrize("mode", ["refused", "stall", "garbage", "greet_stall", "dies"])
def test_a_failing_database_makes_its_check_unknown_and_nothing_else(mode, db_password, leaks):
    from contextlib import nullcontext
    from types import SimpleNamespace

    server = (
        nullcontext(SimpleNamespace(port=refused_port())) if mode == "refused" else fault_server(mode, MARIADB_GREETING)
    )
    with server as srv:
        run, elapsed = run_checks(settings_for(srv.port))
    assert elapsed < DEADLINE_S + 5, elapsed
    found = by_check(run)
    platform = found["platform"]
    assert all(f.severity is Severity.UNKNOWN for f in platform), [(f.code, f.summary) for f in platform]
    assert all(f.summary.strip() for f in platform)  # the reason is said
    assert [f.code for f in found["images"]] == ["IMAGES_NOT_SELECTED"]  # the other check is intact
    _no_secret(run, db_password)
    leaks.check(settle_s=8)


def test_a_database_that_stops_answering_mid_run(mariadb, cloud_db, db_password, leaks):
    mariadb.set_version(cloud_db, "4.18.1.0")
    healthy, _ = run_checks(settings_for(mariadb.port, cloud_db))
    assert {f.code for f in by_check(healthy)["platform"]} >= {"CLOUDSTACK_VERSION"}
    os.kill(mariadb.process.pid, signal.SIGSTOP)
    try:
        run, elapsed = run_checks(settings_for(mariadb.port, cloud_db))
    finally:
        os.kill(mariadb.process.pid, signal.SIGCONT)
    assert elapsed < DEADLINE_S + 5, elapsed
    found = by_check(run)
    assert all(f.severity is Severity.UNKNOWN for f in found["platform"])
    assert [f.code for f in found["images"]] == ["IMAGES_NOT_SELECTED"]
    _no_secret(run, db_password)
    leaks.check(settle_s=8)


def _no_secret(run, secret: str) -> None:
    from reports import csvfile, html, jsondoc, junit, nagios, prom

    for render in (jsondoc.render, csvfile.render, junit.render, nagios.render, prom.render):
        assert secret not in render(run)
    assert secret not in html.render(run, charts=[])
