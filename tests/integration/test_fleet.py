"""One history for many runners, on real PostgreSQL and MariaDB servers: a fresh store migrated by two
runners at once, two runners recording at the same moment (no lost or duplicated run, no deadlock), and
``csdiag report --fleet`` merging them — a stale runner, an incident correlated across runners."""

from __future__ import annotations

import csv
import io
import json
import os
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest

from diagnostics import fleet
from diagnostics.history import SCHEMA_VERSION, History
from diagnostics.model import CheckRun, CheckStatus, Finding, Run, Severity, utcnow
from tests.conftest import run_cli, write_config
from tests.services.postgres import Postgres, postgres_server

pytestmark = pytest.mark.integration
PW = "fleet-pw-321"
RUNS_EACH = 12


@pytest.fixture(scope="module")
def postgres() -> Iterator[Postgres]:
    with postgres_server() as server:
        yield server


def _pg_store(postgres: Postgres) -> str:
    postgres.sql(f"CREATE ROLE fleet LOGIN PASSWORD '{PW}'")
    postgres.sql("CREATE DATABASE fleet OWNER fleet")
    return postgres.url("fleet", user="fleet")


def _maria_store(mariadb: Any) -> str:
    mariadb.execute(
        [
            "CREATE DATABASE IF NOT EXISTS csdiag_fleet",
            f"CREATE USER IF NOT EXISTS 'fleet'@'127.0.0.1' IDENTIFIED BY '{PW}'",
            "GRANT ALL ON csdiag_fleet.* TO 'fleet'@'127.0.0.1'",
        ]
    )
    return f"mysql+pymysql://fleet@127.0.0.1:{mariadb.port}/csdiag_fleet"


def _with_pw(url: str) -> str:
    return url.replace("fleet@", f"fleet:{PW}@", 1)


def finding(check: str, code: str, sev: Severity, target: str, **subjects: str) -> Finding:
    return Finding(check=check, code=code, severity=sev, target=target, summary=code, subjects=subjects)


def a_run(runner: str, n: int, findings: list[Finding], age: timedelta = timedelta(0)) -> Run:
    t = utcnow() - age + timedelta(seconds=n)
    checks = sorted({f.check for f in findings})
    return Run(
        id=f"{runner}-{n}",
        started=t,
        finished=t,
        tool_version="t",
        config={},
        checks=tuple(CheckRun(name=c, status=CheckStatus.COMPLETED, duration_s=1.0) for c in checks),
        findings=tuple(findings),
        runner=runner,
        host=f"host-of-{runner}",
    )


def at_once(*jobs: Callable[[], None]) -> None:
    """Run ``jobs`` in threads released together; re-raise the first error."""
    barrier = threading.Barrier(len(jobs))
    errors: list[BaseException] = []

    def wrap(job: Callable[[], None]) -> None:
        try:
            barrier.wait(timeout=30)
            job()
        except BaseException as exc:  # handed to the test thread
            errors.append(exc)

    threads = [threading.Thread(target=wrap, args=(j,)) for j in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a writer hung (deadlock?)"
    if errors:
        raise errors[0]


def _fleet_scenario(url: str, tmp_path: Any) -> None:
    # zone-a sees its image store full; zone-b sees downloads to that store fail: one incident
    full = finding("storage", "NFS_CAPACITY_LOW", Severity.CRIT, 'store 3 "nfs-1"', store="3")
    failing = finding("templates", "TEMPLATE_DOWNLOAD_ERROR", Severity.WARN, "template 12 @ store 3", store="3")
    healthy = finding("storage", "NFS_OK", Severity.OK, 'store 4 "nfs-2"', store="4")
    ok_b = finding("templates", "TEMPLATE_OK", Severity.OK, "template 13 @ store 3", store="3")

    def writer(runner: str, findings: list[Finding]) -> Callable[[], None]:
        def job() -> None:
            with History.open(_with_pw(url)) as h:  # a fresh store: both migrate it at once
                for n in range(RUNS_EACH):
                    assert h.record(a_run(runner, n, findings))
                h.record(a_run(runner, RUNS_EACH - 1, findings))  # a retry: stored once

        return job

    at_once(writer("zone-a", [full]), writer("zone-b", [failing, ok_b]))
    with History.open(_with_pw(url)) as h:
        assert h.version() == SCHEMA_VERSION
        ids = [r["id"] for r in h.runs()]
        assert len(ids) == len(set(ids)) == 2 * RUNS_EACH
        h.record(a_run("zone-c", 0, [healthy], age=timedelta(hours=9)))  # stale: its last run 9 h ago
        rows, runners = h.fleet_findings(), h.fleet_runners()
    merged = fleet.merge(rows, runners, utcnow(), 6 * 3600, "6h", "t")
    codes = {(f.code, f.subjects.get("runner")) for f in merged.findings}
    assert ("RUNNER_STALE", "zone-c") in codes and ("RUNNER_REPORTED", "zone-a") in codes
    assert ("TEMPLATE_DOWNLOAD_ERROR", "zone-b") in codes and ("NFS_CAPACITY_LOW", "zone-a") in codes
    # one row per (runner, check): the latest covering run only, not every stored run
    assert sum(1 for f in merged.findings if f.code == "NFS_CAPACITY_LOW") == 1
    assert sum(1 for f in merged.findings if f.code == "TEMPLATE_DOWNLOAD_ERROR") == 1
    (incident,) = [i for i in merged.incidents if i.rule == "store-full"]
    assert incident.cause.startswith("storage|NFS_CAPACITY_LOW|zone-a: ")
    assert [m.split("|")[2].split(":")[0] for m in incident.members] == ["zone-b"]  # explained across runners

    # the same through the CLI: report --fleet with the password from the environment
    cfg = write_config(
        tmp_path / "fleet.toml",
        f'[history]\nurl = "{url}"\npassword_env = "FLEET_PW"\n[report]\nrunner_stale_after = "6h"\n',
    )
    out = tmp_path / "fleet-report"
    r = run_cli("report", "--config", str(cfg), "--fleet", "-o", str(out), env={**os.environ, "FLEET_PW": PW})
    assert r.returncode == 2, r.stderr  # CRIT: the full store
    table = list(csv.DictReader(io.StringIO((out / "findings.csv").read_text())))
    assert {row["runner"] for row in table} >= {"zone-a", "zone-b", "zone-c"}
    stale = [row for row in table if row["code"] == "RUNNER_STALE"]
    assert (
        len(stale) == 1 and stale[0]["severity"] == "WARN" and "zone-c last reported 9.0 h ago" in stale[0]["summary"]
    )
    doc = json.loads((out / "findings.json").read_text())
    assert all("runner" in f for f in doc["findings"])
    assert any(i["rule"] == "store-full" for i in doc["incidents"])
    assert "zone-c" in (out / "report.html").read_text()
    assert PW not in r.stdout + r.stderr


def test_fleet_on_postgresql(postgres: Postgres, tmp_path: Any) -> None:
    _fleet_scenario(_pg_store(postgres), tmp_path)


def test_fleet_on_mariadb(mariadb: Any, tmp_path: Any) -> None:
    _fleet_scenario(_maria_store(mariadb), tmp_path)
