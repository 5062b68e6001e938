"""SNMP walks of chosen table columns on many devices at once (pysnmp's asyncio API).

One :class:`SnmpEngine` for the sweep, a semaphore bounding the devices in flight, per-request timeout and
retries, and a deadline per device. Each column is walked with GETBULK inside its own subtree
(``lexicographicMode=False``: pysnmp's default walks past the subtree to the end of the MIB). Values come
back as plain data — int for numbers, str for text (hex ``0x…`` for non-printable octets) — keyed by the
row index below the column, so a bundle holds what the device said. A device that does not answer, or
refuses the credentials, is an ``error`` in its result, never an exception out of :func:`sweep`.
"""

from __future__ import annotations

import asyncio
import functools
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from diagnostics.sources.errors import AuthFailed, ProtocolError, SourceError, Timeout, Unreachable
from diagnostics.sources.snmpfast import MAX_ROWS, walk_columns


@dataclass(frozen=True)
class Target:
    """How to reach one device. Secrets are resolved by the caller and never printed (repr hides them)."""

    name: str
    host: str
    port: int = 161
    version: str = "2c"
    community: str = ""
    user: str = ""
    auth_protocol: str | None = None  # md5 | sha | sha256 | sha512
    auth_key: str = ""
    priv_protocol: str | None = None  # des | aes | aes256
    priv_key: str = ""
    timeout_s: float = 2.0
    retries: int = 1
    context: str = ""

    def __repr__(self) -> str:
        return f"Target({self.name!r}, {self.host}:{self.port}, v{self.version})"


def _auth(t: Target) -> Any:
    from pysnmp.hlapi.v3arch.asyncio import CommunityData, UsmUserData
    from pysnmp.hlapi.v3arch.asyncio import auth as a

    if t.version in ("1", "2c"):
        return CommunityData(t.community, mpModel=0 if t.version == "1" else 1)
    auth = {
        None: a.usmNoAuthProtocol,
        "md5": a.usmHMACMD5AuthProtocol,
        "sha": a.usmHMACSHAAuthProtocol,
        "sha256": a.usmHMAC192SHA256AuthProtocol,
        "sha512": a.usmHMAC384SHA512AuthProtocol,
    }[t.auth_protocol]
    priv = {
        None: a.usmNoPrivProtocol,
        "des": a.usmDESPrivProtocol,
        "aes": a.usmAesCfb128Protocol,
        "aes256": a.usmAesCfb256Protocol,
    }[t.priv_protocol]
    return UsmUserData(
        t.user,
        authKey=t.auth_key or None,
        privKey=t.priv_key or None,
        authProtocol=auth,
        privProtocol=priv,
    )


def plain(value: Any) -> Any:
    """A pysnmp value as JSON data: int, str (or '0x…' hex for binary octets), or the type's name."""
    from pyasn1.type import univ  # type: ignore[import-untyped]
    from pysnmp.proto import rfc1902

    # Without MIB lookup pysnmp hands back pyasn1's own ObjectIdentifier (a base class of rfc1902's):
    # RowPointers such as entAliasMappingIdentifier (``…ifIndex.N``) come this way.
    if isinstance(value, univ.ObjectIdentifier):
        return ".".join(str(x) for x in value.asTuple())
    if isinstance(value, rfc1902.IpAddress):
        return ".".join(str(b) for b in bytes(value))
    if isinstance(
        value,
        rfc1902.Integer32
        | rfc1902.Integer
        | rfc1902.Counter32
        | rfc1902.Counter64
        | rfc1902.Gauge32
        | rfc1902.TimeTicks
        | rfc1902.Unsigned32,
    ):
        return int(value)
    if isinstance(value, rfc1902.OctetString):
        raw = bytes(value)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            return "0x" + raw.hex()
        return text if text.isprintable() or not text else "0x" + raw.hex()
    return {"type": type(value).__name__, "value": str(value.prettyPrint())}


def _error(indication: Any, t: Target) -> SourceError:
    text = str(indication)
    low = text.lower()
    if "timeout" in low or "no snmp response" in low:
        return Timeout(f"{t.host}:{t.port}: no SNMP answer (timeout {t.timeout_s:g} s × {t.retries + 1} tries; "
                       "wrong community or v3 user?)")  # fmt: skip
    if any(k in low for k in ("digest", "unknown usm user", "decryption", "authorization", "unknownusername")):
        return AuthFailed(f"{t.host}:{t.port}: SNMPv3 credentials refused ({text})")
    return ProtocolError(f"{t.host}:{t.port}: {text}")


async def _walk(engine: Any, t: Target, transport: Any, column: str, max_rep: int) -> dict[str, Any]:
    from pysnmp.hlapi.v3arch.asyncio import ContextData, ObjectIdentity, ObjectType, bulk_walk_cmd

    rows: dict[str, Any] = {}
    prefix = column + "."
    async for indication, status, index, binds in bulk_walk_cmd(
        engine,
        _auth(t),
        transport,
        ContextData(contextName=t.context),
        0,
        max_rep,
        ObjectType(ObjectIdentity(column)),
        lexicographicMode=False,
        lookupMib=False,
    ):
        if indication:
            raise _error(indication, t)
        if status:
            if str(status.prettyPrint()) in ("noSuchName",):
                break
            raise ProtocolError(f"{t.host}:{t.port}: {status.prettyPrint()} at {index}")
        for oid, value in binds:
            name = str(oid)
            if not name.startswith(prefix):
                return rows
            if type(value).__name__ in ("EndOfMibView", "NoSuchObject", "NoSuchInstance"):
                return rows
            rows[name[len(prefix) :]] = plain(value)
            if len(rows) >= MAX_ROWS:
                return rows
    return rows


async def _device(
    engine: Any,
    t: Target,
    columns: Sequence[str],
    max_rep: int,
    deadline_s: float,
    sem: asyncio.Semaphore,
    fast: bool = True,
) -> dict[str, Any]:
    from pysnmp.hlapi.v3arch.asyncio import UdpTransportTarget

    async with sem:
        t0 = time.monotonic()
        out: dict[str, Any] = {"columns": {}}
        try:
            if fast and t.version == "2c":  # the direct v2c codec (snmpfast): no pyasn1 in the way
                out["columns"] = await asyncio.wait_for(
                    walk_columns(t.host, t.port, t.community, list(columns), max_rep, t.timeout_s, t.retries),
                    deadline_s,
                )
                out["seconds"] = round(time.monotonic() - t0, 3)
                return out
            transport = await UdpTransportTarget.create((t.host, t.port), timeout=t.timeout_s, retries=t.retries)

            async def all_columns() -> None:
                for column in columns:
                    out["columns"][column] = await _walk(engine, t, transport, column, max_rep)

            await asyncio.wait_for(all_columns(), deadline_s)
        except TimeoutError:
            out["error"] = {"kind": "Timeout", "message": f"{t.host}:{t.port}: the walk overran {deadline_s:g} s"}
        except SourceError as exc:
            out["error"] = {"kind": exc.kind, "message": str(exc)}
        except OSError as exc:
            out["error"] = {"kind": "Unreachable", "message": str(Unreachable(f"{t.host}:{t.port}: {exc}"))}
        except Exception as exc:  # pysnmp raises its own kinds on garbage
            out["error"] = {"kind": "ProtocolError", "message": f"{t.host}:{t.port}: {exc.__class__.__name__}: {exc}"}
        out["seconds"] = round(time.monotonic() - t0, 3)
        return out


class _NoCompiler:
    """Stands where pysnmp keeps its MIB compiler: csdiag names objects by numeric OID only."""


@functools.cache
def _numeric_view() -> Any:
    """A MIB view that never builds pysnmp's MIB compiler. With pysmi installed, pysnmp sets one up at
    the first request of every engine (its grammar alone costs ~2 s here) although numeric OIDs never
    need it."""
    from pysnmp.smi import builder, view

    mibs = builder.MibBuilder()
    mibs.set_mib_compiler(_NoCompiler(), tempfile.gettempdir())
    return view.MibViewController(mibs)


def sweep(
    jobs: Sequence[tuple[Target, Sequence[str]]],
    *,
    concurrency: int = 32,
    max_rep: int = 25,
    deadline_s: float = 60,
    workers: int = 1,
    fast: bool = True,
) -> dict[str, dict[str, Any]]:
    """Walk each job's columns on its device, ``concurrency`` devices at a time; results by device name.

        pysnmp spends most of a sweep decoding BER in Python, so with ``workers`` > 1 the devices are split
        across that many worker processes (forkserver: never a fork of a threaded process), each with its own
    engine and event loop (one core each). v2c goes through the direct codec of snmpfast unless ``fast`` is
    false (pysnmp for every version: what the tests compare it with)."""
    if workers > 1 and len(jobs) > 1:
        import multiprocessing

        chunks = [list(jobs[i::workers]) for i in range(min(workers, len(jobs)))]
        with multiprocessing.get_context("forkserver").Pool(len(chunks)) as pool:
            parts = pool.starmap(
                _sweep_one, [(c, max(1, concurrency // len(chunks)), max_rep, deadline_s, fast) for c in chunks]
            )
        return {name: r for part in parts for name, r in part.items()}
    return _sweep_one(jobs, concurrency, max_rep, deadline_s, fast)


def _sweep_one(
    jobs: Sequence[tuple[Target, Sequence[str]]], concurrency: int, max_rep: int, deadline_s: float, fast: bool = True
) -> dict[str, dict[str, Any]]:
    async def run() -> dict[str, dict[str, Any]]:
        from pysnmp.hlapi.v3arch.asyncio import SnmpEngine

        engine = SnmpEngine()
        engine.cache["mibViewController"] = _numeric_view()
        sem = asyncio.Semaphore(concurrency)
        try:
            results = await asyncio.gather(
                *(_device(engine, t, cols, max_rep, deadline_s, sem, fast) for t, cols in jobs)
            )
        finally:
            engine.close_dispatcher()
        return {t.name: r for (t, _), r in zip(jobs, results, strict=True)}

    return asyncio.run(run())
