"""Charts for the HTML report and the email, drawn with matplotlib (Agg, no display) as PNG bytes.

- findings by check and severity (every run has it);
- findings per run from the history store (with two runs or more);
- one trend chart per metric with history: the measured points, the warn/crit bands, the fitted line
  and its forecast up to the day it crosses a level.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from diagnostics.model import Run
from diagnostics.trends import Trend, fit

COLOURS = {"CRIT": "#b3261e", "UNKNOWN": "#6b3fa0", "WARN": "#a15c00", "INFO": "#2d6fb7", "OK": "#1e7a3c"}
ORDER = ("CRIT", "UNKNOWN", "WARN", "INFO", "OK")
MAX_TREND_CHARTS = 12


@dataclass(frozen=True)
class Chart:
    name: str  # a file-name-safe id, also the email Content-ID's local part
    title: str
    alt: str  # what the chart shows, for screen readers and mail clients that block images
    png: bytes


def _figure(width: float = 7.5, height: float = 3.2) -> tuple[Any, Any]:
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(width, height), dpi=110)
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="y", alpha=0.3)
    return fig, ax


def _png(fig: Any) -> bytes:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png", metadata={"Software": None})  # no version string: reproducible bytes
    plt.close(fig)
    return buf.getvalue()


def by_check(run: Run) -> Chart:
    checks = sorted({f.check for f in run.findings} | {c.name for c in run.checks})
    counts = {
        s: [sum(1 for f in run.findings if f.check == c and f.severity.value == s) for c in checks] for s in ORDER
    }
    fig, ax = _figure(7.5, 0.45 * len(checks) + 1.2)
    left = [0] * len(checks)
    for sev in ORDER:
        ax.barh(checks, counts[sev], left=left, color=COLOURS[sev], label=sev)
        left = [a + b for a, b in zip(left, counts[sev], strict=True)]
    ax.invert_yaxis()
    ax.set_xlabel("findings")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.legend(ncols=5, fontsize=8, loc="lower left", bbox_to_anchor=(0, 1), frameon=False)
    ax.grid(axis="x", alpha=0.3)
    alt = "; ".join(
        f"{c}: " + ", ".join(f"{counts[s][i]} {s}" for s in ORDER if counts[s][i]) for i, c in enumerate(checks)
    )
    return Chart("by-check", "Findings by check", alt or "no findings", _png(fig))


def per_run(runs: Sequence[Mapping[str, Any]]) -> Chart | None:
    """Stacked bars of findings per run (history rows: finished, counts); None with fewer than two runs."""
    if len(runs) < 2:
        return None
    runs = list(runs)[-40:]
    labels = [str(r["finished"])[5:16].replace("T", " ") for r in runs]
    fig, ax = _figure()
    bottom = [0] * len(runs)
    for sev in ("CRIT", "UNKNOWN", "WARN"):
        values = [int((r.get("counts") or {}).get(sev, 0)) for r in runs]
        ax.bar(range(len(runs)), values, bottom=bottom, color=COLOURS[sev], label=sev)
        bottom = [a + b for a, b in zip(bottom, values, strict=True)]
    ax.set_xticks(range(len(runs)), labels, rotation=45, ha="right", fontsize=7)
    ax.set_ylabel("problems")
    ax.legend(fontsize=8, frameon=False)
    alt = f"problems per run over the last {len(runs)} runs: " + ", ".join(str(b) for b in bottom)
    return Chart("per-run", "Problems per run", alt, _png(fig))


def _scale(unit: str, values: Sequence[float]) -> tuple[float, str]:
    if unit == "B":
        top = max((abs(v) for v in values), default=0)
        for factor, name in ((2**40, "TiB"), (2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB")):
            if top >= factor:
                return factor, name
    return 1.0, unit


def trend_chart(t: Trend, index: int) -> Chart:
    import matplotlib.dates as mdates

    levels = [v for v in (t.warn, t.crit) if v is not None]
    factor, unit = _scale(t.unit, [v for _, v in t.points] + levels)
    xs = [p[0] for p in t.points]
    ys = [p[1] / factor for p in t.points]
    fig, ax = _figure()
    ax.plot(xs, ys, "o-", color="#1d2433", markersize=3, label="measured")
    end = max([xs[-1], *t.crossings.values()]) + timedelta(hours=6)
    lo, hi = ax.get_ylim()
    span = [*ys, *(v / factor for v in levels)]
    lo, hi = min(lo, *span), max(hi, *span)
    pad = (hi - lo) * 0.1 or 1
    lo, hi = lo - pad, hi + pad
    if t.crit is not None:  # bands: red beyond crit, amber between warn and crit
        c = t.crit / factor
        ax.axhspan(
            lo if t.direction == "lower" else c, c if t.direction == "lower" else hi, color="#b3261e", alpha=0.12
        )
        ax.axhline(c, color="#b3261e", lw=1, label="crit")
    if t.warn is not None:
        w = t.warn / factor
        edge = t.crit / factor if t.crit is not None else (lo if t.direction == "lower" else hi)
        ax.axhspan(min(w, edge), max(w, edge), color="#a15c00", alpha=0.10)
        ax.axhline(w, color="#a15c00", lw=1, ls="--", label="warn")
    line = fit(t.points)
    if line is not None:
        slope, now_value = line
        days = (end - xs[-1]).total_seconds() / 86400
        first = (xs[0] - xs[-1]).total_seconds() / 86400
        ax.plot(
            [xs[0], end],
            [(now_value + slope * first) / factor, (now_value + slope * days) / factor],
            color="#2d6fb7",
            ls=":",
            lw=1.5,
            label="trend / forecast",
        )
    for name, day in t.crossings.items():
        ax.axvline(day, color=COLOURS["CRIT" if name == "crit" else "WARN"], lw=0.8, ls=":")
        ax.annotate(f"{name} {day:%Y-%m-%d}", (day, hi), fontsize=7, rotation=90, va="top", ha="right")
    ax.set_ylim(lo, hi)
    ax.set_ylabel(unit)
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%m-%d"))  # type: ignore[no-untyped-call]
    ax.legend(fontsize=7, frameon=False, loc="best")
    ax.set_title(f"{t.metric} — {t.target}", fontsize=9)
    alt = f"{t.metric} of {t.target}: {len(t.points)} points, last {ys[-1]:.3g} {unit}" + "".join(
        f"; forecast to cross {n} on {d:%Y-%m-%d}" for n, d in t.crossings.items()
    )
    return Chart(f"trend-{index}", f"{t.check}: {t.metric}", alt, _png(fig))


def charts(run: Run, runs: Sequence[Mapping[str, Any]] = (), trends: Sequence[Trend] = ()) -> list[Chart]:
    """Every chart the report shows, in order."""
    out = [by_check(run)]
    if (c := per_run(runs)) is not None:
        out.append(c)
    out += [trend_chart(t, i) for i, t in enumerate(trends[:MAX_TREND_CHARTS])]
    return out
