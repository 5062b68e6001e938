"""SNMP v2c table walks without pysnmp: GETBULK requests and responses encoded/decoded here, in a few lines.

Why: a sweep of many switches spends most of its time in pyasn1's generic BER decoder (≈ 0.3 ms per
varbind, bench/RESULTS.md); an SNMP response is a fixed shape — a SEQUENCE of (OID, value) pairs of a
dozen known types — that a direct decoder reads ~50× faster. Only community-based v2c comes this way;
v1 (no GETBULK) and v3 (USM security) stay on pysnmp (diagnostics/sources/snmp.py), which also remains
the reference the tests compare this decoder with on every recorded real device.

Values are returned exactly as :func:`diagnostics.sources.snmp.plain` returns pysnmp's: int for INTEGER,
Counter32/64, Gauge32, TimeTicks; str for OCTET STRING (``0x…`` hex when not printable UTF-8), dotted
OBJECT IDENTIFIER and IpAddress; ``{"type", "value"}`` for anything else (Opaque).
"""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

from diagnostics.sources.errors import ProtocolError, Timeout

MAX_ROWS = 50000  # per column: a device that never ends its table is cut off here
_ids = itertools.count(1)
_END = {0x80: "NoSuchObject", 0x81: "NoSuchInstance", 0x82: "EndOfMibView"}
_UNSIGNED = {0x41, 0x42, 0x43, 0x46, 0x47}  # Counter32, Gauge32/Unsigned32, TimeTicks, Counter64, UInteger32
_ERRORS = {1: "tooBig", 2: "noSuchName", 3: "badValue", 4: "readOnly", 5: "genErr"}


# --- BER ---------------------------------------------------------------------------------------------------
def _len(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def _tlv(tag: int, body: bytes) -> bytes:
    return bytes([tag]) + _len(len(body)) + body


def _int(n: int) -> bytes:
    return _tlv(0x02, n.to_bytes(max(1, (n.bit_length() + 8) // 8), "big", signed=True))


def _oid(dotted: str) -> bytes:
    arcs = [int(x) for x in dotted.strip(".").split(".")]
    out = bytearray([arcs[0] * 40 + arcs[1]])
    for arc in arcs[2:]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        out += bytes(reversed(chunk))
    return _tlv(0x06, bytes(out))


def getbulk(community: str, request_id: int, oids: list[str], max_rep: int) -> bytes:
    """A v2c GetBulkRequest message (non-repeaters 0)."""
    binds = b"".join(_tlv(0x30, _oid(o) + b"\x05\x00") for o in oids)
    pdu = _tlv(0xA5, _int(request_id) + _int(0) + _int(max_rep) + _tlv(0x30, binds))
    return _tlv(0x30, _int(1) + _tlv(0x04, community.encode()) + pdu)


def _head(data: bytes, pos: int) -> tuple[int, int, int]:
    """(tag, start of the content, end of the content) of the TLV at ``pos``."""
    tag = data[pos]
    first = data[pos + 1]
    if first < 0x80:
        return tag, pos + 2, pos + 2 + first
    n = first & 0x7F
    length = int.from_bytes(data[pos + 2 : pos + 2 + n], "big")
    start = pos + 2 + n
    return tag, start, start + length


def _oid_text(body: bytes) -> str:
    first = body[0]
    arcs = [min(first // 40, 2), first - 40 * min(first // 40, 2)]
    arc = 0
    for b in body[1:]:
        arc = (arc << 7) | (b & 0x7F)
        if not b & 0x80:
            arcs.append(arc)
            arc = 0
    return ".".join(map(str, arcs))


def _value(tag: int, body: bytes) -> Any:
    if tag == 0x02:
        return int.from_bytes(body, "big", signed=True)
    if tag in _UNSIGNED:
        return int.from_bytes(body, "big", signed=False)
    if tag == 0x04:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return "0x" + body.hex()
        return text if text.isprintable() or not text else "0x" + body.hex()
    if tag == 0x06:
        return _oid_text(body)
    if tag == 0x40:
        return ".".join(str(b) for b in body)
    if tag == 0x05:
        return {"type": "Null", "value": ""}
    return {"type": f"tag 0x{tag:02x}", "value": "0x" + body.hex()}


def response(data: bytes) -> tuple[int, int, int, list[tuple[str, Any]]]:
    """(request-id, error-status, error-index, [(oid, value)]) of a v2c Response; an end-of-view marker is
    the value ``None``."""
    _, pos, _ = _head(data, 0)  # Message SEQUENCE
    _, s, e = _head(data, pos)  # version
    _, s, e = _head(data, e)  # community
    tag, pos, _ = _head(data, e)  # PDU
    if tag != 0xA2:
        raise ValueError(f"not a Response PDU (tag 0x{tag:02x})")
    fields = []
    for _ in range(3):
        _, s, e = _head(data, pos)
        fields.append(int.from_bytes(data[s:e], "big", signed=True))
        pos = e
    _, pos, end = _head(data, pos)  # VarBindList
    binds = []
    while pos < end:
        _, bs, be = _head(data, pos)
        _, os_, oe = _head(data, bs)
        vtag, vs, ve = _head(data, oe)
        binds.append((_oid_text(data[os_:oe]), None if vtag in _END else _value(vtag, data[vs:ve])))
        pos = be
    return fields[0], fields[1], fields[2], binds


# --- transport ---------------------------------------------------------------------------------------------
class _Client(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.waiting: dict[int, asyncio.Future[tuple[int, int, int, list[tuple[str, Any]]]]] = {}

    def datagram_received(self, data: bytes, addr: Any) -> None:
        try:
            answer = response(data)
        except Exception:  # any bytes can arrive: what is not an answer of ours is ignored like a lost packet
            return
        fut = self.waiting.pop(answer[0], None)
        if fut is not None and not fut.done():
            fut.set_result(answer)

    def error_received(self, exc: Exception) -> None:  # ICMP port unreachable: wait for the timeout
        pass


async def walk_columns(
    host: str, port: int, community: str, columns: list[str], max_rep: int, timeout_s: float, retries: int
) -> dict[str, dict[str, Any]]:
    """Each column's rows ({index below the column: value}), one GETBULK after another per column, like
    :func:`diagnostics.sources.snmp._walk`. Raises Timeout / ProtocolError from diagnostics.sources.errors."""
    loop = asyncio.get_running_loop()
    transport, client = await loop.create_datagram_endpoint(_Client, remote_addr=(host, port))
    try:
        out: dict[str, dict[str, Any]] = {}
        for column in columns:
            rows: dict[str, Any] = {}
            prefix, last, reps = column + ".", column, max_rep
            while len(rows) < MAX_ROWS:
                status, index, binds = await _ask(
                    client, transport, (host, port, community), last, reps, timeout_s, retries
                )
                if status == 1 and reps > 1:  # tooBig: ask for fewer rows
                    reps = max(1, reps // 2)
                    continue
                if status == 2:  # noSuchName (a v1-minded agent): the table ends here
                    break
                if status:
                    raise ProtocolError(f"{host}:{port}: {_ERRORS.get(status, status)} at {index}")
                done = not binds
                for oid, value in binds:
                    if not oid.startswith(prefix) or value is None:
                        done = True
                        break
                    rows[oid[len(prefix) :]] = value
                    last = oid
                if done:
                    break
            out[column] = rows
        return out
    finally:
        transport.close()


async def _ask(
    client: _Client,
    transport: asyncio.DatagramTransport,
    peer: tuple[str, int, str],
    oid: str,
    reps: int,
    timeout_s: float,
    retries: int,
) -> tuple[int, int, list[tuple[str, Any]]]:
    host, port, community = peer
    for _ in range(retries + 1):
        request_id = next(_ids) & 0x7FFFFFFF
        fut: asyncio.Future[tuple[int, int, int, list[tuple[str, Any]]]] = asyncio.get_running_loop().create_future()
        client.waiting[request_id] = fut
        transport.sendto(getbulk(community, request_id, [oid], reps))
        try:
            _, status, index, binds = await asyncio.wait_for(fut, timeout_s)
        except TimeoutError:
            client.waiting.pop(request_id, None)
            continue
        return status, index, binds
    raise Timeout(
        f"{host}:{port}: no SNMP answer (timeout {timeout_s:g} s × {retries + 1} tries; wrong community or v3 user?)"
    )
