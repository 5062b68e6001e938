"""Path-MTU probes from this machine: DF set, the kernel's cached PMTU ignored (``IP_PMTUDISC_PROBE``).

Two probe kinds, each sending one packet of an exact total IP size and reporting what came back:

- ICMP echo over a raw socket (root or CAP_NET_RAW): the reply proves the size arrived; a router's
  "fragmentation needed" (type 3 code 4) arrives on the same socket with the next-hop MTU and the router's
  address. Echo replies are not rate-limited by Linux, so bisection is fast.
- UDP datagrams to a high port (tracepath style, no privileges): the target's "port unreachable" proves
  the size arrived; errors come from the socket error queue (``IP_RECVERR``). Targets rate-limit those
  ICMP messages (net.ipv4.icmp_ratelimit), so this is slower and used only without raw sockets.

- ICMPv6 echo over a raw socket for IPv6 addresses; routers answer Packet Too Big with their MTU.

A local EMSGSIZE on send means this machine's own interface (or route) MTU is below the size.
Python's socket module lacks the constants; the Linux values are stable (probing.md §1).
"""

from __future__ import annotations

import errno
import itertools
import os
import random  # probe ids and ports need variety, not secrecy
import select
import socket
import struct
import time
from dataclasses import dataclass

from diagnostics.sources import deadline
from diagnostics.sources.errors import NotFound, NotPermitted, ProtocolError, SourceError, Timeout

IP_MTU_DISCOVER, IP_PMTUDISC_PROBE, IP_RECVERR, MSG_ERRQUEUE = 10, 3, 11, 0x2000
SO_EE_ORIGIN_LOCAL, SO_EE_ORIGIN_ICMP = 1, 2
IP_HEADER, ICMP_HEADER, UDP_HEADER = 20, 8, 8
_rnd = random.Random()  # noqa: S311 - ids and ports only need to differ between probes
_ids = itertools.count(_rnd.randrange(1, 0xFFFF))


@dataclass(frozen=True)
class Probe:
    size: int  # total IP packet size sent
    outcome: str  # "reply" | "frag_needed" | "local_too_big" | "timeout" | "error"
    mtu: int | None = None  # next-hop MTU (frag_needed) or local MTU (local_too_big)
    router: str | None = None  # who sent the frag-needed
    rtt_ms: float | None = None
    detail: str = ""

    def to_dict(self) -> dict[str, object]:
        return {
            "size": self.size,
            "outcome": self.outcome,
            "mtu": self.mtu,
            "router": self.router,
            "rtt_ms": None if self.rtt_ms is None else round(self.rtt_ms, 3),
            "detail": self.detail,
        }


def resolve(host: str, timeout_s: float = 5.0) -> str:
    """An address for ``host``: IPv4 when it has one, else IPv6. The lookup is bounded (a worker thread,
    diagnostics.sources.deadline): NotFound when it does not resolve, Timeout when DNS does not answer."""
    infos = deadline.getaddrinfo(host, None, timeout_s, socket.AF_UNSPEC, socket.SOCK_DGRAM)
    infos.sort(key=lambda i: i[0] != socket.AF_INET)
    return str(infos[0][4][0])


def is_v6(address: str) -> bool:
    return ":" in address


def route_device(dst: str) -> tuple[str | None, int | None]:
    """The interface this machine routes ``dst`` through, and that interface's MTU (iproute2, /sys)."""
    try:
        out = deadline.run(["ip", "-o", "route", "get", dst], 5).stdout.decode("utf-8", "replace").split()
    except SourceError:
        return None, None
    dev = out[out.index("dev") + 1] if "dev" in out else None
    if dev is None:
        return None, None
    try:
        with open(f"/sys/class/net/{dev}/mtu") as f:  # noqa: PTH123 - a sysfs attribute
            return dev, int(f.read().strip())
    except (OSError, ValueError):
        return dev, None


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s: int = sum(struct.unpack(f"!{len(data) // 2}H", data))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def _send_error(size: int, exc: OSError) -> Probe:
    if exc.errno == errno.EMSGSIZE:
        return Probe(size, "local_too_big", detail="EMSGSIZE on send: a local interface or route MTU is smaller")
    if exc.errno == errno.ENOBUFS:  # a veth whose peer has a smaller MTU drops it on the way out
        return Probe(size, "timeout", detail="ENOBUFS on send: dropped before it left this host")
    return Probe(size, "error", detail=f"{errno.errorcode.get(exc.errno or 0, exc.errno)}: {exc.strerror}")


def can_use_raw() -> bool:
    try:
        socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP).close()
        return True
    except PermissionError:
        return False


class _EchoProber:
    """What ICMP and ICMPv6 echo probing share: the socket, ids, sending, and waiting for our answer."""

    kind = "icmp"

    def __init__(self, dst: str, family: int, proto: int, why: str) -> None:
        self.dst = dst
        try:
            self.sock = socket.socket(family, socket.SOCK_RAW, proto)
        except PermissionError:
            raise NotPermitted(why) from None
        self.ident = next(_ids) & 0xFFFF
        self.seq = _rnd.randrange(0, 0xFFFF)

    def close(self) -> None:
        self.sock.close()

    def _packet(self, size: int) -> bytes:
        raise NotImplementedError

    def _answer(self, data: bytes, src: str, size: int, rtt_ms: float) -> Probe | None:
        """Our reply or an error quoting our probe, as a Probe; None for anybody else's packet."""
        raise NotImplementedError

    def _ours(self, ident_seq: bytes) -> bool:
        return len(ident_seq) == 4 and struct.unpack("!HH", ident_seq) == (self.ident, self.seq)

    def probe(self, size: int, timeout_s: float) -> Probe:
        self.seq = (self.seq + 1) & 0xFFFF
        packet = self._packet(size)
        start = time.monotonic()
        try:
            self.sock.sendto(packet, (self.dst, 0))
        except OSError as exc:
            return _send_error(size, exc)
        deadline = start + timeout_s
        while (left := deadline - time.monotonic()) > 0:
            ready, _, _ = select.select([self.sock], [], [], left)
            if not ready:
                break
            data, addr = self.sock.recvfrom(65535)
            if (answer := self._answer(data, addr[0], size, (time.monotonic() - start) * 1000)) is not None:
                return answer
        return Probe(size, "timeout")


class IcmpProber(_EchoProber):
    """ICMP echo with DF over a raw socket (root or CAP_NET_RAW); one prober per destination."""

    def __init__(self, dst: str) -> None:
        super().__init__(dst, socket.AF_INET, socket.IPPROTO_ICMP, "raw ICMP sockets need root or CAP_NET_RAW")
        self.sock.setsockopt(socket.IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_PROBE)

    def _packet(self, size: int) -> bytes:
        payload = os.urandom(8) + bytes(max(0, size - IP_HEADER - ICMP_HEADER - 8))
        header = struct.pack("!BBHHH", 8, 0, 0, self.ident, self.seq)
        return struct.pack("!BBHHH", 8, 0, _checksum(header + payload), self.ident, self.seq) + payload

    def _answer(self, data: bytes, src: str, size: int, rtt_ms: float) -> Probe | None:
        ihl = (data[0] & 0x0F) * 4  # raw IPv4 sockets deliver the IP header too
        icmp_type, code = data[ihl], data[ihl + 1]
        if icmp_type == 0 and src == self.dst and self._ours(data[ihl + 4 : ihl + 8]):
            return Probe(size, "reply", rtt_ms=rtt_ms)
        if icmp_type in (3, 11):  # an error quoting our packet: its IP header + 8 bytes of our ICMP header
            inner = data[ihl + 8 :]
            inner_ihl = (inner[0] & 0x0F) * 4 if inner else 0
            if self._ours(inner[inner_ihl + 4 : inner_ihl + 8]):
                if icmp_type == 3 and code == 4:
                    mtu = struct.unpack("!H", data[ihl + 6 : ihl + 8])[0]
                    return Probe(size, "frag_needed", mtu=mtu, router=src, rtt_ms=rtt_ms)
                return Probe(size, "error", router=src, detail=f"ICMP type {icmp_type} code {code}")
        return None


class UdpProber:
    """UDP with DF to a closed high port; the error queue tells what happened (no privileges needed)."""

    kind = "udp"

    def __init__(self, dst: str) -> None:
        self.dst = dst
        self.port = _rnd.randrange(33434, 33534)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_PROBE)
        self.sock.setsockopt(socket.IPPROTO_IP, IP_RECVERR, 1)
        self.sock.connect((dst, self.port))

    def close(self) -> None:
        self.sock.close()

    def probe(self, size: int, timeout_s: float) -> Probe:
        start = time.monotonic()
        try:
            self.sock.send(bytes(max(0, size - IP_HEADER - UDP_HEADER)))
        except OSError as exc:
            return _send_error(size, exc)
        deadline = start + timeout_s
        while (left := deadline - time.monotonic()) > 0:
            select.select([], [], [self.sock], left)  # the error queue makes the socket "exceptional"
            try:
                _, ancdata, _, _ = self.sock.recvmsg(512, 512, MSG_ERRQUEUE | socket.MSG_DONTWAIT)
            except BlockingIOError:
                time.sleep(0.005)
                continue
            except ConnectionRefusedError:  # the pending error surfaced as an exception: port unreachable
                return Probe(size, "reply", rtt_ms=(time.monotonic() - start) * 1000)
            for level, kind, data in ancdata:
                if level != socket.IPPROTO_IP or kind != IP_RECVERR or len(data) < 16:
                    continue
                ee_errno, origin, icmp_type, code, _pad, info = struct.unpack("=IBBBBI", data[:12])
                router = socket.inet_ntoa(data[20:24]) if len(data) >= 24 else None
                rtt = (time.monotonic() - start) * 1000
                if origin == SO_EE_ORIGIN_LOCAL and ee_errno == errno.EMSGSIZE:
                    return Probe(size, "local_too_big", mtu=info, detail="local MTU")
                if origin == SO_EE_ORIGIN_ICMP and icmp_type == 3 and code == 3:
                    return Probe(size, "reply", rtt_ms=rtt)
                if origin == SO_EE_ORIGIN_ICMP and icmp_type == 3 and code == 4:
                    return Probe(size, "frag_needed", mtu=info, router=router, rtt_ms=rtt)
                return Probe(size, "error", router=router, detail=f"ICMP type {icmp_type} code {code}")
        return Probe(size, "timeout")


IPV6_MTU_DISCOVER, IPV6_PMTUDISC_PROBE, IPV6_DONTFRAG, IPV6_HEADER = 23, 3, 62, 40


class Icmp6Prober(_EchoProber):
    """ICMPv6 echo over a raw socket (the kernel fills the checksum). IPv6 routers never fragment: a hop
    below the size answers Packet Too Big (type 2) with its MTU; the minimum IPv6 MTU is 1280."""

    kind = "icmp6"

    def __init__(self, dst: str) -> None:
        super().__init__(
            dst, socket.AF_INET6, socket.IPPROTO_ICMPV6, "IPv6 probes need raw ICMPv6 sockets: root or CAP_NET_RAW"
        )
        self.sock.setsockopt(socket.IPPROTO_IPV6, IPV6_MTU_DISCOVER, IPV6_PMTUDISC_PROBE)
        self.sock.setsockopt(socket.IPPROTO_IPV6, IPV6_DONTFRAG, 1)

    def _packet(self, size: int) -> bytes:
        payload = os.urandom(8) + bytes(max(0, size - IPV6_HEADER - ICMP_HEADER - 8))
        return struct.pack("!BBHHH", 128, 0, 0, self.ident, self.seq) + payload

    def _answer(self, data: bytes, src: str, size: int, rtt_ms: float) -> Probe | None:
        if data[0] == 129 and self._ours(data[4:8]):  # raw ICMPv6 sockets deliver no IP header
            return Probe(size, "reply", rtt_ms=rtt_ms)
        if data[0] in (1, 2, 3) and self._ours(data[8 + IPV6_HEADER + 4 : 8 + IPV6_HEADER + 8]):
            if data[0] == 2:
                mtu = struct.unpack("!I", data[4:8])[0]
                return Probe(size, "frag_needed", mtu=mtu, router=src, rtt_ms=rtt_ms, detail="ICMPv6 Packet Too Big")
            return Probe(size, "error", router=src, detail=f"ICMPv6 type {data[0]} code {data[1]}")
        return None


def prober(dst: str, kind: str = "auto") -> IcmpProber | UdpProber | Icmp6Prober:
    """ICMP echo when raw sockets are allowed (or asked for), else UDP; ICMPv6 for IPv6 addresses."""
    if is_v6(dst):
        return Icmp6Prober(dst)
    if kind == "udp" or (kind == "auto" and not can_use_raw()):
        return UdpProber(dst)
    if kind in ("icmp", "auto"):
        return IcmpProber(dst)
    raise ProtocolError(f"unknown probe kind {kind!r}")


class _Overrun(Exception):
    pass


def probe_path(
    host: str,
    required: int,
    *,
    timeout_s: float = 1.0,
    tries: int = 3,
    kind: str = "auto",
    deadline: float | None = None,
) -> dict[str, object]:
    """Probe one path from here: a small size first (is the host there at all?), then the required size,
    then bisection between what passed and what did not. Returns the probe log as JSON-friendly data.

    With ``deadline`` (``time.monotonic()``) no probe starts past it: the record then carries a Timeout
    error with the probes made so far, so the check keeps every other path's result."""
    record: dict[str, object] = {"host": host, "required": required, "vantage": "local"}
    try:
        dst = resolve(host, min(5.0, max(timeout_s * 3, 1.0)))
    except (NotFound, Timeout) as exc:
        return {**record, "error": {"kind": exc.kind, "message": str(exc)}}
    dev, dev_mtu = route_device(dst)
    record.update(address=dst, device=dev, device_mtu=dev_mtu)
    try:
        p = prober(dst, kind)
    except (NotPermitted, OSError) as exc:
        return {**record, "error": {"kind": "NotPermitted", "message": str(exc)}}
    record["probe_kind"] = p.kind
    log: list[Probe] = []

    wait = timeout_s

    def send(size: int, n: int) -> Probe:
        last = Probe(size, "timeout")
        for _ in range(n):
            if deadline is not None and time.monotonic() + wait > deadline:
                raise _Overrun
            last = p.probe(size, wait)
            log.append(last)
            if last.outcome != "timeout":
                break
        return last

    try:
        small = min(1280, required)
        first = send(small, tries)
        if first.outcome == "reply":
            # Once the path answered, a lost big packet is known lost long before timeout_s: wait 20 round
            # trips (at least 0.2 s). Bisection through a blackhole then costs fractions of a second per step.
            wait = min(timeout_s, max(0.2, 20 * (first.rtt_ms or 0) / 1000))
            big = send(required, tries)
            if big.outcome != "reply":
                lo, hi = small, required
                if big.outcome == "frag_needed" and big.mtu and small < big.mtu < required:
                    hi = big.mtu + 1
                    if send(big.mtu, 2).outcome == "reply":
                        lo = big.mtu
                while hi - lo > 1 and len(log) < 40:
                    mid = (lo + hi) // 2
                    if send(mid, 1).outcome == "reply":
                        lo = mid
                    else:
                        hi = mid
                record["largest_passing"] = lo
            else:
                record["largest_passing"] = required
    except _Overrun:
        record["error"] = {
            "kind": "Timeout",
            "message": f"stopped at the check's deadline after {len(log)} probe(s); raise [run] check_timeout_s",
        }
    finally:
        p.close()
    record["probes"] = [x.to_dict() for x in log]
    return record
