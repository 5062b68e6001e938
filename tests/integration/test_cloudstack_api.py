"""The CloudStack API source against the strict stand-in server (tests/services/csapi.py)."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest
import requests

from diagnostics.config import ApiSettings
from diagnostics.sources import cloudstack_api
from diagnostics.sources.cloudstack_api import CloudStackApi
from diagnostics.sources.errors import AuthFailed, NotPermitted, ProtocolError, Timeout, Unreachable
from tests.services.csapi import Key, StandIn, api_server, sign

pytestmark = pytest.mark.integration

KEY, SECRET = "adminkey-7Hq", 's3cr"et/+=~ä'


@pytest.fixture
def standin() -> StandIn:
    templates = [
        {"id": f"t-{i}", "name": f"template-{i}", "isready": True, "status": "Download Complete"} for i in range(1234)
    ]
    return StandIn(
        keys={KEY: Key(SECRET), "userkey": Key("usersecret", allowed={"listZones", "listTemplates"})},
        lists={
            "listTemplates": templates,
            "listSystemVms": [
                {
                    "id": "ssvm-1",
                    "name": "s-11-VM",
                    "systemvmtype": "secondarystoragevm",
                    "state": "Running",
                    "agentstate": "Up",
                },
                {
                    "id": "cpvm-1",
                    "name": "v-12-VM",
                    "systemvmtype": "consoleproxy",
                    "state": "Running",
                    "agentstate": "Up",
                },
            ],
        },
    )


@pytest.fixture
def endpoint(standin: StandIn) -> Iterator[str]:
    with api_server(standin) as url:
        yield url


def settings(endpoint: str, monkeypatch: pytest.MonkeyPatch, *, key: str = KEY, secret: str = SECRET) -> ApiSettings:
    monkeypatch.setenv("CSDIAG_API_SECRET", secret)
    return ApiSettings(endpoint=endpoint, api_key=key, secret_key_env="CSDIAG_API_SECRET", timeout_s=10)


def api(
    endpoint: str, monkeypatch: pytest.MonkeyPatch, seconds: float = 10, *, key: str = KEY, secret: str = SECRET
) -> CloudStackApi:
    return CloudStackApi(settings(endpoint, monkeypatch, key=key, secret=secret), time.monotonic() + seconds)


def test_signed_calls_and_paging_within_the_clouds_page_size(
    endpoint: str, standin: StandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    standin.default_page_size = 100
    client = api(endpoint, monkeypatch)
    rows = client.list("listTemplates", templatefilter="all")
    assert [r["id"] for r in rows] == [f"t-{i}" for i in range(1234)]
    assert client.page_size == 100  # lowered after CloudStack refused 500
    sizes = {r.get("pagesize") for r in standin.requests if r.get("command") == "listTemplates"}
    assert sizes == {"500", "100"}
    assert all(r["signatureVersion"] == "3" and "expires" in r for r in standin.requests)


def test_filters_and_capabilities(endpoint: str, monkeypatch: pytest.MonkeyPatch) -> None:
    client = api(endpoint, monkeypatch)
    ssvms = client.list("listSystemVms", systemvmtype="secondarystoragevm")
    assert [s["name"] for s in ssvms] == ["s-11-VM"]
    assert client.call("listCapabilities")["capability"]["cloudstackversion"] == "4.22.0.0"


def test_wrong_secret_is_auth_failed_and_never_shown(endpoint: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(AuthFailed) as exc:
        api(endpoint, monkeypatch, secret="not-the-secret").call("listZones")
    assert "not-the-secret" not in str(exc.value) and "401" in str(exc.value)


def test_expired_and_re_signed_requests_are_refused(endpoint: str, standin: StandIn) -> None:
    base = {"command": "listZones", "apiKey": KEY, "response": "json", "signatureVersion": "3"}
    past = dict(base, expires="2020-01-01T00:00:00+0000")
    past["signature"] = sign(past, SECRET)
    assert requests.get(f"{endpoint}?{urlencode(past)}", timeout=5).status_code == 401
    good = dict(base, expires="2099-01-01T00:00:00+0000")
    good["signature"] = sign(good, SECRET)
    assert requests.get(f"{endpoint}?{urlencode(good)}", timeout=5).status_code == 200
    tampered = dict(good, command="listHosts")  # the old signature on other parameters
    assert requests.get(f"{endpoint}?{urlencode(tampered)}", timeout=5).status_code == 401


def test_a_key_without_admin_rights_gets_432_as_not_permitted(endpoint: str, monkeypatch: pytest.MonkeyPatch) -> None:
    client = api(endpoint, monkeypatch, key="userkey", secret="usersecret")
    assert client.list("listZones") == []
    with pytest.raises(NotPermitted, match="432"):
        client.list("listSystemVms")
    result = cloudstack_api.ping(
        settings(endpoint, monkeypatch, key="userkey", secret="usersecret"), time.monotonic() + 5
    )
    assert result.allowed["listZones"] and not result.allowed["runDiagnostics"]


def test_ping_reports_version_and_permissions(endpoint: str, monkeypatch: pytest.MonkeyPatch) -> None:
    result = cloudstack_api.ping(settings(endpoint, monkeypatch), time.monotonic() + 5)
    assert result.version == "4.22.0.0" and all(result.allowed.values())


def test_html_from_a_proxy_is_a_protocol_error(
    endpoint: str, standin: StandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    standin.html_proxy = True
    with pytest.raises(ProtocolError, match="not a CloudStack answer"):
        api(endpoint, monkeypatch).call("listZones")


def test_run_diagnostics_polls_the_job(endpoint: str, standin: StandIn, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[str, str, str, str]] = []

    def runner(target: str, kind: str, ip: str, params: str) -> tuple[int, str, str]:
        seen.append((target, kind, ip, params))
        return 1, "PING 127.0.0.2 8972(9000) bytes of data.\n3 packets transmitted, 0 received, 100% packet loss", ""

    standin.runner = runner
    result = api(endpoint, monkeypatch).run_diagnostics("ssvm-1", "ping", "127.0.0.2", "-M do -s 8972 -c 3")
    assert seen == [("ssvm-1", "ping", "127.0.0.2", "-M do -s 8972 -c 3")]
    assert result.exitcode == 1 and "100% packet loss" in result.stdout
    assert result.elapsed_s >= standin.job_delay_s


def test_a_job_that_never_ends_stops_at_the_deadline(
    endpoint: str, standin: StandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    standin.job_never_ends = True
    started = time.monotonic()
    with pytest.raises(Timeout, match="pending"):
        api(endpoint, monkeypatch, seconds=2).run_diagnostics("ssvm-1", "ping", "127.0.0.2")
    assert time.monotonic() - started < 3


def test_params_cloudstack_refuses_are_refused_before_sending(endpoint: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="refuses"):
        api(endpoint, monkeypatch).run_diagnostics("ssvm-1", "ping", "127.0.0.2", "-c 1; reboot")


def test_silent_and_closed_endpoints_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/client/api"
        started = time.monotonic()
        with pytest.raises(Timeout):
            api(url, monkeypatch, seconds=1.5).call("listZones")
        assert time.monotonic() - started < 2.5
        port = silent.getsockname()[1]
    with pytest.raises(Unreachable):
        api(f"http://127.0.0.1:{port}/client/api", monkeypatch).call("listZones")


def test_run_diagnostics_from_the_ssvm_namespace_sees_the_real_path_mtu(
    standin: StandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    """runDiagnostics as the SSVM would run it: the real ping inside the "SSVM" namespace of the mtu
    tests' topology (client —9000— router —1500— server), with the parameters CloudStack allows."""
    import subprocess

    from tests.services.netns import storage_paths, topology

    with topology() as t:
        net = storage_paths(t, server_mtu=1500)

        def in_ssvm(target: str, kind: str, ip: str, params: str) -> tuple[int, str, str]:
            cmd = ["ip", "netns", "exec", net["client"], kind, ip, *params.split()]
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=20, check=False)
            return r.returncode, r.stdout, r.stderr

        standin.runner = in_ssvm
        with api_server(standin) as url:
            client = api(url, monkeypatch, seconds=30)
            jumbo_to_router = client.run_diagnostics("ssvm-1", "ping", net["router_ip"], "-M do -s 8972 -c 2 -W 1")
            jumbo_to_store = client.run_diagnostics("ssvm-1", "ping", net["server_ip"], "-M do -s 8972 -c 2 -W 1")
            small_to_store = client.run_diagnostics("ssvm-1", "ping", net["server_ip"], "-M do -s 1472 -c 2 -W 1")
    assert jumbo_to_router.exitcode == 0 and " 0% packet loss" in jumbo_to_router.stdout
    # the router between them answers "Frag needed" with its next-hop MTU, and ping says so
    assert jumbo_to_store.exitcode == 1 and "Frag needed and DF set (mtu = 1500)" in jumbo_to_store.stdout
    assert small_to_store.exitcode == 0


def test_csdiag_api_ping_through_the_cli(endpoint: str, tmp_path: Path) -> None:
    from tests.conftest import run_cli, write_config

    env = {**os.environ, "CSDIAG_API_SECRET": SECRET}
    admin = write_config(
        tmp_path / "admin.toml",
        f'[cloudstack.api]\nendpoint = "{endpoint}"\napi_key = "{KEY}"\nsecret_key_env = "CSDIAG_API_SECRET"\n',
    )
    out = run_cli("api", "ping", "--config", str(admin), "--json", env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["version"] == "4.22.0.0" and all(doc["allowed"].values())
    assert SECRET not in out.stdout + out.stderr
    user = write_config(
        tmp_path / "user.toml",
        f'[cloudstack.api]\nendpoint = "{endpoint}"\napi_key = "userkey"\nsecret_key_env = "CSDIAG_API_SECRET"\n',
    )
    limited = run_cli("api", "ping", "--config", str(user), env={**env, "CSDIAG_API_SECRET": "usersecret"}, timeout=60)
    assert limited.returncode == 1 and "not allowed: " in limited.stdout and "runDiagnostics" in limited.stdout
    wrong = run_cli("api", "ping", "--config", str(admin), env={**env, "CSDIAG_API_SECRET": "nope"}, timeout=60)
    assert wrong.returncode == 3 and "AuthFailed" in wrong.stderr and "nope" not in wrong.stderr
    unset = run_cli(
        "api", "ping", "--config", str(admin), env={k: v for k, v in env.items() if k != "CSDIAG_API_SECRET"}
    )
    assert unset.returncode == 64 and "CSDIAG_API_SECRET" in unset.stderr


def test_a_failed_job_is_an_error_with_cloudstacks_text(endpoint: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A type CloudStack does not run fails the job, not the call (checked when the job runs): 530 + text."""
    client = api(endpoint, monkeypatch)
    with pytest.raises(ProtocolError, match="530: nslookup Is not a valid diagnostics command type"):
        client.run_async("runDiagnostics", targetid="ssvm-1", type="nslookup", ipaddress="127.0.0.2")
