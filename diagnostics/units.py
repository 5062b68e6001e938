"""Quantities worded for people."""

from __future__ import annotations


def iec_bytes(n: float) -> str:
    """``1536`` → ``'1.5 KiB'``; three significant figures, binary prefixes as ``df -h`` uses them."""
    value, unit = float(n), "B"
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(value) < 1024 or unit == "PiB":
            break
        value /= 1024
    return f"{value:.0f} {unit}" if unit == "B" or value >= 100 else f"{value:.3g} {unit}"
