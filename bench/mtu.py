"""How long do 50 path-MTU probes take? A client namespace probes 50 addresses: a third behind a router at
9000 end to end, a third behind a router whose far side is at 1500 (frag-needed), a third on a same-subnet
9000↔1500 link (blackholes: bisection through timeouts), concurrently as the `mtu` check does.
Baseline in the same run: the same 50 addresses probed one after another with the same code.

    sudo .venv/bin/python bench/mtu.py          (root: it creates network namespaces)
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.services.netns import sh, topology  # noqa: E402

N = 50


def main() -> None:
    with topology() as t:
        client, router, far, jumbo, lan = t.namespaces[0], t.ns("rtr"), t.ns("far"), t.ns("jmb"), t.ns("lan")
        t.link(client, "198.18.1.2/24", 9000, router, "198.18.1.1/24", 9000)
        t.link(router, "198.18.2.1/24", 1500, far, "198.18.2.2/24", 1500)
        t.link(router, "198.18.3.1/24", 9000, jumbo, "198.18.3.2/24", 9000)
        t.link(client, "198.18.4.1/24", 9000, lan, "198.18.4.2/24", 1500)  # same subnet: blackholes
        for net in ("198.18.2.0/24", "198.18.3.0/24"):
            t.route(client, net, "198.18.1.1")
        t.route(far, "198.18.1.0/24", "198.18.2.1")
        t.route(jumbo, "198.18.1.0/24", "198.18.3.1")
        sh("ip", "netns", "exec", router, "sysctl", "-qw", "net.ipv4.ip_forward=1")
        targets = []
        for i in range(N):
            ns_, net = [(jumbo, "198.18.3"), (far, "198.18.2"), (lan, "198.18.4")][i % 3]
            ip = f"{net}.{10 + i}"
            dev = (
                subprocess.run(
                    ["ip", "netns", "exec", ns_, "ip", "-o", "link", "show", "type", "veth"],
                    capture_output=True,
                    text=True,
                )
                .stdout.split(":")[1]
                .strip()
                .split("@")[0]
            )
            sh("ip", "netns", "exec", ns_, "ip", "addr", "add", f"{ip}/24", "dev", dev)
            targets.append(ip)
        code = (
            "import json, sys, time\nfrom concurrent.futures import ThreadPoolExecutor\n"
            "from diagnostics.sources.pmtu import probe_path\n"
            "targets = json.loads(sys.argv[1]); parallel = sys.argv[2].startswith('parallel')\n"
            "t = time.perf_counter()\n"
            "run = lambda h: probe_path(h, 9000, timeout_s=1.0, kind=sys.argv[3])\n"
            "res = list(ThreadPoolExecutor(32).map(run, targets)) if parallel else [run(h) for h in targets]\n"
            "print(json.dumps({'s': time.perf_counter() - t, 'probes': [len(r['probes']) for r in res],"
            " 'ok': sum(1 for r in res if r.get('largest_passing') == 9000)}))\n"
        )
        results = {}
        for mode, kind in (("sequential", "icmp"), ("parallel", "icmp"), ("parallel-udp", "udp")):
            out = subprocess.run(
                ["ip", "netns", "exec", client, sys.executable, "-c", code, json.dumps(targets), mode, kind],
                capture_output=True,
                text=True,
                timeout=600,
                cwd=ROOT,
                check=True,
            ).stdout
            results[mode] = json.loads(out)
    for mode, r in results.items():
        probes = r["probes"]
        print(
            f"{mode:<10} {N} paths: {r['s']:.2f} s, probes per path min/avg/max "
            f"{min(probes)}/{sum(probes) / len(probes):.1f}/{max(probes)}, {r['ok']} pass at 9000"
        )
    print(
        f"speed-up of the parallel ICMP run over the sequential one: "
        f"{results['sequential']['s'] / results['parallel']['s']:.1f}x"
    )


if __name__ == "__main__":
    main()
