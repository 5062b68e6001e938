"""Running a probe script on this machine, the local vantage point (the same scripts run over SSH)."""

from __future__ import annotations

from diagnostics.sources import deadline
from diagnostics.sources.errors import NotFound, Unreachable


def run_local(script: str, timeout_s: float) -> tuple[int, str, str]:
    """Run a bash script given on stdin; (exit code, stdout, stderr). At ``timeout_s`` bash and everything it
    started (curl, getent, …) are killed as one process group and reaped (diagnostics.sources.deadline)."""
    try:
        proc = deadline.run(["bash", "-s"], timeout_s, input_bytes=script.encode())
    except NotFound:
        raise Unreachable("cannot run bash here: not installed") from None
    return proc.returncode, proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace")
