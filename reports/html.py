"""The self-contained HTML report (jinja2, autoescaped), in the order of :mod:`diagnostics.ranking`.

The first screen answers "what is wrong and what do I do": the verdict, what changed since the previous
run ("3 new · 2 resolved"), the counts (critical, warnings, could not check, passed), then each incident
with its root cause and first action. Then the other problems, could-not-check apart, passes collapsed.
Each finding shows its evidence for people — key/value lists, tables for rows, the SQL behind a "query"
toggle, sizes and levels with units — and findings that say the same thing from several vantage points
are one card. Charts inline; trends and forecasts; the configuration the run used, as TOML with secrets
as ``env:NAME``. Works with JavaScript off (the counts then do not filter), on paper and on a phone.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from diagnostics.model import Evidence, Finding, Run, Severity
from diagnostics.ranking import Line, Ranked, fold, rank
from reports import VERDICT_WORDS, humanize, verdict

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


@dataclass
class EvidenceView:
    kind: str
    source: str
    at: str
    query: str | None = None  # SQL, shown behind a toggle
    text: str | None = None
    pairs: list[tuple[str, str]] = field(default_factory=list)
    tables: list[tuple[str, list[str], list[list[str]]]] = field(default_factory=list)


def evidence_view(e: Evidence) -> EvidenceView:
    """One piece of evidence for people: the SQL apart, data as key/value pairs and row tables."""
    source, query = e.source, None
    db, sep, sql = e.source.partition(" SQL: ")
    if sep:
        source, query = f"{db} (database query)", sql
    elif e.source.lstrip().upper().startswith(("SELECT ", "WITH ")):
        source, query = "database query", e.source
    view = EvidenceView(kind=e.kind.value, source=source, at=f"{e.at:%Y-%m-%d %H:%M:%S}" if e.at else "", query=query)
    data: Mapping[str, Any] = e.data or {}
    for k, v in data.items():
        if humanize.is_table(v):
            cols = humanize.columns(list(v))
            view.tables.append((k, cols, [[humanize.value(c, row.get(c)) for c in cols] for row in v]))
        elif isinstance(v, Mapping) and v and all(not isinstance(x, Mapping | list) for x in v.values()):
            view.tables.append((k, ["key", "value"], [[str(a), humanize.value(str(a), b)] for a, b in v.items()]))
        else:
            view.pairs.append((k, humanize.value(k, v)))
    if e.text is not None and (not data or "\n" in e.text.strip()):
        view.text = e.text  # a log line or command output; a one-line rendering of the data is not repeated
    return view


@dataclass
class Card:
    """One finding card: findings that say the same thing from several vantage points share it."""

    line: Line
    anchor: str
    rank: int
    evidence: list[EvidenceView]
    metrics: list[tuple[str, str, str, str]]  # name, value, warn, crit — with units

    @property
    def f(self) -> Finding:
        return self.line.first


def _card(ranked: Ranked, line: Line, anchor: str) -> Card:
    first = line.first
    seen: set[str] = set()
    evidence = []
    for f in line.findings:
        for e in f.evidence:
            key = json.dumps([e.source, e.text, e.data], sort_keys=True, default=str)
            if key not in seen:  # the same fact once
                seen.add(key)
                evidence.append(evidence_view(e))
    metrics = [
        (
            m.name,
            humanize.human(m.value, m.unit, m.name),
            "" if m.warn is None else humanize.human(m.warn, m.unit, m.name),
            "" if m.crit is None else humanize.human(m.crit, m.unit, m.name),
        )
        for m in first.metrics
    ]
    return Card(line, anchor, ranked.rank(first), evidence, metrics)


def config_toml(config: Mapping[str, Any]) -> str:
    """The run's configuration summary as TOML, secrets as the ``env:NAME``/``file:PATH`` reference."""
    scalars = [(k, v) for k, v in config.items() if not isinstance(v, Mapping) and k != "file"]
    lines = [f"# {config['file']}"] if config.get("file") else ["# no configuration file: defaults"]
    lines += [f"{k} = {_toml(v)}" for k, v in scalars if v not in (None, [], {})]
    for k, v in config.items():
        if isinstance(v, Mapping) and v:
            lines += _section(k, v)
    return "\n".join(lines)


def _section(name: str, table: Mapping[str, Any]) -> list[str]:
    out = ["", f"[{name}]"]
    out += [f"{k} = {_toml(v)}" for k, v in table.items() if not isinstance(v, Mapping) and v is not None]
    for k, v in table.items():
        if isinstance(v, Mapping) and v:
            out += _section(f"{name}.{k}", v)
    return out


def _toml(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return str(v)
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_toml(x) for x in v) + "]"
    return json.dumps(str(v), ensure_ascii=False)


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
    anchors: dict[str, str] = {}
    cards: dict[str, Card] = {}
    lines = fold(ranked.findings)
    for n, line in enumerate(lines):
        card = _card(ranked, line, f"f{n}")
        for f in line.findings:
            anchors.setdefault(f.key, card.anchor)
        cards[card.anchor] = card
    ordered = list(cards.values())
    groups = [
        ("Failed", "failed", [c for c in ordered if c.line.severity in (Severity.CRIT, Severity.WARN)]),
        ("Could not check", "unknown", [c for c in ordered if c.line.severity is Severity.UNKNOWN]),
        ("Passed and informational", "passed", [c for c in ordered if c.line.severity in (Severity.OK, Severity.INFO)]),
    ]
    incidents = [
        {
            "i": ri.incident,
            "cause": ri.cause,
            "members": ri.members,
            "rank": ranked.rank(ri.findings[0]) if ri.findings else 0,
        }
        for ri in ranked.incidents
    ]
    counts = run.counts()
    new = sum(1 for c in changes if c.status == "new")
    resolved = [c for c in changes if c.status == "resolved"]
    environment: list[tuple[str, str]] = [
        ("csdiag", run.tool_version),
        ("CloudStack", cloudstack_version(run) or "not read (no database in this run)"),
        ("run", f"{run.started:%Y-%m-%d %H:%M:%S} UTC, {(run.finished - run.started).total_seconds():.1f} s"),
        ("source", run.source),
        ("runner", f"{run.runner} on {run.host}" if run.host else run.runner or "not named (older csdiag)"),
        ("checks", ", ".join(f"{c.name} ({c.status.value})" for c in run.checks)),
    ]
    return env.get_template("report.html.j2").render(
        run=run,
        verdict=verdict(run),
        verdict_word=VERDICT_WORDS[run.worst],
        worst=run.worst.value,
        counts=counts,
        tiles=[
            ("CRIT", "critical", counts["CRIT"]),
            ("WARN", "warnings", counts["WARN"]),
            ("UNKNOWN", "could not check", counts["UNKNOWN"]),
            ("OK", "passed", counts["OK"] + counts["INFO"]),
        ],
        changed=f"{new} new · {len(resolved)} resolved since the previous run" if changes else "",
        incidents=incidents,
        groups=groups,
        anchors=anchors,
        in_incident={f.key: ranked.incident_of(f) for f in ranked.findings if ranked.incident_of(f)},
        marks={c.key: c for c in changes if c.status != "resolved"},
        resolved=resolved,
        trends=trends,
        charts=[(c, image_src(c)) for c in charts],
        environment=environment,
        config_text=config_toml(run.config),
    )
