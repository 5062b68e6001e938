"""Running a probe script on this machine, the local vantage point (the same scripts run over SSH)."""

from __future__ import annotations

import subprocess

from diagnostics.sources.errors import Timeout, Unreachable


def run_local(script: str, timeout_s: float) -> tuple[int, str, str]:
    """Run a bash script given on stdin; (exit code, stdout, stderr). Killed at ``timeout_s``."""
    try:
        proc = subprocess.run(
            ["bash", "-s"], input=script, capture_output=True, text=True, timeout=timeout_s, check=False
        )
    except subprocess.TimeoutExpired:
        raise Timeout(f"local probe did not finish within {timeout_s:g} s") from None
    except OSError as exc:
        raise Unreachable(f"cannot run bash here: {exc.strerror or exc}") from exc
    return proc.returncode, proc.stdout, proc.stderr
