"""The optics check over SSH CLI: netmiko logs into a real sshd whose forced command replays recorded
switch output behind a vendor-like prompt (tests/services/fakecli.py); TextFSM parses it."""

import json
import shutil
import sys
from contextlib import ExitStack

import pytest

from tests.conftest import ROOT, run_cli, write_config
from tests.services.sshd import sshd_server

pytestmark = pytest.mark.integration
DATA = ROOT / "tests" / "data" / "cli"
SWITCHES = {  # name: platform, prompt, recorded files (platform.command.txt)
    "access1": ("cisco_ios", "access1#", ["show_interfaces_transceiver", "show_interfaces_status"]),
    "core1": ("juniper_junos", "netops@core1> ", ["show_interfaces_diagnostics_optics"]),
    "ce1": ("huawei_vrp", "<ce1>", ["display_transceiver_verbose", "display_interface_brief"]),
    "old1": ("cisco_ios", "old1#", []),  # answers % Invalid input to everything
}


@pytest.fixture(scope="module")
def cli_switches(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    with ExitStack() as stack:
        servers = {}
        for name, (platform, prompt, files) in SWITCHES.items():
            folder = root / name
            folder.mkdir()
            for f in files:
                shutil.copy(DATA / f"{platform}.{f}.txt", folder / f"{f}.txt")
            force = f"ForceCommand {sys.executable} {ROOT / 'tests/services/fakecli.py'} {folder} '{prompt}'\n"
            servers[name] = stack.enter_context(sshd_server(extra_config=force))
        yield servers


def test_cli_switches_are_read_and_judged(cli_switches, tmp_path):
    body = ""
    known = tmp_path / "known_hosts"
    known.write_text("".join(s.known_hosts_line() for s in cli_switches.values()))
    for name, (platform, _, _) in SWITCHES.items():
        s = cli_switches[name]
        body += (
            f'[[switches]]\nname = "{name}"\nhost = "127.0.0.1"\nplatform = "{platform}"\ntransport = ["ssh"]\n'
            f'ssh = {{ username = "root", key_file = "{s.client_key}", port = {s.port}, timeout_s = 15 }}\n\n'
        )
    cfg = write_config(tmp_path / "c.toml", f'[ssh]\nknown_hosts = "{known}"\n\n{body}')
    r = run_cli("triage", "--config", str(cfg), "--only", "optics", "--format", "json", timeout=240)
    assert r.returncode in (0, 1, 2, 3), r.stderr
    got = {(f["target"], f["code"], f["severity"]) for f in json.loads(r.stdout)["findings"]}
    assert {
        ("access1:Te1/1/2", "OPTICS_RX_LOW", "CRIT"),  # -19.7 -- on an LR optic
        ("access1:Te1/1/3", "OPTICS_RX_LOW", "WARN"),  # the switch's own "-" flag
        ("access1:Te1/1/5", "OPTICS_NO_LIGHT", "INFO"),  # -40.0 on a disabled port
        ("core1:et-0/0/48/1", "OPTICS_NO_LIGHT", "UNKNOWN"),  # "- Inf" on one lane of a QSFP
        ("core1:xe-0/0/0", "OPTICS_RX_LOW", "WARN"),
        ("ce1:10GE1/0/1", "OPTICS_RX_LOW", "CRIT"),
        ("ce1:10GE1/0/2", "OPTICS_NO_LIGHT", "INFO"),  # *down: administratively down
        ("old1", "OPTICS_NOT_SUPPORTED", "UNKNOWN"),  # % Invalid input
    } <= got
    assert ("access1:Te1/1/1", "OPTICS_OK", "INFO") in got


def test_an_unknown_host_key_is_refused(cli_switches, tmp_path):
    s = cli_switches["access1"]
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    cfg = write_config(
        tmp_path / "c.toml",
        f'[ssh]\nknown_hosts = "{empty}"\n\n[[switches]]\nname = "access1"\nhost = "127.0.0.1"\n'
        f'platform = "cisco_ios"\ntransport = ["ssh"]\n'
        f'ssh = {{ username = "root", key_file = "{s.client_key}", port = {s.port}, timeout_s = 10 }}\n',
    )
    r = run_cli("triage", "--config", str(cfg), "--only", "optics", "--format", "json", timeout=120)
    [finding] = json.loads(r.stdout)["findings"]
    assert (finding["code"], finding["severity"]) == ("SWITCH_UNREACHABLE", "UNKNOWN")
    assert "host key" in finding["summary"].lower() or "not found in known_hosts" in finding["summary"]
