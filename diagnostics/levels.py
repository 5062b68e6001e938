"""Upper and lower warn/crit levels, judged and worded the same way by every check.

Works with negative values (dBm): "lower" means bad *below* the level, whatever the sign::

    >>> judge(-14.2, "rx_power", unit="dBm", lower=Levels(warn=-10.0, crit=-13.0)).text
    'rx_power -14.2 dBm (crit at or below -13.0 dBm)'
"""

from __future__ import annotations

from dataclasses import dataclass

from diagnostics.model import Metric, ModelError, Severity


@dataclass(frozen=True)
class Levels:
    """A warn and a crit level; either may be None. For upper levels warn ≤ crit, for lower warn ≥ crit."""

    warn: float | None = None
    crit: float | None = None


@dataclass(frozen=True)
class Judgement:
    severity: Severity
    text: str
    metric: Metric


def _fmt(value: float, digits: int) -> str:
    return f"{value:.{digits}f}"


def judge(
    value: float | None,
    name: str,
    *,
    unit: str = "",
    upper: Levels | None = None,
    lower: Levels | None = None,
    digits: int = 1,
    label: str | None = None,
) -> Judgement:
    """Judge ``value`` against optional upper and lower levels; None means "no reading" (UNKNOWN)."""
    label = label or name
    sp = " " if unit else ""
    if upper and upper.warn is not None and upper.crit is not None and upper.warn > upper.crit:
        raise ModelError(f"{name}: upper warn level {upper.warn} is above crit level {upper.crit}")
    if lower and lower.warn is not None and lower.crit is not None and lower.warn < lower.crit:
        raise ModelError(f"{name}: lower warn level {lower.warn} is below crit level {lower.crit}")
    direction = "upper" if upper and not lower else "lower" if lower and not upper else None
    chosen = upper if direction == "upper" else lower if direction == "lower" else None
    metric = Metric(
        name=name,
        value=value,
        unit=unit,
        warn=chosen.warn if chosen else None,
        crit=chosen.crit if chosen else None,
        direction=direction,
    )
    if value is None:
        return Judgement(Severity.UNKNOWN, f"{label}: no reading", metric)
    shown = f"{label} {_fmt(value, digits)}{sp}{unit}"
    checks: list[tuple[Severity, str, float]] = []
    if upper:
        if upper.crit is not None and value >= upper.crit:
            checks.append((Severity.CRIT, "at or above", upper.crit))
        elif upper.warn is not None and value >= upper.warn:
            checks.append((Severity.WARN, "at or above", upper.warn))
    if lower:
        if lower.crit is not None and value <= lower.crit:
            checks.append((Severity.CRIT, "at or below", lower.crit))
        elif lower.warn is not None and value <= lower.warn:
            checks.append((Severity.WARN, "at or below", lower.warn))
    if not checks:
        return Judgement(Severity.OK, shown, metric)
    sev, words, level = max(checks, key=lambda c: c[0].rank)
    tag = "crit" if sev is Severity.CRIT else "warn"
    return Judgement(sev, f"{shown} ({tag} {words} {_fmt(level, digits)}{sp}{unit})", metric)
