"""The optics check against simulated switches (snmpsim serving .snmprec data in each vendor's MIB shape):
decoding per vendor, every code, SNMPv3 authPriv, unreachable and garbage devices, span loss both ways
and error counters rising between runs (history store)."""

import json
import os
import tempfile
from pathlib import Path

import pytest

from tests.conftest import run_cli, write_config
from tests.services import free_port
from tests.services.snmpsim import V3, Port, Switch, simulators

pytestmark = pytest.mark.integration
CACHE = tempfile.mkdtemp(prefix="csdiag-optics-cache-")  # the CLI's static-column cache, away from ~/.cache
PLATFORM = {
    "arista": "arista_eos",
    "cisco": "cisco_ios",
    "juniper": "juniper_junos",
    "huawei": "huawei_vrp",
    "nodom": "arista_eos",
    "garbage": "arista_eos",
}


def fleet():
    """A leaf (Arista) and a spine (Cisco) linked by LLDP, a Juniper with a QSFP, a Huawei, one without
    DOM and one that answers garbage."""
    leaf = Switch(
        "leaf1",
        "arista",
        [
            Port("Ethernet49", rx_dbm=-9.0, tx_dbm=-2.0, neighbour=("spine1", "TenGigabitEthernet1/1/1")),
            Port("Ethernet50", rx_dbm=None, admin_up=True, oper_up=False),  # dark on an enabled port
            Port("Ethernet51", rx_dbm=None, admin_up=False, oper_up=False),  # unused
            Port("Ethernet52", rx_dbm=-12.0, temp_c=78.0),  # low Rx warning, hot
        ],
    )
    spine = Switch(
        "spine1",
        "cisco",
        [
            Port("TenGigabitEthernet1/1/1", rx_dbm=-3.0, tx_dbm=-1.0, neighbour=("leaf1", "Ethernet49")),
            Port("TenGigabitEthernet1/1/2", rx_dbm=2.5, tx_dbm=-1.0),  # too much light
            Port("TenGigabitEthernet1/1/3", rx_dbm=-5.0, tx_dbm=-12.5, bias_ma=1.0),  # weak laser
        ],
    )
    jnx = Switch(
        "jnx1",
        "juniper",
        [
            Port("xe-0/0/0", rx_dbm=-19.74, tx_dbm=-10.31),
            Port("et-0/0/48", rx_dbm=-2.0, lanes=[-1.0, -1.5, -2.0, -15.0]),
            Port("xe-0/0/2", rx_dbm=-3.0, tx_dbm=3.4),  # above the optic's +3 dBm Tx high alarm
        ],
    )
    hw = Switch("hw1", "huawei", [Port("10GE1/0/1", rx_dbm=-5.2, tx_dbm=-2.3)])
    suspect = Switch("leaf2", "arista", [Port("Ethernet1", rx_dbm=-20.0)], nonsense_thresholds=True)
    nodom = Switch("nodom1", "nodom", [Port("Ethernet1")])
    garbage = Switch("junk1", "garbage", [Port("Ethernet1")])
    return [[leaf, spine, suspect, nodom], [jnx, hw, garbage]]


def config(tmp_path, sims, groups, extra="", community_of=None, v3=False):
    body = ""
    for sim, group in zip(sims, groups, strict=True):
        for sw in group:
            snmp = (
                f'{{ version = "3", user = "{V3["user"]}", auth_protocol = "sha", auth_key_env = "T_AUTH", '
                f'priv_protocol = "aes", priv_key_env = "T_PRIV", context = "{sw.name}", port = {sim.port}, '
                "timeout_s = 1, retries = 0 }"
                if v3
                else f'{{ community_env = "T_COMM_{sw.name.upper()}", port = {sim.port}, timeout_s = 1, retries = 0 }}'
            )
            body += f'[[switches]]\nname = "{sw.name}"\nhost = "127.0.0.1"\nplatform = "{PLATFORM[sw.vendor]}"\nsnmp = {snmp}\n\n'
    return write_config(tmp_path / "c.toml", f'[history]\nurl = "sqlite:///{tmp_path}/h.sqlite"\n\n' + body + extra)


def community(sw):
    """A switch's community (the simulator's data file name). Never the switch's own name: a community is a
    secret, and the runner redacts every secret out of the evidence before evaluate(), so a community equal
    to a switch name would mask that name in [[links]] and in the LLDP neighbours' system names."""
    return f"ro-{sw.name}"


def env_for(groups, overrides=None):
    env = {**os.environ, "T_AUTH": V3["auth"], "T_PRIV": V3["priv"], "XDG_CACHE_HOME": CACHE}
    for group in groups:
        for sw in group:
            env[f"T_COMM_{sw.name.upper()}"] = community(sw)
    env.update(overrides or {})
    return env


def triage(cfg, env, *extra):
    r = run_cli("triage", "--config", str(cfg), "--only", "optics", "--format", "json", *extra, env=env)
    assert r.returncode in (0, 1, 2, 3), r.stderr
    return json.loads(r.stdout)["findings"]


def by_target(findings):
    out = {}
    for f in findings:
        out.setdefault(f["target"], set()).add((f["code"], f["severity"]))
    return out


@pytest.fixture(scope="module")
def sims():
    groups = fleet()
    with simulators([[(community(sw), sw) for sw in g] for g in groups]) as running:
        yield running, groups


def test_every_vendor_decodes_and_every_code_comes_out(sims, tmp_path):
    running, groups = sims
    cfg = config(
        tmp_path,
        running,
        groups,
        extra='[[links]]\na = "leaf1:Ethernet49"\nb = "spine1:TenGigabitEthernet1/1/1"\nlength_km = 2.0\n',
    )
    findings = triage(cfg, env_for(groups))
    got = by_target(findings)
    metric = {(f["target"], m["name"]): m["value"] for f in findings for m in f["metrics"]}
    # decoding: each vendor's encoding to the right dBm, per port and lane
    assert metric[("leaf1:Ethernet49", "rx_power")] == pytest.approx(-9.0, abs=0.01)  # watts ×1e-4 mW
    assert metric[("spine1:TenGigabitEthernet1/1/1", "rx_power")] == -3.0  # Cisco dBm(14), precision 1
    assert metric[("jnx1:et-0/0/48/1", "rx_power")] == -1.5  # Juniper 0.01 dBm, per lane
    assert metric[("hw1:10GE1/0/1", "rx_power")] == -5.2  # Huawei 0.01 dBm
    assert got["leaf1:Ethernet50"] == {("OPTICS_NO_LIGHT", "CRIT")}
    assert got["leaf1:Ethernet51"] == {("OPTICS_NO_LIGHT", "INFO")}
    assert got["leaf1:Ethernet52"] == {("OPTICS_RX_LOW", "WARN"), ("OPTICS_TEMP_HIGH", "CRIT")}
    assert ("OPTICS_RX_HIGH", "CRIT") in got["spine1:TenGigabitEthernet1/1/2"]
    assert {("OPTICS_TX_LOW", "CRIT"), ("OPTICS_BIAS_OUT_OF_RANGE", "CRIT")} <= got["spine1:TenGigabitEthernet1/1/3"]
    assert ("OPTICS_RX_LOW", "CRIT") in got["jnx1:xe-0/0/0"]
    assert got["jnx1:xe-0/0/2"] == {("OPTICS_TX_HIGH", "CRIT")}
    assert ("OPTICS_RX_LOW", "CRIT") in got["jnx1:et-0/0/48/3"]  # one dim lane of a QSFP
    assert ("OPTICS_THRESHOLDS_SUSPECT", "WARN") in got["leaf2:Ethernet1"]
    assert ("OPTICS_RX_LOW", "CRIT") in got["leaf2:Ethernet1"]  # judged against the standard levels instead
    assert got["nodom1"] == {("OPTICS_NOT_SUPPORTED", "UNKNOWN")}
    assert ("OPTICS_READING_INVALID", "UNKNOWN") in got["junk1:Ethernet1"]
    assert got["hw1:10GE1/0/1"] == {("OPTICS_OK", "INFO")}
    # span loss both ways: leaf Tx −2.0 → spine Rx −3.0 = 1.0 dB; spine Tx −1.0 → leaf Rx −9.0 = 8.0 dB
    link = "leaf1:Ethernet49 ↔ spine1:TenGigabitEthernet1/1/1"
    assert got[link] == {("LINK_LOSS_HIGH", "CRIT"), ("LINK_LOSS_ASYMMETRIC", "WARN")}
    loss = next(f for f in findings if f["code"] == "LINK_LOSS_HIGH")
    assert loss["evidence"][0]["data"]["loss_db"] == {
        "leaf1:Ethernet49 → spine1:TenGigabitEthernet1/1/1": 1.0,
        "spine1:TenGigabitEthernet1/1/1 → leaf1:Ethernet49": 8.0,
    }
    assert loss["evidence"][0]["data"]["expected_db"] == 2.3  # 2 km × 0.4 dB/km + 2 × 0.75 dB connectors
    asym = next(f for f in findings if f["code"] == "LINK_LOSS_ASYMMETRIC")
    assert "spine1:TenGigabitEthernet1/1/1 → leaf1:Ethernet49 loses 7 dB more" in asym["summary"]


def test_unreachable_and_wrong_community(sims, tmp_path):
    running, _ = sims
    body = (
        f'[[switches]]\nname = "wrong"\nhost = "127.0.0.1"\nplatform = "arista_eos"\n'
        f'snmp = {{ community_env = "T_WRONG", port = {running[0].port}, timeout_s = 0.5, retries = 0 }}\n\n'
        f'[[switches]]\nname = "gone"\nhost = "127.0.0.1"\nplatform = "cisco_ios"\n'
        f'snmp = {{ community_env = "T_WRONG", port = {free_port()}, timeout_s = 0.5, retries = 0 }}\n'
    )
    cfg = write_config(tmp_path / "c.toml", body)
    findings = triage(cfg, {**os.environ, "T_WRONG": "not-the-community"})
    assert {(f["target"], f["code"], f["severity"]) for f in findings} == {
        ("wrong", "SWITCH_UNREACHABLE", "UNKNOWN"),
        ("gone", "SWITCH_UNREACHABLE", "UNKNOWN"),
    }
    assert all("no SNMP answer" in f["summary"] for f in findings)
    assert "not-the-community" not in json.dumps(findings)


def test_snmpv3_auth_priv_and_wrong_keys(tmp_path):
    groups = [[Switch("leaf9", "arista", [Port("Ethernet1", rx_dbm=-4.0)])]]
    with simulators([[(sw.name, sw) for sw in g] for g in groups], v3=True) as running:
        cfg = config(tmp_path, running, groups, v3=True)
        findings = triage(cfg, env_for(groups))
        assert {(f["target"], f["code"]) for f in findings} == {("leaf9:Ethernet1", "OPTICS_OK")}
        bad = triage(cfg, env_for(groups, {"T_AUTH": "wrong-auth-key-9"}))
    assert [(f["target"], f["code"]) for f in bad] == [("leaf9", "SWITCH_UNREACHABLE")]
    assert V3["auth"] not in json.dumps(bad) and "wrong-auth-key-9" not in json.dumps(bad)


def test_error_counters_rising_between_runs(tmp_path):
    def one_run(errors, rx):
        sw = Switch("edge1", "cisco", [Port("TenGigabitEthernet1/0/1", rx_dbm=rx, in_errors=errors, fcs_errors=errors)])
        groups = [[sw]]
        with simulators([[(community(sw), sw)]]) as running:
            cfg = config(tmp_path, running, groups)
            r = run_cli(
                "report",
                "--config",
                str(cfg),
                "--only",
                "optics",
                "--output",
                str(tmp_path / "out"),
                env=env_for(groups),
            )
            assert r.returncode in (0, 1, 2, 3), r.stderr
            return json.loads((tmp_path / "out" / "findings.json").read_text())["findings"]

    first = one_run(100, -3.0)
    assert [f["code"] for f in first] == ["OPTICS_OK"]  # no earlier sample: no delta yet
    second = one_run(180, -12.5)  # +80 errors and a low Rx: a dirty connector
    rising = next(f for f in second if f["code"] == "IF_ERRORS_RISING")
    assert rising["severity"] == "CRIT" and "dirty connector suspect" in rising["summary"]
    assert "in errors +80" in rising["summary"] and "fcs errors +80" in rising["summary"]


# --- every recorded real device (tests/data/devices/*/walk.snmprec) served by snmpsim, checked through the CLI
DEVICES = Path(__file__).resolve().parent.parent / "data" / "devices"


def _devices():
    return sorted(p for p in DEVICES.iterdir() if (p / "walk.snmprec").exists())


@pytest.fixture(scope="module")
def real_fleet():
    cases = _devices()
    groups = [cases[0::2], cases[1::2]]
    served = [[(f"ro-{c.name}", (c / "walk.snmprec").read_text(encoding="utf-8")) for c in g] for g in groups]
    with simulators(served) as running:
        yield running, groups


def test_real_devices_through_snmpsim_and_the_cli(real_fleet, tmp_path):
    """Each real device's walk over SNMP: the findings above INFO are exactly its case's (none on a healthy
    device), and every module-level Rx/Tx its case decodes comes out as the port's metric within 0.1 dB."""
    running, groups = real_fleet
    body = f'[history]\nurl = "sqlite:///{tmp_path}/h.sqlite"\n\n[run]\ncheck_timeout_s = 120\n\n'
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    for sim, group in zip(running, groups, strict=True):
        for case in group:
            platform = json.loads((case / "expected.json").read_text())["platform"]
            var = "T_COMM_" + case.name.upper().replace("-", "_")
            env[var] = f"ro-{case.name}"  # never the name itself: see community()
            body += (
                f'[[switches]]\nname = "{case.name}"\nhost = "127.0.0.1"\nplatform = "{platform}"\n'
                f'snmp = {{ community_env = "{var}", port = {sim.port}, timeout_s = 2, retries = 1 }}\n\n'
            )
    cfg = write_config(tmp_path / "c.toml", body)
    r = run_cli("triage", "--config", str(cfg), "--only", "optics", "--format", "json", env=env, timeout=300)
    assert r.returncode in (0, 1, 2, 3), r.stderr
    findings = json.loads(r.stdout)["findings"]
    metric = {(f["target"], m["name"]): m["value"] for f in findings for m in f["metrics"]}
    for group in groups:
        for case in group:
            expected = json.loads((case / "expected.json").read_text())
            mine = [f for f in findings if f["target"] == case.name or f["target"].startswith(case.name + ":")]
            assert mine, f"{case.name}: no finding at all"
            raised = sorted(
                (f["code"], f["severity"], f["target"]) for f in mine if f["severity"] not in ("INFO", "OK")
            )
            assert raised == sorted((e["code"], e["severity"], e["target"]) for e in expected["findings"]), case.name
            for e in expected["readings"]:
                key = (f"{case.name}:{e['port']}", f"{e['kind']}_power")
                if e["lane"] is None and e["kind"] in ("rx", "tx") and e["state"] == "ok" and key in metric:
                    assert metric[key] == pytest.approx(e["value"], abs=0.1), (case.name, e)


def test_the_direct_v2c_codec_reads_every_real_device_as_pysnmp_does(real_fleet):
    """diagnostics.sources.snmpfast (the sweep's v2c path) against pysnmp on every recorded real device:
    the same columns, rows and values (types included: integers, counters, text, hex octets, RowPointer
    OIDs), every table longer than one GETBULK of 25 rows read over several requests. The entity tree's
    text columns are left out for time (ifName, ifDescr and LLDP carry the same types)."""
    from checks import optics_decode as dec
    from diagnostics.sources import snmp

    running, groups = real_fleet
    jobs = []
    for sim, group in zip(running, groups, strict=True):
        for case in group:
            platform = json.loads((case / "expected.json").read_text())["platform"]
            target = snmp.Target(
                name=case.name, host="127.0.0.1", port=sim.port, community=f"ro-{case.name}", timeout_s=2, retries=1
            )
            big = {dec.ENT_DESCR, dec.ENT_CLASS, dec.ENT_CONTAINED_IN, dec.ENT_NAME}  # thousands of rows: text
            jobs.append((target, [c for c in [*dec.COMMON, *dec.COLUMNS[platform]] if c not in big]))
    fast = snmp.sweep(jobs, max_rep=25, deadline_s=120, fast=True)
    slow = snmp.sweep(jobs, max_rep=25, deadline_s=120, fast=False)
    assert not [n for n, r in slow.items() if "error" in r]
    for name, reference in slow.items():
        assert "error" not in fast[name], fast[name]["error"]
        assert fast[name]["columns"] == reference["columns"], name
        types = {(c, i): type(v) for c, rows in reference["columns"].items() for i, v in rows.items()}
        assert types == {(c, i): type(v) for c, rows in fast[name]["columns"].items() for i, v in rows.items()}
    assert sum(len(rows) for r in fast.values() for rows in r["columns"].values()) > 5000


def test_the_direct_v2c_codec_on_a_wrong_community_and_a_dead_port(sims):
    from diagnostics.sources import snmp

    running, _ = sims
    jobs = [
        (snmp.Target(name="wrong", host="127.0.0.1", port=running[0].port, community="nope", timeout_s=0.5, retries=0),
         ["1.3.6.1.2.1.2.2.1.8"]),
        (snmp.Target(name="gone", host="127.0.0.1", port=free_port(), community="x", timeout_s=0.5, retries=1),
         ["1.3.6.1.2.1.2.2.1.8"]),
    ]  # fmt: skip
    got = snmp.sweep(jobs, deadline_s=10)
    assert {n: r["error"]["kind"] for n, r in got.items()} == {"wrong": "Timeout", "gone": "Timeout"}
    assert "no SNMP answer" in got["gone"]["error"]["message"]


def test_a_warm_sweep_reads_only_what_changes_and_gives_the_same_data(real_fleet, tmp_path):
    """diagnostics.sources.snmpcache on every real device: the second sweep walks only the changing columns,
    takes the static ones (thresholds, entity tree, names) from the cache, and the result is the same."""
    from checks import optics_decode as dec
    from diagnostics.sources import snmp, snmpcache

    running, groups = real_fleet
    jobs = []
    for sim, group in zip(running, groups, strict=True):
        for case in group:
            platform = json.loads((case / "expected.json").read_text())["platform"]
            target = snmp.Target(
                name=case.name, host="127.0.0.1", port=sim.port, community=f"ro-{case.name}", timeout_s=2, retries=1
            )
            jobs.append((target, [*dec.COMMON, *dec.COLUMNS[platform]]))
    kw = {"cache_dir": tmp_path, "ttl_s": 3600, "deadline_s": 120}
    cold = snmpcache.sweep(jobs, dec.STATIC, dec.PAIRS, **kw)
    warm = snmpcache.sweep(jobs, dec.STATIC, dec.PAIRS, **kw)
    assert not [n for n, r in cold.items() if "error" in r]
    cached = {n for n, r in warm.items() if "static_from_cache" in r}
    with_uptime = {n for n, r in cold.items() if r["columns"].get(snmpcache.SYS_UPTIME)}  # LibreNMS lacks some
    # not cached: no sysUpTime to see a reboot, or rows the static partner lacks (huawei-ne8000-m8 has
    # ifAdminStatus rows without an ifName): those are read whole every time
    assert cached <= with_uptime and len(cached) >= 25
    for name in cold:
        assert warm[name]["columns"] == cold[name]["columns"], name
