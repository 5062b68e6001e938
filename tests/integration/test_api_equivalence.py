"""The same checks (platform, ssvm, templates) on one seeded CloudStack, once through its database and once
through its API: the stand-in API (tests/services/csapi.py) answers what CloudStack would render from the
same rows (tests/services/csapi_scenario.py). Findings must be equal — code, severity and target, the
target's numeric ids mapped to the UUIDs the API shows — except for the differences listed below."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import time
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from checks import platform, ssvm, templates
from diagnostics.check import Check, CheckContext, RawEvidence
from diagnostics.config import Settings
from diagnostics.history import History
from tests.conftest import run_cli, write_config
from tests.integration.test_real_schemas import CHECKSUM_ERROR, CURRENT, _site, healthy
from tests.services import csapi_scenario
from tests.services.cloudstack_site import Site
from tests.services.csapi import Key, StandIn, api_server
from tests.services.mariadb import READER_PASSWORD, READER_USER, VERSIONS

pytestmark = pytest.mark.integration
KEY, SECRET = "csdiag-admin", "s3cret-of-the-admin-key"
CHECKS: tuple[Check[Any], ...] = (platform.CHECK, ssvm.CHECK, templates.CHECK)
ABOVE_INFO = {"WARN", "CRIT", "UNKNOWN"}

# Findings only the API run gives: what it says it cannot prove (each an INFO, never a silent pass).
ONLY_API = {
    # direct-download certificates (validity shown as text only), store creation times (no sync grace),
    # storage selectors before 4.19 (no such command)
    "TEMPLATE_PLACEMENT_NOT_PROVABLE",
    # the API shows checksums without their {ALG} prefix (DigestHelper.getHashValueFromChecksumValue)
    "TEMPLATE_CHECKSUM_NOT_PROVABLE",
    # a download in progress seen for the first time: no last_updated in the API, a second observation decides
    "TEMPLATE_STALL_NOT_PROVABLE",
    # a download seen before, percent moved or not yet unchanged for stalled_warn_minutes
    "TEMPLATE_DOWNLOAD_OBSERVED",
    # a setting listConfigurations does not return: Hidden and absent look alike through the API (the database
    # run skips an absent row without a word)
    "SETTING_NOT_PROVABLE",
}
# Findings only the database run gives, by code: why the API cannot show them.
ONLY_DB = {
    # the database knows last_updated; the API run needs an earlier observation (history store) first
    "TEMPLATE_DOWNLOAD_STALLED": "first observation through the API",
    "TEMPLATE_INSTALL_STUCK": "first observation through the API",
    # a digest whose length does not match its {ALG} prefix: the prefix is not shown
    "TEMPLATE_CHECKSUM_INVALID": "prefix not shown",
}


@pytest.fixture(params=("4.18", "main"))
def esite(request: pytest.FixtureRequest, mariadb: Any) -> Site:
    return _site(mariadb, request.param)


@pytest.fixture
def site(mariadb: Any) -> Site:
    """The newest schema, for what does not depend on the version (the API's errors, paging, replay)."""
    return _site(mariadb, "main")


@pytest.fixture(params=VERSIONS)
def vsite(request: pytest.FixtureRequest, mariadb: Any) -> Site:
    """Every recorded schema, for the healthy and the broken install."""
    return _site(mariadb, request.param)


@pytest.fixture
def standin() -> StandIn:
    return StandIn(keys={KEY: Key(SECRET), "userkey": Key("usersecret", allowed={"listZones", "listTemplates"})})


@pytest.fixture
def endpoint(standin: StandIn) -> Iterator[str]:
    with api_server(standin) as url:
        yield url


def settings(site: Site, endpoint: str, tmp_path: Path, source: str, **api: Any) -> Settings:
    return Settings.model_validate(
        {
            "cloudstack": {
                "source": source,
                "database": {
                    "host": "127.0.0.1",
                    "port": site.server.port,
                    "user": READER_USER,
                    "password_env": "CSDIAG_TEST_DB_PASSWORD",
                    "database": site.database,
                    "connect_timeout_s": 3,
                },
                "api": {"endpoint": endpoint, "api_key": KEY, "secret_key_env": "CSDIAG_TEST_API_SECRET", **api},
            },
            "history": {"url": f"sqlite:///{tmp_path / 'history.sqlite'}"},
        }
    )


@pytest.fixture(autouse=True)
def _secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CSDIAG_TEST_DB_PASSWORD", READER_PASSWORD)
    monkeypatch.setenv("CSDIAG_TEST_API_SECRET", SECRET)


def run(cfg: Settings, checks: tuple[Check[Any], ...] = CHECKS) -> list[Any]:
    out = []
    for check in checks:
        params = check.params(**cfg.thresholds.get(check.name, {}))
        raw = check.collect(CheckContext(settings=cfg, params=params, deadline=time.monotonic() + 60))
        out += list(check.evaluate(raw, params))
    return out


def publish(site: Site, standin: StandIn) -> None:
    """The stand-in answers what CloudStack renders from the site's rows now."""
    standin.capabilities, standin.lists = csapi_scenario.answers(site)
    standin.absent = csapi_scenario.absent(site)


def key_of(f: Any) -> tuple[str, str, str, str]:
    return (f.check, f.code, f.severity.value, f.target)


def with_uuids(site: Site, findings: list[Any]) -> set[tuple[str, str, str, str]]:
    """The database run's findings with each ``<kind> <id>`` of a target written with the kind's uuid."""
    ids = csapi_scenario.uuids(site)

    def swap(m: re.Match[str]) -> str:
        return f"{m[1]} {ids[m[1]].get(int(m[2]), m[2])}"

    return {
        (c, code, sev, re.sub(r"\b(template|store|zone|host|selector|certificate) (\d+)\b", swap, t))
        for c, code, sev, t in map(key_of, findings)
    }


# Findings about the source itself name it: the database's mysql:// URL, the API's endpoint — one name here.
def source_named(keys: set[tuple[str, str, str, str]], source: str) -> set[tuple[str, str, str, str]]:
    return {(c, code, sev, t.replace(source, "<cloudstack>")) for c, code, sev, t in keys}


def db_target(site: Site) -> str:
    return f"mysql://127.0.0.1:{site.server.port}/{site.database}"


def compare(site: Site, standin: StandIn, endpoint: str, tmp_path: Path) -> tuple[set[Any], set[Any], list[Any]]:
    publish(site, standin)
    db = source_named(with_uuids(site, run(settings(site, endpoint, tmp_path, "db"))), db_target(site))
    api_findings = run(settings(site, endpoint, tmp_path, "api"))
    api = source_named({key_of(f) for f in api_findings}, endpoint)
    only_db = {k for k in db - api if k[1] not in ONLY_DB}
    only_api = {k for k in api - db if k[1] not in ONLY_API}
    return only_db, only_api, api_findings


def test_healthy_install_is_equal_through_db_and_api(
    vsite: Site, standin: StandIn, endpoint: str, tmp_path: Path
) -> None:
    healthy(vsite)
    only_db, only_api, api_findings = compare(vsite, standin, endpoint, tmp_path)
    assert (only_db, only_api) == (set(), set())
    assert [key_of(f) for f in api_findings if f.severity.value in ABOVE_INFO] == []
    codes = {f.code for f in api_findings}
    assert {"CLOUDSTACK_VERSION", "CLOUDSTACK_SETTINGS", "TEMPLATE_CHECKSUM_NOT_PROVABLE"} <= codes
    # 4.18 has no storage selectors (listSecondaryStorageSelectors is absent): said, not passed silently
    assert ("TEMPLATE_PLACEMENT_NOT_PROVABLE" in codes) == (not vsite.columns("heuristics"))
    version = next(f for f in api_findings if f.code == "CLOUDSTACK_VERSION")
    assert CURRENT[vsite.label] in version.summary  # type: ignore[attr-defined]
    assert version.evidence[0].source.endswith("API: listCapabilities")


def test_broken_install_is_equal_through_db_and_api(
    vsite: Site, standin: StandIn, endpoint: str, tmp_path: Path
) -> None:
    ids = healthy(vsite)
    store = ids["store"]
    stalled = vsite.stalled(store, "ubuntu-24.04", pct=40, minutes_ago=180)
    failed = vsite.template("rocky-9")
    vsite.ref(failed, store, download_state="DOWNLOAD_ERROR", state="Allocated", pct=100, size=0, physical_size=0,
              error_str=CHECKSUM_ERROR, minutes_ago=30)  # fmt: skip
    zero = vsite.template("size-zero")
    vsite.ref(zero, store, size=0, physical_size=0)
    upper = vsite.template("upper-case", checksum="{SHA-256}" + "AB" * 32)
    vsite.ref(upper, store)
    empty = vsite.zone("no-ssvm-zone")
    alert = vsite.zone("alert-zone")
    vsite.store(alert, "alert-nfs")
    vsite.ssvm(alert, "s-2-VM", agent_status="Alert", template_id=ids["sysvm"], agent_version=CURRENT[vsite.label])  # type: ignore[attr-defined]
    old = vsite.zone("old-zone")
    vsite.store(old, "old-nfs")
    vsite.ssvm(old, "s-3-VM", template_id=vsite.system_template("4.16.0"), agent_version="4.16.0.0")
    only_db, only_api, api_findings = compare(vsite, standin, endpoint, tmp_path)
    assert (only_db, only_api) == (set(), set())
    got = {(f.code, f.severity.value) for f in api_findings}
    assert {
        ("SSVM_MISSING", "CRIT"),
        ("SSVM_AGENT_NOT_UP", "CRIT"),
        ("SYSTEMVM_TEMPLATE_MISMATCH", "CRIT"),
        ("TEMPLATE_DOWNLOAD_ERROR", "CRIT"),
        ("TEMPLATE_SIZE_ZERO", "CRIT"),
        ("TEMPLATE_CHECKSUM_INVALID", "WARN"),
        ("TEMPLATE_STALL_NOT_PROVABLE", "INFO"),
    } <= got
    uuids = csapi_scenario.uuids(vsite)
    error = next(f for f in api_findings if f.code == "TEMPLATE_DOWNLOAD_ERROR")
    assert (
        error.target == f'template {uuids["template"][failed]} "rocky-9" @ store {uuids["store"][store]} "kvm-zone-nfs"'
    )
    assert "Classified as CHECKSUM_MISMATCH" in error.details  # from the status text (error_str trimmed)
    assert f'zone {uuids["zone"][empty]} "no-ssvm-zone"' in {f.target for f in api_findings}
    first = next(f for f in api_findings if f.code == "TEMPLATE_STALL_NOT_PROVABLE")
    assert "ubuntu-24.04" in first.target and first.metrics[0].name == "download_pct"
    assert stalled in uuids["template"]


def _remember(tmp_path: Path, target: str, pct: float, minutes_ago: float) -> None:
    """What an earlier recorded run left in the history store: the copy's download_pct at that time."""
    with History.open(f"sqlite:///{tmp_path / 'history.sqlite'}"):
        pass  # creates the schema
    at = (datetime.now(UTC) - timedelta(minutes=minutes_ago)).isoformat()
    with sqlite3.connect(tmp_path / "history.sqlite") as conn:
        conn.execute(
            "INSERT INTO csdiag_metrics (run_id, at, check_name, target, name, value, unit) VALUES (?, ?, ?, ?, ?, ?, ?)",
            ("earlier-run", at, "templates", target, "download_pct", pct, "%"),
        )


def test_stalled_on_the_second_observation(esite: Site, standin: StandIn, endpoint: str, tmp_path: Path) -> None:
    """Percent unchanged since an observation 3 h ago: the database's rule (CRIT after 60 min) judges it
    as the database run does; percent moved: an INFO; unchanged for 5 min only: an INFO."""
    store = healthy(esite)["store"]
    slow = esite.stalled(store, "ubuntu-24.04", pct=40, minutes_ago=180)
    moving = esite.stalled(store, "rocky-9", pct=75, minutes_ago=0.1)
    fresh = esite.stalled(store, "alma-9", pct=10, minutes_ago=0.1)
    stuck = esite.stalled(store, "win-2022", pct=100, minutes_ago=90)
    publish(esite, standin)
    u = csapi_scenario.uuids(esite)
    label = 'template {} "{}" @ store ' + u["store"][store] + ' "kvm-zone-nfs"'
    _remember(tmp_path, label.format(u["template"][slow], "ubuntu-24.04"), 40, 180)
    _remember(tmp_path, label.format(u["template"][moving], "rocky-9"), 60, 30)
    _remember(tmp_path, label.format(u["template"][fresh], "alma-9"), 10, 5)
    _remember(tmp_path, label.format(u["template"][stuck], "win-2022"), 100, 90)
    db = with_uuids(esite, run(settings(esite, endpoint, tmp_path, "db"), (templates.CHECK,)))
    api = run(settings(esite, endpoint, tmp_path, "api"), (templates.CHECK,))
    judged = {key_of(f) for f in api if f.code in ("TEMPLATE_DOWNLOAD_STALLED", "TEMPLATE_INSTALL_STUCK")}
    assert judged == {k for k in db if k[1] in ("TEMPLATE_DOWNLOAD_STALLED", "TEMPLATE_INSTALL_STUCK")}
    assert len(judged) == 2
    by_name = {
        f.target.split('"')[1]: f
        for f in api
        if f.code.startswith("TEMPLATE_D") or "STALL" in f.code or "STUCK" in f.code
    }
    assert by_name["ubuntu-24.04"].severity.value == "CRIT" and "3.0 h" in by_name["ubuntu-24.04"].summary
    assert {m.name for m in by_name["ubuntu-24.04"].metrics} == {"since_update", "download_pct"}
    assert by_name["rocky-9"].code == "TEMPLATE_DOWNLOAD_OBSERVED" and "from 60 %" in by_name["rocky-9"].summary
    assert by_name["alma-9"].code == "TEMPLATE_DOWNLOAD_OBSERVED" and "unchanged since" in by_name["alma-9"].summary


def test_a_key_without_admin_rights(site: Site, standin: StandIn, endpoint: str, tmp_path: Path) -> None:
    healthy(site)
    publish(site, standin)
    findings = run(settings(site, endpoint, tmp_path, "api", api_key="userkey"))
    assert {(f.check, f.code, f.severity.value) for f in findings} == {
        (c.name, "API_AUTH_FAILED", "UNKNOWN") for c in CHECKS
    }  # the secret is the admin's: the signature does not verify (401)


def test_user_role_key_gets_permission_denied(
    site: Site, standin: StandIn, endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    healthy(site)
    publish(site, standin)
    monkeypatch.setenv("CSDIAG_TEST_API_SECRET", "usersecret")
    findings = run(settings(site, endpoint, tmp_path, "api", api_key="userkey"))
    assert {(f.check, f.code) for f in findings} == {(c.name, "API_PERMISSION_DENIED") for c in CHECKS}
    ssvm_finding = next(f for f in findings if f.check == "ssvm")
    assert "listImageStores" in ssvm_finding.summary and "432" in ssvm_finding.summary
    assert "root-admin" in ssvm_finding.remediation and "[cloudstack.api]" in ssvm_finding.remediation


def test_html_from_a_proxy(site: Site, standin: StandIn, endpoint: str, tmp_path: Path) -> None:
    healthy(site)
    standin.html_proxy = True
    findings = run(settings(site, endpoint, tmp_path, "api"))
    assert {(f.check, f.code, f.severity.value) for f in findings} == {
        (c.name, "API_QUERY_FAILED", "UNKNOWN") for c in CHECKS
    }
    assert all("not a CloudStack answer" in f.summary for f in findings)


def test_api_chosen_but_not_configured(site: Site, tmp_path: Path) -> None:
    cfg = Settings.model_validate({"cloudstack": {"source": "api"}})
    findings = run(cfg)
    assert {(f.check, f.code) for f in findings} == {(c.name, "API_NOT_CONFIGURED") for c in CHECKS}
    assert all("[cloudstack.api]" in f.remediation for f in findings)


def test_page_size_100_and_10000_templates(site: Site, standin: StandIn, endpoint: str, tmp_path: Path) -> None:
    """A cloud with default.page.size 100 and 10,000 healthy templates: the templates check pages through
    all of them within its budget, and what it finds equals a cloud of a few."""
    healthy(site)
    publish(site, standin)
    base = standin.lists["listTemplates"][-1]
    base["details"] = {f"key{i}": "v" * 40 for i in range(20)}  # details=all: what the evidence need not keep
    standin.lists["listTemplates"] += [
        {**base, "id": f"00000000-0000-4000-8000-{i:012d}", "name": f"bulk-{i}"} for i in range(10_000)
    ]
    standin.default_page_size = 100
    cfg = settings(site, endpoint, tmp_path, "api")
    params = templates.TemplatesParams()
    tracemalloc.start()
    started = time.monotonic()
    raw = templates.CHECK.collect(CheckContext(settings=cfg, params=params, deadline=time.monotonic() + 60))
    findings = list(templates.CHECK.evaluate(raw, params))
    elapsed = time.monotonic() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    stored = len(json.dumps(raw.data))
    assert "details" not in raw.data["answers"]["templates"][-1]
    pages = sum(1 for r in standin.requests if r.get("command") == "listTemplates" and r.get("pagesize") == "100")
    assert pages >= 100
    assert [key_of(f) for f in findings if f.severity.value in ABOVE_INFO] == []
    print(f"10,000 templates at page size 100: {pages} pages, {elapsed:.1f} s, peak {peak / 2**20:.0f} MiB, "
          f"evidence {stored / 2**20:.1f} MiB")  # fmt: skip
    assert elapsed < 60 and peak < 400 * 2**20 and stored < 20 * 2**20


def test_bundle_replay_from_the_answers_alone(site: Site, standin: StandIn, endpoint: str, tmp_path: Path) -> None:
    """evaluate works from the stored evidence (JSON, as a bundle keeps it), without the API."""
    ids = healthy(site)
    site.stalled(ids["store"], "ubuntu-24.04", pct=40, minutes_ago=180)
    publish(site, standin)
    cfg = settings(site, endpoint, tmp_path, "api")
    for check in CHECKS:
        params = check.params()
        raw = check.collect(CheckContext(settings=cfg, params=params, deadline=time.monotonic() + 60))
        live = [key_of(f) for f in check.evaluate(raw, params)]
        stored = json.loads(json.dumps(raw.data))
        assert stored["via"] == "api" and set(stored["calls"]) - {"selectors"} <= set(stored["answers"])
        standin.html_proxy = True  # the API is gone: nothing may be asked again
        assert [key_of(f) for f in check.evaluate(RawEvidence(data=stored), params)] == live
        standin.html_proxy = False


def test_unsupported_version_through_both(mariadb: Any, standin: StandIn, endpoint: str, tmp_path: Path) -> None:
    site = _site(mariadb, "4.18")
    site.version("4.18.1.0", "4.99.0.0")
    only_db, only_api, api_findings = compare(site, standin, endpoint, tmp_path)
    assert (only_db, only_api) == (set(), set())
    assert ("VERSION_UNTESTED", "WARN") in {(f.code, f.severity.value) for f in api_findings}


def test_report_records_the_percent_and_the_next_report_judges_the_stall(
    esite: Site, standin: StandIn, endpoint: str, tmp_path: Path
) -> None:
    """The real path: ``csdiag report`` records download_pct with the run; a report 3 h later (the recorded
    time moved back, as the clock cannot be) finds the percent unchanged and judges the download stalled."""
    store = healthy(esite)["store"]
    esite.stalled(store, "ubuntu-24.04", pct=40, minutes_ago=180)
    publish(esite, standin)
    history = tmp_path / "history.sqlite"
    cfg = write_config(
        tmp_path / "c.toml",
        f"""
[cloudstack]
source = "api"

[cloudstack.api]
endpoint = "{endpoint}"
api_key = "{KEY}"
secret_key_env = "CSDIAG_TEST_API_SECRET"

[history]
url = "sqlite:///{history}"
""",
    )
    env = {**os.environ, "CSDIAG_TEST_API_SECRET": SECRET}

    def report(out: str) -> list[dict[str, Any]]:
        r = run_cli("report", "--config", str(cfg), "--only", "templates", "--output", str(tmp_path / out), env=env)
        assert r.returncode in (0, 1, 2, 3), r.stderr
        return [
            f for f in json.loads((tmp_path / out / "findings.json").read_text())["findings"] if "ubuntu" in f["target"]
        ]

    first = report("r1")
    assert [f["code"] for f in first] == ["TEMPLATE_STALL_NOT_PROVABLE"]
    with sqlite3.connect(history) as conn:
        earlier = (datetime.now(UTC) - timedelta(hours=3)).isoformat()
        conn.execute("UPDATE csdiag_metrics SET at = ? WHERE name = 'download_pct'", (earlier,))
    second = report("r2")
    assert [(f["code"], f["severity"]) for f in second] == [("TEMPLATE_DOWNLOAD_STALLED", "CRIT")]
    assert "3.0 h" in second[0]["summary"]


def test_read_only_store_selectors_and_a_new_store(
    esite: Site, standin: StandIn, endpoint: str, tmp_path: Path
) -> None:
    """Placement through both: a read-only store with a download in progress, a selector naming it (4.19+),
    a store template sync never filled, a young store (no sync grace through the API: the expected
    difference is its severity)."""
    ids = healthy(esite)
    z = ids["zone"]
    ro = esite.store(z, "kvm-zone-ro", readonly=1)
    for tid in esite.builtin_ids("KVM"):
        esite.ref(tid, ro, minutes_ago=3000)
    t = esite.template("still-downloading")
    esite.ref(t, ids["store"], minutes_ago=2000)
    esite.ref(t, ro, download_state="DOWNLOAD_IN_PROGRESS", state="Creating", pct=70, size=0, physical_size=0,
              error_str="70% Downloaded", minutes_ago=1)  # fmt: skip
    if esite.columns("heuristics"):
        ro_uuid = esite.value("SELECT uuid FROM image_store WHERE id = %s", ro)
        esite.heuristic(z, f"secondaryStorages.filter(s => s.id == '{ro_uuid}')[0].id")
    esite.store(z, "kvm-zone-nfs2", age_days=2)
    only_db, only_api, api_findings = compare(esite, standin, endpoint, tmp_path)
    assert (only_db, only_api) == (set(), set())
    got = {f.target.split(" (")[0] for f in api_findings if f.code == "IMAGE_STORE_READ_ONLY_TARGET"}
    assert len(got) == (2 if esite.columns("heuristics") else 1)
    sync = [f for f in api_findings if f.code == "TEMPLATE_SYNC_INCOMPLETE"]
    assert sync and all("kvm-zone-nfs2" in f.target for f in sync)
    # a storage selector in the zone may direct templates elsewhere: INFO through both sources
    assert {f.severity.value for f in sync} == ({"INFO"} if esite.columns("heuristics") else {"WARN"})
    gaps = next(f for f in api_findings if f.code == "TEMPLATE_PLACEMENT_NOT_PROVABLE")
    assert "creation times" in gaps.summary
    assert ("selectors could not be listed" in gaps.summary) == (not esite.columns("heuristics"))


def test_a_young_store_is_warn_through_the_api(esite: Site, standin: StandIn, endpoint: str, tmp_path: Path) -> None:
    """Expected difference: the API shows no store creation time, so a store added 10 minutes ago (INFO from
    the database: template sync may still run) is WARN through the API, and the gap is said."""
    ids = healthy(esite)
    esite.store(ids["zone"], "kvm-zone-new", age_days=10 / 1440)
    publish(esite, standin)
    db = {(f.code, f.severity.value) for f in run(settings(esite, endpoint, tmp_path, "db"), (templates.CHECK,))}
    api = {(f.code, f.severity.value) for f in run(settings(esite, endpoint, tmp_path, "api"), (templates.CHECK,))}
    assert ("TEMPLATE_SYNC_INCOMPLETE", "INFO") in db and ("TEMPLATE_SYNC_INCOMPLETE", "WARN") not in db
    assert ("TEMPLATE_SYNC_INCOMPLETE", "WARN") in api and ("TEMPLATE_PLACEMENT_NOT_PROVABLE", "INFO") in api


def test_direct_download_certificates_through_both(
    esite: Site, standin: StandIn, endpoint: str, tmp_path: Path
) -> None:
    """Expiring, expired and missing-on-a-host certificates: the API's validity text gives the same verdicts."""
    from tests.integration.test_real_schemas import _pem

    ids = healthy(esite)
    z = ids["zone"]
    host = esite.value("SELECT id FROM host WHERE name = 'kvm-1'")
    esite.certificate(z, "ok", _pem(300), [host])
    esite.certificate(z, "soon", _pem(10), [host])
    esite.certificate(z, "gone", _pem(-3), [host])
    esite.kvm_host(z, "kvm-2")
    only_db, only_api, api_findings = compare(esite, standin, endpoint, tmp_path)
    assert (only_db, only_api) == (set(), set())
    got = sorted((f.code, f.severity.value) for f in api_findings if f.code.startswith("DIRECT_DOWNLOAD_CERT"))
    assert (
        got
        == [("DIRECT_DOWNLOAD_CERT_EXPIRING", "CRIT"), ("DIRECT_DOWNLOAD_CERT_EXPIRING", "WARN")]
        + [("DIRECT_DOWNLOAD_CERT_MISSING", "WARN")] * 3
    )
