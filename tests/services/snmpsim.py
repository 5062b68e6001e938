"""Simulated switches for the optics tests and benchmark: `.snmprec` data in each vendor's MIB shape
(optics.md §2), served by snmpsim processes on loopback (a single simulator serialises its requests, so
many switches get several processes). The data file name is the SNMP community (v1/v2c) or the SNMPv3
context name."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tests.services import free_port, stop, unavailable

INT, STR, OID, COUNTER32, TICKS = 2, 4, 6, 65, 67
V3 = {"user": "csdiag-mon", "auth": "auth-key-123456", "priv": "priv-key-123456"}


@dataclass
class Port:
    name: str
    rx_dbm: float | None = -3.0  # None: no light
    tx_dbm: float | None = -2.0
    temp_c: float = 35.0
    bias_ma: float = 36.0
    admin_up: bool = True
    oper_up: bool = True
    in_errors: int = 0
    fcs_errors: int = 0
    neighbour: tuple[str, str] | None = None  # (system, port)
    lanes: list[float] = field(default_factory=list)  # per-lane Rx dBm (QSFP)


@dataclass
class Switch:
    name: str
    vendor: str  # arista | cisco | juniper | huawei | nodom | garbage
    ports: list[Port]
    uptime: int = 8640000
    thresholds: dict[str, float] = field(
        default_factory=lambda: {"rx_low_alarm": -14.0, "rx_low_warn": -11.0, "rx_high_warn": 1.0, "rx_high_alarm": 2.0}
    )
    nonsense_thresholds: bool = False


def _line(oid: str, tag: int, value: object) -> tuple[tuple[int, ...], str]:
    return tuple(int(x) for x in oid.split(".")), f"{oid}|{tag}|{value}"


def _common(sw: Switch) -> list[tuple[tuple[int, ...], str]]:
    out = [_line("1.3.6.1.2.1.1.3.0", TICKS, sw.uptime), _line("1.0.8802.1.1.2.1.3.3.0", STR, sw.name)]
    for i, p in enumerate(sw.ports, 1):
        out += [
            _line(f"1.3.6.1.2.1.31.1.1.1.1.{i}", STR, p.name),
            _line(f"1.3.6.1.2.1.2.2.1.7.{i}", INT, 1 if p.admin_up else 2),
            _line(f"1.3.6.1.2.1.2.2.1.8.{i}", INT, 1 if p.oper_up else 2),
            _line(f"1.3.6.1.2.1.2.2.1.14.{i}", COUNTER32, p.in_errors),
            _line(f"1.3.6.1.2.1.10.7.2.1.3.{i}", COUNTER32, p.fcs_errors),
            _line(f"1.0.8802.1.1.2.1.3.7.1.3.{i}", STR, p.name),
        ]
        if p.neighbour:
            out += [
                _line(f"1.0.8802.1.1.2.1.4.1.1.6.0.{i}.1", INT, 5),
                _line(f"1.0.8802.1.1.2.1.4.1.1.7.0.{i}.1", STR, p.neighbour[1]),
                _line(f"1.0.8802.1.1.2.1.4.1.1.9.0.{i}.1", STR, p.neighbour[0]),
            ]
    return out


def _mw(dbm: float | None) -> float:
    return 0.0 if dbm is None else 10 ** (dbm / 10)


def _arista(sw: Switch) -> list[tuple[tuple[int, ...], str]]:
    out = []
    t = sw.thresholds
    for i, p in enumerate(sw.ports, 1):
        sensors = {  # Arista pattern 1003XX21Y: 1 bias, 2 Tx power, 3 Rx power; temperature 1003XX201
            1: ("DOM TX Bias Sensor", 5, 8, 2, round(p.bias_ma * 100)),
            2: ("DOM TX Power Sensor", 6, 8, 4, round(_mw(p.tx_dbm) * 10000)),
            3: ("DOM RX Power Sensor", 6, 8, 4, round(_mw(p.rx_dbm) * 10000)),
            0: ("DOM Temperature Sensor", 8, 9, 1, round(p.temp_c * 10)),
        }
        for y, (text, stype, scale, prec, value) in sensors.items():
            idx = 100300000 + i * 1000 + 200 + (10 + y if y else 1)
            out += [
                _line(f"1.3.6.1.2.1.47.1.1.1.1.2.{idx}", STR, f"{text} for {p.name}"),
                _line(f"1.3.6.1.2.1.99.1.1.1.1.{idx}", INT, stype),
                _line(f"1.3.6.1.2.1.99.1.1.1.2.{idx}", INT, scale),
                _line(f"1.3.6.1.2.1.99.1.1.1.3.{idx}", INT, prec),
                _line(f"1.3.6.1.2.1.99.1.1.1.4.{idx}", INT, value),
            ]
            if y == 3:  # Rx thresholds in the sensor's raw units
                raw = [
                    round(_mw(t[k]) * 10000) for k in ("rx_low_warn", "rx_low_alarm", "rx_high_warn", "rx_high_alarm")
                ]
                if sw.nonsense_thresholds:
                    raw = [round(_mw(-30) * 10000), round(_mw(0) * 10000), round(_mw(3) * 10000), round(_mw(4) * 10000)]
                out += [
                    _line(f"1.3.6.1.4.1.30065.3.12.1.1.1.{c}.{idx}", INT, v)
                    for c, v in zip((1, 2, 3, 4), raw, strict=True)
                ]
    return out


def _cisco(sw: Switch) -> list[tuple[tuple[int, ...], str]]:
    out = []
    t = sw.thresholds
    for i, p in enumerate(sw.ports, 1):
        port_ent = 1000 + i
        out += [
            _line(f"1.3.6.1.2.1.47.1.1.1.1.5.{port_ent}", INT, 10),
            _line(f"1.3.6.1.2.1.47.1.1.1.1.7.{port_ent}", STR, p.name),
            _line(f"1.3.6.1.2.1.47.1.3.2.1.2.{port_ent}.0", OID, f"1.3.6.1.2.1.2.2.1.1.{i}"),
        ]
        sensors = {
            1: ("Receive Power Sensor", 14, 9, 1, None if p.rx_dbm is None else round(p.rx_dbm * 10)),
            2: ("Transmit Power Sensor", 14, 9, 1, None if p.tx_dbm is None else round(p.tx_dbm * 10)),
            3: ("Temperature Sensor", 8, 9, 1, round(p.temp_c * 10)),
            4: ("Bias Current Sensor", 5, 8, 1, round(p.bias_ma * 10)),
        }
        for s, (text, stype, scale, prec, value) in sensors.items():
            ent = port_ent * 10 + s
            out += [
                _line(f"1.3.6.1.2.1.47.1.1.1.1.4.{ent}", INT, port_ent),
                _line(f"1.3.6.1.2.1.47.1.1.1.1.5.{ent}", INT, 8),
                _line(f"1.3.6.1.2.1.47.1.1.1.1.7.{ent}", STR, f"{p.name} {text}"),
                _line(f"1.3.6.1.4.1.9.9.91.1.1.1.1.1.{ent}", INT, stype),
                _line(f"1.3.6.1.4.1.9.9.91.1.1.1.1.2.{ent}", INT, scale),
                _line(f"1.3.6.1.4.1.9.9.91.1.1.1.1.3.{ent}", INT, prec),
                _line(f"1.3.6.1.4.1.9.9.91.1.1.1.1.4.{ent}", INT, -400 if value is None else value),
            ]
            if s == 1:  # severity critical(30)/minor(10), relation lessThan(1)/greaterThan(3), dBm × 10
                for n, (sev, rel, key) in enumerate(
                    (
                        (30, 1, "rx_low_alarm"),
                        (10, 1, "rx_low_warn"),
                        (10, 3, "rx_high_warn"),
                        (30, 3, "rx_high_alarm"),
                    ),
                    1,
                ):
                    out += [
                        _line(f"1.3.6.1.4.1.9.9.91.1.2.1.1.2.{ent}.{n}", INT, sev),
                        _line(f"1.3.6.1.4.1.9.9.91.1.2.1.1.3.{ent}.{n}", INT, rel),
                        _line(f"1.3.6.1.4.1.9.9.91.1.2.1.1.4.{ent}.{n}", INT, round(t[key] * 10)),
                    ]
    return out


def _juniper(sw: Switch) -> list[tuple[tuple[int, ...], str]]:
    out = []
    t = sw.thresholds
    base = "1.3.6.1.4.1.2636.3.60.1.1.1.1"
    for i, p in enumerate(sw.ports, 1):
        values = {
            5: -4000 if p.rx_dbm is None else round(p.rx_dbm * 100),
            6: round(p.bias_ma * 1000),
            7: -4000 if p.tx_dbm is None else round(p.tx_dbm * 100),
            8: round(p.temp_c),
            9: round(t["rx_high_alarm"] * 100),
            10: round(t["rx_low_alarm"] * 100),
            11: round(t["rx_high_warn"] * 100),
            12: round(t["rx_low_warn"] * 100),
            17: 300,  # Tx high alarm +3 dBm, low alarm −10.5, high warning +2, low warning −8.5
            18: -1050,
            19: 200,
            20: -850,
            21: 75,
            22: -5,
            23: 70,
            24: 0,
            25: 3300,
            30: max(1, len(p.lanes)),
        }
        out += [_line(f"{base}.{c}.{i}", INT, v) for c, v in values.items()]
        for lane, rx in enumerate(p.lanes):
            out += [
                _line(f"1.3.6.1.4.1.2636.3.60.1.2.1.1.6.{i}.{lane}", INT, round(rx * 100)),
                _line(f"1.3.6.1.4.1.2636.3.60.1.2.1.1.7.{i}.{lane}", INT, round(p.bias_ma * 1000)),
                _line(f"1.3.6.1.4.1.2636.3.60.1.2.1.1.8.{i}.{lane}", INT, round((p.tx_dbm or -40) * 100)),
            ]
    return out


def _huawei(sw: Switch) -> list[tuple[tuple[int, ...], str]]:
    out = []
    t = sw.thresholds
    base = "1.3.6.1.4.1.2011.5.25.31.1.1.3.1"
    for i, p in enumerate(sw.ports, 1):
        ent = 16842752 + i
        out += [
            _line(f"1.3.6.1.2.1.47.1.1.1.1.7.{ent}", STR, p.name),
            _line(f"{base}.5.{ent}", INT, round(p.temp_c)),
            _line(f"{base}.6.{ent}", INT, 3300),
            _line(f"{base}.7.{ent}", INT, round(p.bias_ma * 1000)),
            _line(f"{base}.8.{ent}", INT, -4000 if p.rx_dbm is None else round(p.rx_dbm * 100)),
            _line(f"{base}.9.{ent}", INT, -4000 if p.tx_dbm is None else round(p.tx_dbm * 100)),
            _line(f"{base}.13.{ent}", INT, round(t["rx_low_alarm"] * 100)),
            _line(f"{base}.14.{ent}", INT, round(t["rx_high_alarm"] * 100)),
        ]
    return out


def _garbage(sw: Switch) -> list[tuple[tuple[int, ...], str]]:
    """Arista-shaped, but every sensor value is text and one precision is absurd."""
    lines = []
    for key, line in _arista(sw):
        oid = line.split("|", 1)[0]
        if oid.startswith("1.3.6.1.2.1.99.1.1.1.4."):
            lines.append((key, f"{oid}|{STR}|n/a"))
        elif oid.startswith("1.3.6.1.2.1.99.1.1.1.3.") and oid.endswith("13"):
            lines.append((key, f"{oid}|{INT}|57"))
        else:
            lines.append((key, line))
    return lines


def snmprec(sw: Switch) -> str:
    vendor = {
        "arista": _arista,
        "cisco": _cisco,
        "juniper": _juniper,
        "huawei": _huawei,
        "garbage": _garbage,
        "nodom": lambda s: [],
    }[sw.vendor]
    lines = sorted(_common(sw) + vendor(sw))
    return "\n".join(text for _, text in lines) + "\n"


@dataclass
class Simulator:
    port: int
    communities: list[str]


def _ready(sim: Simulator, v3: bool, deadline: float) -> bool:
    from diagnostics.sources import snmp

    community = sim.communities[0]
    target = (
        snmp.Target(
            name="probe",
            host="127.0.0.1",
            port=sim.port,
            version="3",
            user=V3["user"],
            auth_protocol="sha",
            auth_key=V3["auth"],
            priv_protocol="aes",
            priv_key=V3["priv"],
            context=community,
            timeout_s=0.5,
            retries=0,
        )
        if v3
        else snmp.Target(name="probe", host="127.0.0.1", port=sim.port, community=community, timeout_s=0.5, retries=0)
    )
    while time.monotonic() < deadline:
        if "error" not in snmp.sweep([(target, ["1.3.6.1.2.1.1.3"])], deadline_s=2)["probe"]:
            return True
        time.sleep(0.1)
    return False


@contextmanager
def simulators(groups: Sequence[Sequence[tuple[str, Switch | str]]], v3: bool = False) -> Iterator[list[Simulator]]:
    """One snmpsim process per group, serving each (community, switch) of the group on loopback; a switch
    given as text is recorded .snmprec data (tests/data/devices/*/walk.snmprec)."""
    exe = Path(sys.executable).parent / "snmpsim-command-responder"
    if not exe.exists():
        unavailable("snmpsim not installed (pip install -e '.[test]')")
    root = Path(tempfile.mkdtemp(prefix="csdiag-snmpsim-"))
    procs: list[subprocess.Popen[bytes]] = []
    sims = []
    try:
        for n, group in enumerate(groups):
            data, cache = root / f"data{n}", root / f"cache{n}"
            data.mkdir()
            cache.mkdir()
            for community, sw in group:
                (data / f"{community}.snmprec").write_text(sw if isinstance(sw, str) else snmprec(sw))
            sim = Simulator(port=free_port(), communities=[c for c, _ in group])
            sims.append(sim)
            args = [
                str(exe),
                f"--data-dir={data}",
                f"--cache-dir={cache}",
                f"--agent-udpv4-endpoint=127.0.0.1:{sim.port}",
            ]
            if v3:
                args += [
                    f"--v3-user={V3['user']}",
                    f"--v3-auth-key={V3['auth']}",
                    "--v3-auth-proto=SHA",
                    f"--v3-priv-key={V3['priv']}",
                    "--v3-priv-proto=AES",
                ]
            log = (root / f"sim{n}.log").open("wb")
            procs.append(
                subprocess.Popen(
                    args, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "SNMPSIM_ALLOW_ROOT": "true"}
                )
            )
        until = time.monotonic() + 120 + 3 * sum(len(g) for g in groups)  # each data file is indexed at start
        for n, sim in enumerate(sims):
            if not _ready(sim, v3, until):
                unavailable(f"snmpsim did not answer: {(root / f'sim{n}.log').read_text(errors='replace')[-800:]}")
        yield sims
    finally:
        for proc in procs:
            stop(proc)
        shutil.rmtree(root, ignore_errors=True)


def many(
    count: int, ports: int = 48, vendors: Sequence[str] = ("arista", "cisco", "juniper", "huawei")
) -> list[Switch]:
    """``count`` switches of ``ports`` ports each, vendors in turn, for the benchmark."""
    out = []
    for n in range(count):
        vendor = vendors[n % len(vendors)]
        names = {
            "arista": "Ethernet{}",
            "cisco": "TenGigabitEthernet1/0/{}",
            "juniper": "xe-0/0/{}",
            "huawei": "10GE1/0/{}",
        }[vendor]
        out.append(
            Switch(
                name=f"sw{n:03d}",
                vendor=vendor,
                ports=[Port(name=names.format(i), rx_dbm=-2.0 - (i % 7) * 0.5) for i in range(1, ports + 1)],
            )
        )
    return out
