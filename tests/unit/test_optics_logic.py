"""Optics decoding and evaluation on recorded values: sensor encodings and their quirks, no-light
spellings, nonsense thresholds, counter wraps and resets, span loss, port filters."""

import json
from pathlib import Path

import pytest

from checks import optics, optics_links, optics_rules
from checks import optics_decode as dec
from diagnostics.check import RawEvidence

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("kind", "args", "value", "state"),
    [
        ("rx", (6, 8, 4, 5412), -2.67, "ok"),  # Arista watts, milli, precision 4: 0.5412 mW
        ("rx", (6, 8, 4, 0), None, "no_light"),  # a dark but present optic reads raw 0
        ("rx", (14, 9, 1, -95), -9.5, "ok"),  # Cisco dBm(14), precision 1
        ("rx", (14, 9, 0, -4), -4.0, "ok"),  # Cisco integer dBm (precision 0 quirk)
        ("rx", (14, 9, 1, -400), None, "no_light"),  # the −40 dBm floor
        ("rx", (6, 8, 4, -1_000_000_000), None, "no_light"),  # underflow
        ("tx", (6, 8, 4, 1_000_000_000), None, "invalid"),  # overflow
        ("rx", (6, 8, 57, 5412), None, "invalid"),  # absurd precision
        ("rx", (6, 8, 4, "n/a"), None, "invalid"),  # garbage type
        ("rx", (8, 9, 1, 250), None, "invalid"),  # a "power" sensor that is in celsius
        ("temp", (8, 9, 1, 252), 25.2, "ok"),
        ("bias", (5, 8, 2, 3664), 36.64, "ok"),  # amperes, milli, precision 2 → mA
    ],
)
def test_entity_sensor_values(kind, args, value, state):
    v = dec.rfc3433(kind, *args, cisco=args[0] == 14)
    assert (v.value, v.state) == (value, state), v.reason


def test_no_light_spellings():
    assert dec.power_dbm(-40.0).state == "no_light"
    assert dec.power_dbm(-33.97).state == "no_light"
    assert dec.power_dbm(-29.9).state == "ok"
    assert dec.dbm_from_mw(0).state == "no_light"


def _huawei(rows):
    """hwOpticalModuleInfoTable rows {entPhysicalIndex: {column: value}} with their entPhysicalName."""
    cols = {dec.ENT_NAME: {idx: f"GE0/0/{idx}" for idx in rows}}
    for idx, row in rows.items():
        for c, v in row.items():
            cols.setdefault(f"1.3.6.1.4.1.2011.5.25.31.1.1.3.1.{c}", {})[idx] = v
    return {r.port: {k: v.value for k, v in r.values.items()} for r in dec.decode("huawei_vrp", cols).readings}


def test_huawei_units_are_decided_per_device():
    # NE8000 (tests/data/devices/huawei-ne8000-m8): one negative power → the device reports 0.01 dBm, so a
    # positive Tx of 256 is +2.56 dBm (not 256 µW), and its bias 34 is mA.
    dbm = _huawei({"1": {5: 35, 6: 3370, 7: 34, 8: -290, 9: 256, 13: -1600, 14: 0, 15: -150, 16: 450}})
    assert dbm["GE0/0/1"] == {"rx": -2.9, "tx": 2.56, "temp": 35.0, "voltage": 3.37, "bias": 34.0}
    # S5720 (huawei-s5720-32x-ei): only positive powers → µW; bias 22236 → µA.
    uw = _huawei({"1": {5: 45, 6: 3306, 7: 22236, 8: 78, 9: 252, 13: -2697, 14: 99, 15: -1300, 16: 99}})
    assert uw["GE0/0/1"] == {"rx": -11.08, "tx": -5.99, "temp": 45.0, "voltage": 3.306, "bias": 22.236}
    # Sentinels: an empty cage (−255, −1) gives no reading at all.
    assert _huawei({"1": {5: -255, 6: -1, 7: -1, 8: -1, 9: -1, 13: -1, 14: -1, 15: -1, 16: -1}}) == {}


def test_nonsense_thresholds_are_detected():
    assert optics_rules.sane_levels("rx", {"low_alarm": -14.0, "low_warn": -11.0, "high_warn": 1.0, "high_alarm": 2.0})
    assert not optics_rules.sane_levels("rx", {"low_alarm": 0.0, "low_warn": -30.0})  # alarm 0 dBm, warn −30 (seen)
    assert not optics_rules.sane_levels("rx", {"low_alarm": -40.0, "high_alarm": 2.0})
    assert not optics_rules.sane_levels("rx", {"low_alarm": -14.0, "high_alarm": -14.0})
    # equal warning and alarm levels are normal: bias low warn = low alarm = 0, Junos Tx high warn = alarm
    assert optics_rules.sane_levels("bias", {"low_alarm": 0.0, "low_warn": 0.0, "high_warn": 10.5, "high_alarm": 12.0})
    assert optics_rules.sane_levels("tx", {"low_alarm": -8.2, "low_warn": -7.2, "high_warn": 0.5, "high_alarm": 0.5})


@pytest.mark.parametrize(
    ("pattern", "port", "selected"),
    [
        ("Ethernet1-48", "Ethernet12", True),
        ("Ethernet1-48", "Ethernet49", False),
        ("Ethernet1-48", "Ethernet4/1", False),
        ("xe-0/0/*", "xe-0/0/7", True),
        ("xe-0/0/*", "et-0/0/48", False),
    ],
)
def test_port_filters(pattern, port, selected):
    assert optics_rules.port_selected(port, [pattern]) is selected
    assert optics_rules.port_selected(port, [])


def _evidence(in_errors, uptime, previous):
    """One Cisco port as walked, with the previous run's counters."""
    cols = {
        dec.IF_NAME: {"1": "Te1/1/1"},
        dec.IF_ADMIN: {"1": 1},
        dec.IF_OPER: {"1": 1},
        dec.IF_IN_ERRORS: {"1": in_errors},
        dec.DOT3_FCS: {"1": 0},
        dec.SYS_UPTIME: {"0": uptime},
        dec.ENT_CLASS: {"1001": 10, "10011": 8},
        dec.ENT_NAME: {"1001": "Te1/1/1", "10011": "Te1/1/1 Receive Power Sensor"},
        dec.ENT_CONTAINED_IN: {"10011": 1001},
        dec.ENT_ALIAS: {"1001.0": "1.3.6.1.2.1.2.2.1.1.1"},
        f"{dec.CISCO_SENSOR}.1": {"10011": 14},
        f"{dec.CISCO_SENSOR}.2": {"10011": 9},
        f"{dec.CISCO_SENSOR}.3": {"10011": 1},
        f"{dec.CISCO_SENSOR}.4": {"10011": -30},
    }
    return RawEvidence(
        data={
            "switches": {"sw": {"platform": "cisco_ios", "host": "192.0.2.1", "ports": [], "snmp": {"columns": cols}}},
            "links": [],
            "previous": {"sw:Te1/1/1": previous},
        }
    )


def _codes(raw):
    return [f.code for f in optics.CHECK.evaluate(raw, optics.OpticsParams())]


def test_counters_wrap_reset_and_reboot():
    before = {"in_errors": {"value": 2**32 - 5, "at": "2026-12-01T00:00:00+00:00"}, "sys_uptime": {"value": 1000}}
    assert "IF_ERRORS_RISING" in _codes(_evidence(20, 2000, before))  # Counter32 wrapped: +25
    small = {"in_errors": {"value": 500, "at": "x"}, "sys_uptime": {"value": 1000}}
    assert "IF_ERRORS_RISING" not in _codes(_evidence(20, 2000, small))  # cleared counters: no delta
    assert "IF_ERRORS_RISING" not in _codes(_evidence(900, 10, small))  # rebooted (uptime went back)
    assert "IF_ERRORS_RISING" in _codes(_evidence(515, 2000, small))
    assert "IF_ERRORS_RISING" not in _codes(_evidence(505, 2000, small))  # below errors_warn (10)


def test_span_loss_expectations():
    link = {"length_km": 10.0, "fiber_db_per_km": 0.4, "connectors": 2, "splices": 2, "type": None}
    assert optics_links.expected_loss(link, optics.OpticsParams()) == (6.1, "10 km × 0.4 dB/km + 2 connectors")
    assert optics_links.expected_loss({"type": "10GBASE-SR"}, optics.OpticsParams())[0] == 2.6
    assert optics_links.expected_loss(None, optics.OpticsParams())[0] == 6.2  # the default type's


def test_no_switches_is_said_not_passed():
    [finding] = optics.CHECK.evaluate(
        RawEvidence(data={"switches": {}, "links": [], "previous": {}}), optics.OpticsParams()
    )
    assert (finding.code, finding.severity.value) == ("OPTICS_NOT_CONFIGURED", "UNKNOWN")


# --- the recorded real devices (tests/data/devices/*: walk.snmprec, expected.json, NOTES.md) ------------------
DEVICES = Path(__file__).resolve().parent.parent / "data" / "devices"
TOLERANCE = {"rx": 0.1, "tx": 0.1, "temp": 0.1, "bias": 0.01}


def walk_columns(path: Path, columns: list[str]) -> dict[str, dict[str, object]]:
    """A .snmprec as diagnostics.sources.snmp returns a walk: ints, text (hex-tagged octets decoded),
    OBJECT IDENTIFIERs as dotted strings; keyed by column and row index."""
    out: dict[str, dict[str, object]] = {c: {} for c in columns}
    prefixes = sorted(columns, key=len, reverse=True)
    for line in path.read_text(encoding="utf-8").splitlines():
        oid, tag, value = line.split("|", 2)
        column = next((c for c in prefixes if oid.startswith(c + ".")), None)
        if column is None:
            continue
        if tag.endswith("x"):
            raw = bytes.fromhex(value)
            try:
                text = raw.decode("utf-8")
                parsed: object = text if text.isprintable() or not text else "0x" + raw.hex()
            except UnicodeDecodeError:
                parsed = "0x" + raw.hex()
        elif tag in ("2", "65", "66", "67", "70"):
            parsed = int(value)
        else:
            parsed = value
        out[column][oid[len(column) + 1 :]] = parsed
    return out


def device_cases():
    for d in sorted(p for p in DEVICES.iterdir() if (p / "walk.snmprec").exists()):
        yield pytest.param(d, id=d.name)


def _decoded(case: Path):
    expected = json.loads((case / "expected.json").read_text())
    platform = expected["platform"]
    cols = walk_columns(case / "walk.snmprec", [*dec.COMMON, *dec.COLUMNS[platform]])
    return expected, platform, cols, dec.decode(platform, cols)


@pytest.mark.parametrize("case", list(device_cases()))
def test_real_device_readings(case: Path):
    """Every value decoded independently from the MIB (expected.json) is read, within 0.1 dB / 0.1 °C /
    0.01 mA, on the same port and lane; no reading is invented; no-value and dark states agree."""
    expected, _, _, device = _decoded(case)
    ours = {(r.port, r.lane, k): v for r in device.readings for k, v in r.values.items() if k in TOLERANCE}
    theirs = {(e["port"], e["lane"], e["kind"]): e for e in expected["readings"]}
    for key, e in theirs.items():
        v = ours.get(key)
        if e["state"] == "unavailable":
            assert v is None or v.state == "unavailable", (key, v)
            continue
        assert v is not None, f"{key} missing (expected {e['state']} {e['value']})"
        assert v.state == e["state"], (key, v, e)
        if e["state"] == "ok":
            assert abs(v.value - e["value"]) <= TOLERANCE[e["kind"]] + 1e-9, (key, v.value, e["value"])
    invented = [(k, v.value) for k, v in ours.items() if k not in theirs and v.state in ("ok", "no_light")]
    assert not invented


@pytest.mark.parametrize("case", list(device_cases()))
def test_real_device_judgement(case: Path):
    """A healthy device gives nothing above INFO; each fault its case lists (code, severity, target) is found."""
    expected, platform, cols, _ = _decoded(case)
    raw = RawEvidence(
        data={
            "switches": {
                case.name: {"platform": platform, "host": "192.0.2.1", "ports": [], "snmp": {"columns": cols}}
            },
            "links": [],
            "previous": {},
        }
    )
    findings = list(optics.CHECK.evaluate(raw, optics.OpticsParams()))
    raised = sorted((f.code, f.severity.value, f.target) for f in findings if f.severity.value not in ("INFO", "OK"))
    want = sorted((f["code"], f["severity"], f["target"]) for f in expected["findings"])
    assert raised == want
    if expected["healthy"]:
        assert not [r for r in raised if r[1] in ("WARN", "CRIT")]


# --- real CLI outputs (tests/data/cli/real/*: ntc-templates' and NAPALM's recorded device output) -------------
CLI_REAL = Path(__file__).resolve().parent.parent / "data" / "cli" / "real"


# spot values read by hand from each file (port, lane, kind, value or "no_light" or None for absent, levels)
CLI_EXPECTED: dict[str, list[tuple]] = {
    "arista_eos__show_interfaces_transceiver__ntc2": [
        ("Et4/21/1", None, "rx", "no_light", {}),  # -30.00: a dark lane; its Last Update "27 days, 0:35:55 ago"
        ("Et3/17/2", None, "tx", -0.2, {}),
        ("Et3/1/1", None, "tx", None, {}),  # N/A
    ],
    "arista_eos__show_interfaces_transceiver_detail__ntc": [
        ("Et6/3", None, "tx", -0.78, {"high_alarm": 4.4, "high_warn": 3.4, "low_alarm": -9.6, "low_warn": -8.6}),
        ("Et7/1", None, "rx", -1.15, {"high_alarm": 4.4, "high_warn": 3.4, "low_alarm": -11.5, "low_warn": -10.5}),
        ("Et29/1", None, "bias", 21.9, {"high_alarm": 38.3, "high_warn": 37.35, "low_alarm": 0.0, "low_warn": 0.0}),
    ],
    "cisco_ios__show_interfaces_transceiver__genie_iosxe1": [
        ("Gi2/2", None, "rx", -18.7, {}),
        ("Gi2/2", None, "tx", 7.1, {}),
        ("Gi1/1", None, "rx", None, {}),
    ],
    "cisco_ios__show_interfaces_transceiver__genie_iosxe2": [  # a trailing Max Power (Watts) column
        ("Te1/1/1", None, "rx", "no_light", {}),
        ("Te1/1/1", None, "tx", -5.7, {}),
    ],
    "cisco_ios__show_interfaces_transceiver__genie_iosxe3": [
        ("Te4/0/4", None, "rx", "no_light", {}),
        ("Te4/0/18", None, "rx", -2.5, {}),
        ("Te1/0/9", None, "rx", None, {}),
    ],
    "cisco_nxos__show_interface_transceiver_details__genie1": [],  # "DOM is not supported"
    "cisco_nxos__show_interface_transceiver_details__genie2": [
        ("Ethernet1/63", 1, "temp", 21.02, {"high_alarm": 80.0, "low_alarm": -5.0, "high_warn": 75.0, "low_warn": 0.0}),
        ("Ethernet1/63", 1, "rx", None, {}),
    ],
    "cisco_nxos__show_interface_transceiver_details__genie3": [
        (
            "Ethernet1/50",
            3,
            "rx",
            -15.08,
            {"high_alarm": 4.99, "low_alarm": -16.77, "high_warn": 1.99, "low_warn": -12.67},
        ),
    ],
    "cisco_nxos__show_interface_transceiver_details__genie4": [
        (
            "Ethernet1/26",
            None,
            "tx",
            -2.54,
            {"high_alarm": 2.69, "low_alarm": -11.3, "high_warn": -1.3, "low_warn": -7.3},
        ),
        ("Ethernet1/26", None, "rx", None, {}),
    ],
    "juniper_junos__show_interfaces_diagnostics_optics__genie1": [
        ("xe-0/1/7", None, "rx", -2.32, {"high_alarm": 3.5, "low_alarm": -17.4, "high_warn": 0.5, "low_warn": -14.4}),
        ("xe-0/1/7", None, "temp", 36.0, {"high_alarm": 88.0, "low_alarm": -3.0, "high_warn": 85.0, "low_warn": 0.0}),
        ("xe-0/1/7", None, "bias", 37.682, {"high_alarm": 95.0, "low_alarm": 3.0, "high_warn": 90.0, "low_warn": 5.0}),
    ],
    "juniper_junos__show_interfaces_diagnostics_optics__genie2": [  # module lines without indentation
        ("et-0/0/0", None, "temp", 48.0, {"high_alarm": 74.0, "low_alarm": -4.0, "high_warn": 70.0, "low_warn": 0.0}),
        ("et-0/0/0", 2, "rx", 0.97, {"high_alarm": 5.5, "low_alarm": -13.6, "high_warn": 4.5, "low_warn": -10.6}),
        (
            "et-0/0/0",
            2,
            "bias",
            132.255,
            {"high_alarm": 175.0, "low_alarm": 75.0, "high_warn": 162.5, "low_warn": 87.5},
        ),
    ],
    "huawei_vrp__display_transceiver_verbose__zabberoni_s5730": [  # (dBM), a mangled (¡ãC), Warning levels
        ("XGigabitEthernet0/0/1", None, "rx", "no_light", {}),
        (
            "XGigabitEthernet0/0/1",
            None,
            "tx",
            0.53,
            {"high_alarm": 7.0, "low_alarm": -8.7, "high_warn": 4.0, "low_warn": -4.7},
        ),
        ("XGigabitEthernet0/0/1", None, "temp", 33.66, {"high_alarm": 75.0, "low_alarm": -5.0}),
    ],
}


def _cli_outputs(path: Path) -> tuple[str, dict[str, str]]:
    """(platform, outputs) for a file named <platform>__<command with _>__<source>.txt; a VSS member's output
    comes with the `% Incomplete command.` its switch gives to the plain command."""
    platform, command, _ = path.stem.split("__")
    command = command.replace("_", " ")
    text = path.read_text(encoding="utf-8")
    if " switch " in command:
        return platform, {"show interfaces transceiver": "% Incomplete command.\n", command: text}
    return platform, {command: text}


@pytest.mark.parametrize("path", sorted(CLI_REAL.glob("*.txt")), ids=lambda p: p.stem)
def test_real_cli_outputs_parse(path: Path):
    """Every recorded output parses without losing its table: readings for each optic row, none invalid and
    none without a port name; the spot values read by hand come out; a refusal (`% Incomplete command.` on a
    VSS) is a note, never a crash."""
    from checks import optics_cli

    platform, outputs = _cli_outputs(path)
    parsed = optics_cli.parse(platform, outputs)
    if len(outputs) == 1 and optics_cli.refused(next(iter(outputs.values()))):
        assert parsed["notes"] and not parsed["readings"]
        return
    expected = CLI_EXPECTED.get(path.stem)
    if expected == []:
        assert not parsed["readings"]
        return
    assert parsed["readings"], parsed["notes"]
    assert all("refused" not in n and "could not be parsed" not in n for n in parsed["notes"]), parsed["notes"]
    for r in parsed["readings"]:
        assert r["port"].strip()
        assert all(v["state"] != "invalid" for v in r["values"].values()), r
    by_key = {(r["port"], r["lane"]): r["values"] for r in parsed["readings"]}
    for port, lane, kind, value, levels in expected or []:
        got = by_key[(port, lane)].get(kind)
        if value is None:
            assert got is None, (port, lane, kind, got)
        elif value == "no_light":
            assert got["state"] == "no_light", (port, lane, kind, got)
        else:
            assert got["value"] == pytest.approx(value, abs=0.01) and got["state"] == "ok", (port, lane, kind, got)
            assert got["thresholds"] == levels, (port, lane, kind, got)


def test_real_cli_count_and_platforms():
    """The corpus: at least 20 real outputs, covering every platform the CLI path claims."""
    from checks import optics_cli

    files = sorted(CLI_REAL.glob("*.txt"))
    assert len(files) >= 20
    assert {p.name.split("__")[0] for p in files} == set(optics_cli.COMMANDS)


# --- bad input (issue 16): damaged walks and outputs give OPTICS_READING_INVALID, a note or nothing — never a
# crash, never a WARN/CRIT the intact data does not give
BAD_CASES = ["arista-eos", "cisco-nxos-n9k-c93180yc-fx3", "cisco-iosxe-c9200l", "juniper-qfx5100", "huawei-s5720"]


def _judge_cols(name: str, platform: str, cols) -> set[tuple[str, str, str]]:
    raw = RawEvidence(
        data={
            "switches": {name: {"platform": platform, "host": "192.0.2.1", "ports": [], "snmp": {"columns": cols}}},
            "links": [],
            "previous": {},
        }
    )
    return {(f.code, f.severity.value, f.target) for f in optics.CHECK.evaluate(raw, optics.OpticsParams())}


def _mutations(cols: dict[str, dict[str, object]], platform: str):
    dom = list(dec.COLUMNS[platform])
    yield "a DOM table missing", {c: ({} if c in dom[: max(1, len(dom) // 3)] else v) for c, v in cols.items()}
    yield "noSuchObject for half the columns", {c: ({} if i % 2 else v) for i, (c, v) in enumerate(cols.items())}
    yield (
        "wrong types",
        {
            c: {i: (f"x{x}" if isinstance(x, int) else 7) for i, x in v.items()} if c in dom[::2] else v
            for c, v in cols.items()
        },
    )
    yield "duplicate indexes", {c: {**v, **{f"{i}.0": x for i, x in v.items()}} for c, v in cols.items()}
    yield "every column empty", {c: {} for c in cols}


@pytest.mark.parametrize("name", BAD_CASES)
def test_damaged_walks_never_crash_nor_raise_a_false_alarm(name: str):
    _, platform, cols, _ = _decoded(DEVICES / name)
    intact = _judge_cols(name, platform, cols)
    alarms = {f for f in intact if f[1] in ("WARN", "CRIT")}
    for what, damaged in _mutations(cols, platform):
        got = _judge_cols(name, platform, damaged)
        new = {f for f in got if f[1] in ("WARN", "CRIT")} - alarms
        assert not new, (what, sorted(new))


def test_an_optic_reporting_plus_30_dbm_is_invalid_not_critical():
    _, platform, cols, _ = _decoded(DEVICES / "juniper-qfx5100")
    from checks.optics_dom.core import JNX_DOM

    rx = f"{JNX_DOM}.5"
    idx = next(i for i, v in cols[rx].items() if isinstance(v, int) and v > -3000)
    cols[rx][idx] = 3000  # +30.00 dBm in 0.01 dBm
    got = _judge_cols("j", platform, cols)
    mine = {f for f in got if f[0] == "OPTICS_READING_INVALID"}
    assert mine and all(f[1] == "UNKNOWN" for f in mine)
    assert not {f for f in got if f[0] == "OPTICS_RX_HIGH"}


def _cli_judge(platform: str, outputs: dict[str, str]) -> set[tuple[str, str, str]]:
    raw = RawEvidence(
        data={
            "switches": {"s": {"platform": platform, "host": "192.0.2.1", "ports": [], "cli": {"outputs": outputs}}},
            "links": [],
            "previous": {},
        }
    )
    return {(f.code, f.severity.value, f.target) for f in optics.CHECK.evaluate(raw, optics.OpticsParams())}


@pytest.mark.parametrize("path", sorted(CLI_REAL.glob("*.txt")), ids=lambda p: p.stem)
def test_a_cli_output_cut_mid_table_never_invents(path: Path):
    """The output cut in the middle of a line: what parses is a prefix of the intact readings, no new alarm."""
    from checks import optics_cli

    platform, outputs = _cli_outputs(path)
    intact = optics_cli.parse(platform, outputs)
    command, text = list(outputs.items())[-1]
    cut = {**outputs, command: text[: len(text) * 2 // 3]}
    parsed = optics_cli.parse(platform, cut)
    whole = {(r["port"], r["lane"]): r["values"] for r in intact["readings"]}
    for r in parsed["readings"]:
        assert r["port"].strip()
        for kind, v in r["values"].items():
            if (r["port"], r["lane"]) in whole and kind in whole[(r["port"], r["lane"])]:
                same = whole[(r["port"], r["lane"])][kind]
                assert v["value"] in (same["value"], None) or v["state"] == "invalid", (r["port"], kind, v, same)
    alarms = {f for f in _cli_judge(platform, outputs) if f[1] in ("WARN", "CRIT")}
    new = {f for f in _cli_judge(platform, cut) if f[1] in ("WARN", "CRIT")} - alarms
    assert not new, sorted(new)


def test_an_unknown_optic_type_is_judged_on_the_low_levels_only():
    text = (
        "GigabitEthernet0/0/1 information:\n"
        "  Transceiver Type :FOO_BAR_9000\n"
        "  Rx Power(dBM) :3.50\n"
        "  Tx Power(dBM) :-2.00\n"
    )
    got = _cli_judge("huawei_vrp", {"display transceiver verbose": text})
    assert not {f for f in got if f[1] in ("WARN", "CRIT")}, got  # +3.5 dBm is normal on many optics


def test_the_static_cache_is_dropped_on_a_reboot_a_port_change_or_new_rows():
    from diagnostics.sources import snmpcache as sc

    entry = {"at": 0, "uptime": 1000, "last_change": {"1": 50}, "columns": {"n": {"1": "Et1", "2": "Et2"}}}

    def fresh(uptime, last_change, admin):
        return {"columns": {sc.SYS_UPTIME: {"0": uptime}, sc.IF_LAST_CHANGE: last_change, "a": admin}}

    pairs = {"a": "n"}
    assert sc._still_valid(entry, fresh(2000, {"1": 50}, {"1": 1, "2": 1}), pairs)
    assert not sc._still_valid(entry, fresh(900, {"1": 50}, {"1": 1, "2": 1}), pairs)  # rebooted
    assert not sc._still_valid(entry, fresh(2000, {"1": 1500}, {"1": 1, "2": 1}), pairs)  # a link went down/up
    assert not sc._still_valid(entry, fresh(2000, {"1": 50}, {"1": 1, "2": 1, "3": 1}), pairs)  # a new port
