"""Trends from metric history: slope per day and the forecast day a series crosses its levels.

A metric that a check measures with warn/crit levels (storage available bytes against 3 × / 4 × the
largest template, Rx power against the optic's low-warning level, …) gets a least-squares line through
its recent points; if the line heads towards a level it has not crossed yet, the crossing day is the
forecast. A counter (unit ``count``: interface input and FCS errors) gets the same line through its points
since its last reset: its slope is the error rate per day. Pure computation on recorded points: the
history store supplies them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from diagnostics.model import Metric, Run

MIN_POINTS = 3
HORIZON_DAYS = 365  # crossings further out than this are not forecast


@dataclass(frozen=True)
class Trend:
    check: str
    target: str
    metric: str
    unit: str
    direction: str  # "lower": bad below the levels; "upper": bad above
    points: tuple[tuple[datetime, float], ...]
    warn: float | None
    crit: float | None
    slope_per_day: float | None  # None with fewer than MIN_POINTS points or no time spread
    crossings: Mapping[str, datetime]  # "warn"/"crit" → forecast day, for levels not yet crossed

    @property
    def label(self) -> str:
        return f"{self.check} {self.target} {self.metric}"


def fit(points: Sequence[tuple[datetime, float]]) -> tuple[float, float] | None:
    """Least-squares (slope per day, value at the last point's time); None without enough spread."""
    if len(points) < MIN_POINTS:
        return None
    t0 = points[-1][0]
    xs = [(t - t0).total_seconds() / 86400 for t, _ in points]
    ys = [v for _, v in points]
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    if sxx < 1e-9:
        return None
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx
    return slope, my - slope * mx  # the line at x = 0, the last point


def trend(check: str, target: str, metric: Metric, points: Sequence[tuple[datetime, float]]) -> Trend:
    points = sorted(points)
    line = fit(points)
    crossings: dict[str, datetime] = {}
    if line is not None and metric.direction in ("lower", "upper"):
        slope, now_value = line
        last = points[-1][0]
        for name, level in (("warn", metric.warn), ("crit", metric.crit)):
            if level is None or slope == 0:
                continue
            heading = slope < 0 if metric.direction == "lower" else slope > 0
            not_yet = now_value > level if metric.direction == "lower" else now_value < level
            if heading and not_yet:
                days = (level - now_value) / slope
                if 0 <= days <= HORIZON_DAYS:
                    crossings[name] = last + timedelta(days=days)
    return Trend(
        check=check,
        target=target,
        metric=metric.name,
        unit=metric.unit,
        direction=metric.direction or "",
        points=tuple(points),
        warn=metric.warn,
        crit=metric.crit,
        slope_per_day=line[0] if line else None,
        crossings=crossings,
    )


def since_reset(points: Sequence[tuple[datetime, float]]) -> list[tuple[datetime, float]]:
    """A counter's points after its last decrease (a reboot, a cleared or wrapped counter)."""
    start = 0
    for i in range(1, len(points)):
        if points[i][1] < points[i - 1][1]:
            start = i
    return list(points[start:])


def trends(run: Run, series: Iterable[Mapping[str, object]]) -> list[Trend]:
    """Trends of the run's levelled metrics, from ``series`` rows (History.series: at, check, target,
    name, value) — the run's own values included if recorded. Most urgent crossing first."""
    by_key: dict[tuple[str, str, str], dict[datetime, float]] = {}
    for row in series:
        value = row.get("value")
        if not isinstance(value, int | float):
            continue
        at = datetime.fromisoformat(str(row["at"]))
        by_key.setdefault((str(row["check"]), str(row["target"]), str(row["name"])), {})[at] = float(value)
    out = []
    for f in run.findings:
        for m in f.metrics:
            levelled = m.direction in ("lower", "upper") and (m.warn is not None or m.crit is not None)
            if m.value is None or not (levelled or m.unit == "count"):
                continue
            pts = dict(by_key.get((f.check, f.target, m.name), {}))
            pts[run.finished] = float(m.value)
            points = sorted(pts.items()) if levelled else since_reset(sorted(pts.items()))
            if len(points) >= MIN_POINTS:
                out.append(trend(f.check, f.target, m, points))
    never = datetime.max.replace(tzinfo=run.finished.tzinfo)
    out.sort(key=lambda t: (min(t.crossings.values(), default=never), t.label))
    return out


def notable(found: Sequence[Trend]) -> list[Trend]:
    """What a report shows: series forecast to cross a level, and counters that are rising."""
    return [t for t in found if t.crossings or (t.unit == "count" and (t.slope_per_day or 0) > 0)]
