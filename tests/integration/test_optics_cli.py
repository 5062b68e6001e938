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
    # real outputs (tests/data/cli/real, sources in its NOTES.md) as "command file = real file"
    "nx1": (
        "cisco_nxos",
        "nx1#",
        ["show_interface_transceiver_details=cisco_nxos__show_interface_transceiver_details__genie3"],
    ),
    "eos1": (
        "arista_eos",
        "eos1#",
        [
            "show_interfaces_transceiver_detail=arista_eos__show_interfaces_transceiver_detail__ntc",
            "show_interfaces_transceiver=arista_eos__show_interfaces_transceiver__ntc2",
        ],
    ),
    "vss1": (
        "cisco_ios",
        "vss1#",
        [
            "show_interfaces_transceiver=cisco_ios__show_interfaces_transceiver__napalm_vss_setup",
            "show_interfaces_transceiver_switch_1=cisco_ios__show_interfaces_transceiver_switch_1__napalm_vss",
            "show_interfaces_transceiver_switch_2=cisco_ios__show_interfaces_transceiver_switch_2__napalm_vss",
        ],
    ),
}


# what EOS answers to netmiko's session set-up (netmiko's arista driver waits for these words)
SESSION = {
    "arista_eos": {"terminal_length_0": "Pagination disabled.\n", "terminal_width_511": "Width set to 511 columns.\n"}
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
                command, _, real = f.partition("=")
                source = DATA / "real" / f"{real}.txt" if real else DATA / f"{platform}.{command}.txt"
                shutil.copy(source, folder / f"{command}.txt")
            for command, answer in SESSION.get(platform, {}).items():
                (folder / f"{command}.txt").write_text(answer)
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
    findings = json.loads(r.stdout)["findings"]
    got = {(f["target"], f["code"], f["severity"]) for f in findings}
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
    # real outputs over SSH: NX-OS details (per lane, the optic's own levels), Arista detail + table, a VSS
    assert {
        ("nx1:Ethernet1/50/1", "OPTICS_RX_LOW", "WARN"),  # −13.97 dBm below the optic's low warning −12.67
        ("nx1:Ethernet1/47/1", "OPTICS_OK", "INFO"),  # a QSFP-DD whose Tx/Rx read N/A: nothing to judge
        ("eos1:Et6/1", "OPTICS_OK", "INFO"),
        ("eos1:Et4/21/1", "OPTICS_NO_LIGHT", "UNKNOWN"),  # −30.00 dark lane, port status not read
        ("vss1:Te1/1/1", "OPTICS_RX_LOW", "CRIT"),  # member 1: −28.8 flagged -- by the switch
        ("vss1:Te2/1/1", "OPTICS_RX_LOW", "CRIT"),  # member 2: −24.1 --
        ("vss1:Te1/1/1", "OPTICS_BIAS_OUT_OF_RANGE", "WARN"),  # bias flagged -- while Tx is normal: no page
    } <= got
    assert not [g for g in got if g[0].startswith("eos1") and g[2] in ("WARN", "CRIT")]
    assert not [g for g in got if g[0] == "vss1" and g[1] == "OPTICS_NOT_SUPPORTED"]
    eos_rx = next(m for f in findings if f["target"] == "eos1:Et6/1" for m in f["metrics"] if m["name"] == "rx_power")
    assert (eos_rx["value"], eos_rx["warn"], eos_rx["crit"]) == (-0.9, -10.5, -11.5)  # the optic's own levels


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


def test_ssh_switches_are_polled_at_once_and_a_hung_one_costs_no_other_result(cli_switches, tmp_path):
    """Two switches that never show a prompt (sshd runs `sleep`) beside a working one, with a check deadline
    shorter than their sessions' timeouts: the run ends before the deadline, the working switch is judged,
    the hung ones are UNKNOWN with a timeout — not one CHECK_TIMEOUT that drops everything (issue 19)."""
    import time

    known = tmp_path / "known_hosts"
    with ExitStack() as stack:
        hung = [stack.enter_context(sshd_server(extra_config="ForceCommand sleep 120\n")) for _ in range(2)]
        ok = cli_switches["access1"]
        known.write_text("".join(s.known_hosts_line() for s in [ok, *hung]))
        body = (
            f'[[switches]]\nname = "access1"\nhost = "127.0.0.1"\nplatform = "cisco_ios"\ntransport = ["ssh"]\n'
            f'ssh = {{ username = "root", key_file = "{ok.client_key}", port = {ok.port}, timeout_s = 15 }}\n\n'
        )
        for i, s in enumerate(hung):
            body += (
                f'[[switches]]\nname = "hung{i}"\nhost = "127.0.0.1"\nplatform = "cisco_ios"\ntransport = ["ssh"]\n'
                f'ssh = {{ username = "root", key_file = "{s.client_key}", port = {s.port}, timeout_s = 60 }}\n\n'
            )
        cfg = write_config(
            tmp_path / "c.toml", f'[run]\ncheck_timeout_s = 20\n\n[ssh]\nknown_hosts = "{known}"\n\n{body}'
        )
        started = time.monotonic()
        r = run_cli("triage", "--config", str(cfg), "--only", "optics", "--format", "json", timeout=120)
        elapsed = time.monotonic() - started
    findings = json.loads(r.stdout)["findings"]
    codes = {(f["target"], f["code"]) for f in findings}
    assert elapsed < 20 + 5, elapsed
    assert not any(c == "CHECK_TIMEOUT" for _, c in codes), codes
    assert ("access1:Te1/1/2", "OPTICS_RX_LOW") in codes
    for name in ("hung0", "hung1"):
        [f] = [f for f in findings if f["target"] == name]
        assert f["severity"] == "UNKNOWN" and "deadline" in f["summary"], f
