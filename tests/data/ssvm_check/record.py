"""Record transcripts of CloudStack's real ssvm-check.sh (run as root, once; the outputs are committed).

The script is read from a CloudStack clone (``git show <commit>:systemvm/agent/scripts/ssvm-check.sh``) into
a temporary file — it is not part of this repository. Each scenario runs it in fresh Linux namespaces
(mount, network, PID), so nothing leaves this machine and nothing outside the namespaces changes:

- network: the namespace's loopback carries the addresses the scenario says are up (the DNS server, the
  storage address, the management server); the others have no route. ``ping``, ``route`` and ``socat`` are
  the real tools, answered inside the namespace;
- ``/var/cache/cloud/cmdline`` and ``/etc/resolv.conf``: files of the scenario bound over the real paths;
- the secondary storage: a real tmpfs mounted at ``/mnt/SecStorage/<uuid>`` from a source named like the
  export (``mount`` lists it, ``touch`` really writes, or really fails when it is mounted read-only);
- the management server: a real ``socat`` listening on 8250 when the scenario has it up;
- Java: a real process whose name is ``java`` (``exec -a java sleep``) when the scenario has it running;
- two PATH shims: ``nslookup``, whose output goes to /tmp/dns, never to the transcript (the script only
  greps it for "no servers could"); and ``mount`` without arguments, which prints the real mount table
  with the tmpfs at /mnt/SecStorage shown as ``type nfs4`` (the script greps the table for "nfs").
- stdout and stderr are one stream, as on the SSVM's console and in csdiag's probe (``2>&1``).

    sudo .venv/bin/python tests/data/ssvm_check/record.py /work/.mirror/prashanthr2+cloudstack/repo
"""

from __future__ import annotations

import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

COMMIT = "b0601e5478"  # main, the 4.22 snapshot
HERE = Path(__file__).parent
MOUNT = "/mnt/SecStorage/5dc2ba2c-1f2b-3e5b-9a41-6b7f44e8f2e1"
CMDLINE = (
    "template=domP type=secstorage host=10.250.0.10 port=8250 name=s-1-VM zone=1 pod=1 guid=s-1-VM "
    "workers=5 resource=org.apache.cloudstack.storage.resource.PremiumSecondaryStorageResource "
    "instance=SecStorage sslcopy=false role=templateProcessor mtu=1500 eth2ip=10.250.3.21 "
    "eth2mask=255.255.255.0 gateway=10.250.3.1 public.network.device=eth2 eth0ip=169.254.52.17 "
    "eth0mask=255.255.0.0 eth1ip=10.250.0.61 eth1mask=255.255.255.0 mgmtcidr=10.250.0.0/24 "
    "localgw=10.250.0.1 private.network.device=eth1 internaldns1=10.250.0.53 dns1=10.250.0.53 nfsVersion=null "
    "secondaryStorageServerAddress=10.250.1.5 storageip=10.250.1.21 storagenetmask=255.255.255.0 "
    "storagegateway=10.250.1.1"
)
# name: (addresses up, nslookup resolves, mount: None / "rw" / "ro", management listener, java running)
SCENARIOS = {
    "healthy": (["10.250.0.53", "10.250.1.5", "10.250.0.10"], True, "rw", True, True),
    "dns": (["10.250.1.5", "10.250.0.10"], False, "rw", True, True),
    "readonly_nfs": (["10.250.0.53", "10.250.1.5", "10.250.0.10"], True, "ro", True, True),
    "not_mounted": (["10.250.0.53", "10.250.0.10"], True, None, True, True),
    "java_down": (["10.250.0.53", "10.250.1.5", "10.250.0.10"], True, "rw", True, False),
    "mgmt_port_closed": (["10.250.0.53", "10.250.1.5", "10.250.0.10"], True, "rw", False, True),
}
NSLOOKUP_OK = """#!/bin/sh
printf 'Server:\\t\\t10.250.0.53\\nAddress:\\t10.250.0.53#53\\n\\nNon-authoritative answer:\\nName:\\tcloudstack.apache.org\\n'
"""
NSLOOKUP_FAIL = """#!/bin/sh
echo ';; communications error to 10.250.0.53#53: timed out'
echo ';; no servers could be reached'
exit 1
"""


MOUNT_SHIM = """#!/bin/sh
if [ $# -eq 0 ]; then /usr/bin/mount | sed '\\#/mnt/SecStorage/#s/ type tmpfs / type nfs4 /'; else exec /usr/bin/mount "$@"; fi
"""


def scenario_script(work: Path, check: Path, name: str) -> str:
    up, resolves, mount, mgmt, java = SCENARIOS[name]
    q = shlex.quote
    lines = [
        "set -e",
        "mount --make-rprivate /",
        "ip link set lo up",
        "ip addr add 10.250.0.61/32 dev lo",
        *[f"ip addr add {a}/32 dev lo" for a in up],
        f"mount -t tmpfs tmpfs /var/cache && mkdir -p /var/cache/cloud && cp {q(str(work / 'cmdline'))} "
        "/var/cache/cloud/cmdline",
        f"mount --bind {q(str(work / 'resolv.conf'))} /etc/resolv.conf",
        "mount -t tmpfs tmpfs /tmp",
    ]
    if mount:
        lines += [
            f"mkdir -p {MOUNT}",
            f"mount -t tmpfs -o size=1m 10.250.1.5:/export/secondary {MOUNT}",
            *([f"mount -o remount,ro {MOUNT}"] if mount == "ro" else []),
        ]
    if mgmt:
        lines.append("(socat TCP-LISTEN:8250,bind=10.250.0.10,fork,reuseaddr SYSTEM:true &) ; sleep 0.3")
    if java:
        lines.append("(exec -a java sleep 60 &)")
    lines += [
        "set +e",
        f'PATH={q(str(work / "bin"))}:$PATH bash {q(str(check))}; echo "EXIT $?"',
    ]
    (work / "bin").mkdir(exist_ok=True)
    stub = work / "bin" / "nslookup"
    stub.write_text(NSLOOKUP_OK if resolves else NSLOOKUP_FAIL)
    stub.chmod(0o755)
    stub = work / "bin" / "mount"
    stub.write_text(MOUNT_SHIM)
    stub.chmod(0o755)
    (work / "cmdline").write_text(CMDLINE + "\n")
    (work / "resolv.conf").write_text("nameserver 10.250.0.53\n")
    return "\n".join(lines) + "\n"


def main(repo: str) -> None:
    source = subprocess.run(
        ["git", "-C", repo, "show", f"{COMMIT}:systemvm/agent/scripts/ssvm-check.sh"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    for name in SCENARIOS:
        with tempfile.TemporaryDirectory(dir="/run") as tmp:
            work = Path(tmp)
            check = work / "ssvm-check.sh"
            check.write_text(source)
            script = scenario_script(work, check, name)
            out = subprocess.run(
                ["unshare", "--mount", "--net", "--pid", "--fork", "--mount-proc", "bash", "-c", script],
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                timeout=120,
                check=False,
            )
            (HERE / f"{name}.txt").write_text(out.stdout)
            print(name, out.returncode)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "/work/.mirror/prashanthr2+cloudstack/repo")
