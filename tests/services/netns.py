"""Network topologies made of namespaces and veth pairs, built by the tests and torn down after them
(test-services.md). Names are unique per run; addresses are the benchmarking range 198.18.0.0/15, which
exists only inside these namespaces."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from tests.services import unavailable


def sh(*args: str) -> None:
    r = subprocess.run(list(args), capture_output=True, text=True, timeout=15)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(args)}: {r.stderr.strip()}")


class Topology:
    def __init__(self) -> None:
        self.tag = uuid.uuid4().hex[:6]
        self.namespaces: list[str] = []

    def ns(self, role: str) -> str:
        name = f"cs{role[:4]}{self.tag}"
        sh("ip", "netns", "add", name)
        self.namespaces.append(name)
        sh("ip", "netns", "exec", name, "ip", "link", "set", "lo", "up")
        sh("ip", "netns", "exec", name, "sysctl", "-qw", "net.ipv4.icmp_ratelimit=0")
        return name

    def link(self, a: str, a_ip: str, a_mtu: int, b: str, b_ip: str, b_mtu: int) -> None:
        ia, ib = f"v{uuid.uuid4().hex[:8]}", f"v{uuid.uuid4().hex[:8]}"
        sh("ip", "link", "add", ia, "netns", a, "type", "veth", "peer", "name", ib, "netns", b)
        for ns_, dev, ip, mtu in ((a, ia, a_ip, a_mtu), (b, ib, b_ip, b_mtu)):
            sh("ip", "netns", "exec", ns_, "ip", "link", "set", dev, "mtu", str(mtu), "up")
            if ":" in ip:  # IPv6: no duplicate address detection, the address is usable at once
                sh("ip", "netns", "exec", ns_, "ip", "-6", "addr", "add", ip, "dev", dev, "nodad")
            else:
                sh("ip", "netns", "exec", ns_, "ip", "addr", "add", ip, "dev", dev)

    def route(self, ns_: str, dst: str, via: str) -> None:
        sh("ip", "netns", "exec", ns_, "ip", "-6" if ":" in dst else "-4", "route", "add", dst, "via", via)

    def set_mtu(self, ns_: str, ip: str, mtu: int) -> None:
        out = subprocess.run(
            ["ip", "netns", "exec", ns_, "ip", "-o", "addr", "show", "to", ip],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.split()
        sh("ip", "netns", "exec", ns_, "ip", "link", "set", out[1].split("@")[0], "mtu", str(mtu))

    def destroy(self) -> None:
        for name in self.namespaces:
            subprocess.run(["ip", "netns", "delete", name], capture_output=True, timeout=15, check=False)


@contextmanager
def topology() -> Iterator[Topology]:
    t = Topology()
    try:
        try:
            t.ns("probe")  # can this machine make namespaces at all?
        except (OSError, RuntimeError) as exc:
            unavailable(f"cannot create network namespaces: {exc}")
        yield t
    finally:
        t.destroy()


def storage_paths(t: Topology, server_mtu: int = 1500) -> dict[str, str]:
    """client —9000— router —server_mtu— server, plus a same-subnet 9000↔1500 neighbour and an address
    nobody answers on. Returns the namespace and address names."""
    client, router, server, lan = t.namespaces[0], t.ns("rtr"), t.ns("srv"), t.ns("lan")
    t.link(client, "198.18.1.2/24", 9000, router, "198.18.1.1/24", 9000)
    t.link(router, "198.18.2.1/24", server_mtu, server, "198.18.2.2/24", server_mtu)
    t.link(client, "198.18.3.1/24", 9000, lan, "198.18.3.2/24", 1500)  # same subnet, MTU mismatch
    t.route(client, "198.18.2.0/24", "198.18.1.1")
    t.route(server, "198.18.1.0/24", "198.18.2.1")
    sh("ip", "netns", "exec", router, "sysctl", "-qw", "net.ipv4.ip_forward=1")
    return {
        "client": client,
        "router": router,
        "server": server,
        "lan": lan,
        "router_ip": "198.18.1.1",
        "server_ip": "198.18.2.2",
        "lan_ip": "198.18.3.2",
        "nobody_ip": "198.18.2.99",
    }
