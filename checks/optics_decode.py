"""Decoding DOM readings from SNMP walks, per platform (facts: ../shared/docs/optics.md §2; the vendor
decoders and the data model live in checks/optics_dom/).

:func:`decode` turns the columns walked on one device into a :class:`Device`; :data:`COLUMNS` says which
columns each platform needs beyond :data:`COMMON` (IF-MIB, LLDP, sysUpTime).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from checks.optics_dom import cisco, core, entity, huawei, juniper
from checks.optics_dom.core import (
    CISCO_SENSOR,
    COMMON,
    DOT3_FCS,
    ENT_ALIAS,
    ENT_CLASS,
    ENT_CONTAINED_IN,
    ENT_DESCR,
    ENT_NAME,
    IF_ADMIN,
    IF_DESCR,
    IF_IN_ERRORS,
    IF_NAME,
    IF_OPER,
    LLDP_LOC_SYSNAME,
    SYS_UPTIME,
    Device,
    Reading,
    Value,
    as_int,
    dbm_from_mw,
    interfaces,
    kind_of,
    neighbours,
    plausible,
    power_dbm,
    rfc3433,
    scalar,
)

__all__ = [
    "CISCO_SENSOR",
    "COLUMNS",
    "COMMON",
    "DOT3_FCS",
    "ENT_ALIAS",
    "ENT_CLASS",
    "ENT_CONTAINED_IN",
    "ENT_DESCR",
    "ENT_NAME",
    "IF_ADMIN",
    "IF_DESCR",
    "IF_IN_ERRORS",
    "IF_NAME",
    "IF_OPER",
    "PAIRS",
    "PLATFORMS",
    "STATIC",
    "SYS_UPTIME",
    "Device",
    "Reading",
    "Value",
    "dbm_from_mw",
    "decode",
    "kind_of",
    "plausible",
    "power_dbm",
    "rfc3433",
]

Decoder = Callable[[Mapping[str, Mapping[str, Any]], Mapping[int, Mapping[str, Any]], list[str]], list[Reading]]
PLATFORMS: dict[str, tuple[Decoder, list[str]]] = {
    "cisco_ios": (cisco.decode, cisco.COLUMNS),
    "cisco_xe": (cisco.decode, cisco.COLUMNS),
    "cisco_xr": (cisco.decode, cisco.COLUMNS),
    "cisco_nxos": (cisco.decode, cisco.COLUMNS),
    "arista_eos": (entity.decode, entity.ARISTA),
    "sonic": (entity.decode, entity.RFC3433),
    "juniper_junos": (juniper.decode, juniper.COLUMNS),
    "huawei_vrp": (huawei.decode, huawei.COLUMNS),
    "generic": (entity.decode, entity.RFC3433),
}
COLUMNS: dict[str, list[str]] = {name: columns for name, (_, columns) in PLATFORMS.items()}

# Columns that stay the same while a switch runs with the same optics (names, the entity tree, sensor
# types/scales/precisions, the optics' own thresholds): diagnostics.sources.snmpcache keeps them between runs.
STATIC: frozenset[str] = frozenset(
    (
        IF_NAME,
        IF_DESCR,
        LLDP_LOC_SYSNAME,
        core.LLDP_LOC_PORT_ID,
        ENT_DESCR,
        ENT_CONTAINED_IN,
        ENT_CLASS,
        ENT_NAME,
        ENT_ALIAS,
        *(f"{core.SENSOR}.{c}" for c in (1, 2, 3, 6)),
        *(f"{CISCO_SENSOR}.{c}" for c in (1, 2, 3)),
        *(f"{core.CISCO_THRESHOLD}.{c}" for c in (2, 3, 4)),
        *(f"{core.ARISTA_THRESHOLD}.{c}" for c in (1, 2, 3, 4)),
        *(f"{core.JNX_DOM}.{c}" for c in (*range(9, 25), 30)),
        *(f"{core.HUAWEI_OPTIC}.{c}" for c in (13, 14, 15, 16)),
    )
)
# a changing column → a static one that has (at least) its rows: a row beyond them is a new sensor or port
PAIRS: dict[str, str] = {
    IF_ADMIN: IF_NAME,
    f"{core.SENSOR}.4": f"{core.SENSOR}.1",
    f"{CISCO_SENSOR}.4": f"{CISCO_SENSOR}.1",
    f"{core.JNX_DOM}.5": f"{core.JNX_DOM}.9",
    f"{core.HUAWEI_OPTIC}.8": ENT_NAME,  # the threshold columns are absent on some models
}


def decode(platform: str, cols: Mapping[str, Mapping[str, Any]]) -> Device:
    ifs = interfaces(cols)
    decoder = PLATFORMS[platform][0]
    notes: list[str] = []
    readings = plausible(decoder(cols, ifs, notes))
    sysname = scalar(cols, LLDP_LOC_SYSNAME)
    return Device(
        interfaces=ifs,
        readings=readings,
        neighbours=neighbours(cols, ifs),
        sysname=sysname if isinstance(sysname, str) else None,
        uptime=as_int(scalar(cols, SYS_UPTIME)),
        notes=notes,
    )
