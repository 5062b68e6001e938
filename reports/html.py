"""The self-contained HTML report (jinja2, autoescaped): verdict and counts first, incidents with their
root cause, failures worst first, "could not check" apart from "failed", passed items collapsed; each
finding with its evidence, measured values against thresholds and what to do; charts inline; trends and
forecasts; the environment the run saw. Works with JavaScript off (the counts then do not filter), on
paper and on a phone."""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from diagnostics.model import Run, Severity
from diagnostics.ranking import Ranked, rank
from reports import VERDICT_WORDS, verdict

if TYPE_CHECKING:
    from diagnostics.history import Change
    from diagnostics.trends import Trend
    from reports.charts import Chart


def data_uri(chart: Chart) -> str:
    return "data:image/png;base64," + base64.b64encode(chart.png).decode("ascii")


def cloudstack_version(run: Run) -> str | None:
    """What the platform check said of the version, if it ran."""
    return next(
        (
            f.summary
            for f in run.findings
            if f.check == "platform" and f.code.startswith(("CLOUDSTACK_VERSION", "VERSION_"))
        ),
        None,
    )


def render(
    run: Run | Ranked,
    changes: Sequence[Change] = (),
    *,
    trends: Sequence[Trend] = (),
    charts: Sequence[Chart] | None = None,
    image_src: Callable[[Chart], str] = data_uri,
) -> str:
    """``changes`` (from the history store) marks findings new or open since when and lists what was
    resolved; ``charts`` default to those the run alone allows; ``image_src`` gives each chart's
    ``src`` (a data: URI for a file, ``cid:`` for an email)."""
    import jinja2

    ranked = rank(run)
    run = ranked.run
    if charts is None:
        from reports.charts import charts as make_charts

        charts = make_charts(run, trends=trends)
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("reports", "templates"),
        autoescape=True,  # every value is escaped: evidence is untrusted text from logs and devices
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    findings = ranked.findings
    anchors = {f.key: f"f{i}" for i, f in enumerate(findings)}
    by_key = {f.key: f for f in findings}
    in_incident = {k: i.rule for i in run.incidents for k in (i.cause, *i.members)}
    groups = [
        ("Failed", "failed", [f for f in findings if f.severity in (Severity.CRIT, Severity.WARN)]),
        ("Could not check", "unknown", [f for f in findings if f.severity is Severity.UNKNOWN]),
        ("Passed and informational", "passed", [f for f in findings if f.severity in (Severity.OK, Severity.INFO)]),
    ]
    environment: list[tuple[str, Any]] = [
        ("csdiag", run.tool_version),
        ("CloudStack", cloudstack_version(run) or "not read (no database in this run)"),
        ("run", f"{run.started:%Y-%m-%d %H:%M:%S} UTC, {(run.finished - run.started).total_seconds():.1f} s"),
        ("source", run.source),
        ("checks", ", ".join(f"{c.name} ({c.status.value})" for c in run.checks)),
    ]
    environment += [(f"config {k}", v) for k, v in run.config.items() if v not in (None, [], {})]
    return env.get_template("report.html.j2").render(
        run=run,
        verdict=verdict(run),
        verdict_word=VERDICT_WORDS[run.worst],
        worst=run.worst.value,
        counts=run.counts(),
        groups=groups,
        anchors=anchors,
        by_key=by_key,
        in_incident=in_incident,
        marks={c.key: c for c in changes if c.status != "resolved"},
        resolved=[c for c in changes if c.status == "resolved"],
        trends=trends,
        charts=[(c, image_src(c)) for c in charts],
        environment=environment,
    )
