"""The report as an email: a plain-text summary with an HTML alternative whose charts are inline parts
referenced by Content-ID, and the CSV and the full HTML report attached.

MIME tree (RFC 2046 / 2387)::

    multipart/mixed
    ├── multipart/alternative
    │   ├── text/plain                  the summary: verdict, incidents, problems, what changed
    │   └── multipart/related
    │       ├── text/html               the report, images as cid:
    │       └── image/png …             one per chart, Content-ID <chart-NAME@csdiag>
    ├── text/csv                        findings.csv (attachment)
    └── text/html                       report.html, self-contained (attachment)
"""

from __future__ import annotations

from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import TYPE_CHECKING

from diagnostics.model import Run
from diagnostics.ranking import Ranked, rank
from reports import VERDICT_WORDS, verdict

if TYPE_CHECKING:
    from diagnostics.config import EmailSettings
    from diagnostics.history import Change
    from diagnostics.trends import Trend
    from reports.charts import Chart

MAX_TEXT_FINDINGS = 30


def subject(template: str, run: Run, changes: Sequence[Change]) -> str:
    c = run.counts()
    return template.format(
        verdict=VERDICT_WORDS[run.worst],
        crit=c["CRIT"],
        warn=c["WARN"],
        unknown=c["UNKNOWN"],
        new=sum(1 for ch in changes if ch.status == "new"),
        resolved=sum(1 for ch in changes if ch.status == "resolved"),
    )


def text_summary(run: Run | Ranked, changes: Sequence[Change], trends: Sequence[Trend] = ()) -> str:
    """The plain-text part, in rank order: incidents with their first action, then the problems."""
    ranked = rank(run)
    run = ranked.run
    lines = [verdict(run), ""]
    marks = {c.key: c for c in changes if c.status != "resolved"}
    if ranked.incidents:
        lines.append("Incidents:")
        for ri in ranked.incidents:
            i = ri.incident
            lines.append(f"  [{i.severity.value}] {i.title}: {i.summary}")
            if i.remediation:
                lines.append(f"      do: {i.remediation}")
        lines.append("")
    problems = list(ranked.problems)
    if problems:
        lines.append("Problems, in the order to look at them:")
        for f in problems[:MAX_TEXT_FINDINGS]:
            mark = marks.get(f.key)
            tag = " (new)" if mark and mark.status == "new" else ""
            lines.append(f"  #{ranked.rank(f)} [{f.severity.value}]{tag} {f.check} {f.code} {f.target}: {f.summary}")
        if len(problems) > MAX_TEXT_FINDINGS:
            lines.append(f"  … and {len(problems) - MAX_TEXT_FINDINGS} more in the attached report")
        lines.append("")
    resolved = [c for c in changes if c.status == "resolved"]
    if resolved:
        lines.append("Resolved since the previous run:")
        lines += [f"  {c.check} {c.code} {c.target}" for c in resolved]
        lines.append("")
    forecasts = [(t, n, d) for t in trends for n, d in sorted(t.crossings.items())]
    if forecasts:
        lines.append("Forecasts:")
        lines += [f"  {t.check} {t.target} {t.metric} crosses {n} on {d:%Y-%m-%d}" for t, n, d in forecasts]
        lines.append("")
    lines.append(f"csdiag {run.tool_version}, run {run.id}, {run.finished:%Y-%m-%d %H:%M} UTC")
    return "\n".join(lines) + "\n"


def build(
    settings: EmailSettings,
    run: Run,
    changes: Sequence[Change],
    *,
    trends: Sequence[Trend] = (),
    charts: Sequence[Chart] = (),
    csv_text: str,
    html_file: str,
) -> EmailMessage:
    """The message, ready for :func:`diagnostics.sources.smtp.send` (no network here)."""
    from reports import html

    msg = EmailMessage()
    msg["Subject"] = subject(settings.subject, run, changes)
    msg["From"] = settings.sender
    msg["To"] = ", ".join(settings.recipients)
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain="csdiag")
    msg.set_content(text_summary(run, changes, trends))
    cids = {c.name: make_msgid(idstring=f"chart-{c.name}", domain="csdiag") for c in charts}
    body = html.render(run, changes, trends=trends, charts=charts, image_src=lambda c: "cid:" + cids[c.name][1:-1])
    msg.add_alternative(body, subtype="html")
    related = msg.get_body(preferencelist=("html",))  # becomes multipart/related with the first image
    assert isinstance(related, EmailMessage)
    for c in charts:
        related.add_related(c.png, maintype="image", subtype="png", cid=cids[c.name], filename=f"{c.name}.png")
    msg.add_attachment(csv_text.encode("utf-8"), maintype="text", subtype="csv", filename="findings.csv")
    msg.add_attachment(html_file.encode("utf-8"), maintype="text", subtype="html", filename="report.html")
    return msg
