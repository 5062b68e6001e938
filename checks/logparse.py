"""Parsing CloudStack log lines (pure functions; cloudstack.md §3).

Formats:
- management-server.log and KVM agent.log, 4.18/4.19: ``2024-05-02 10:11:12,345 WARN  [c.c.s.d.DownloadListener]
  (Timer-12:ctx-1a2b3c4d) (logid:0f1e2d3c) message`` — the context may be ``null`` or several words;
- the same in 4.20+ with a bracketed context list: ``(Work-Job-Executor-28:[ctx-5b29434d, job-113/job-141])``;
- the SSVM's /var/log/cloud.log: UTC, no logid, ``2025-03-11T20:53:36,178`` in 4.20+ (a space before);
- boot-script lines in cloud.log: ``Tue Nov 24 15:40:48 UTC 2026 message``;
- any of these behind a prefix from pasting or grep: ``hostname `` or ``./management-server.log:393287:``.
Continuation lines (``\\tat …``, ``Caused by: …``, ``\\t... 12 more``) belong to the entry above.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, tzinfo

_LEVELS = "TRACE|DEBUG|INFO|WARN|WARNING|ERROR|FATAL"
LINE_RE = re.compile(
    r"^(?P<prefix>.*?)(?P<ts>\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}[,.]\d{3})\s+"
    rf"(?P<level>{_LEVELS})\s+\[(?P<category>[^\]]+)\]\s+"
    r"(?:\((?P<thread>[^:()]*):(?P<context>\[[^\]]*\]|[^)]*)\)\s+)?"
    r"(?:\(logid:(?P<logid>[0-9a-fA-F]*)\)\s*)?"
    r"(?P<message>.*)$"
)
BOOT_RE = re.compile(
    r"^(?P<prefix>.*?)(?P<ts>(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
    r"[ \d]\d \d{2}:\d{2}:\d{2} [A-Z]{2,5} \d{4}) (?P<message>.*)$"
)


@dataclass(frozen=True)
class Parsed:
    time: datetime | None
    level: str | None
    category: str | None
    thread: str | None
    logid: str | None
    message: str
    format: str  # "ms" (management/agent), "ssvm" (no logid), "boot", or "unknown"


def parse(text: str, tz: tzinfo) -> Parsed:
    """Parse one line; ``tz`` is the zone of naive timestamps (the SSVM's 'T' format is UTC anyway)."""
    m = LINE_RE.match(text)
    if m:
        ts = m["ts"].replace(",", ".")
        try:
            when = datetime.fromisoformat(ts).replace(tzinfo=tz)
        except ValueError:
            when = None
        return Parsed(
            time=when,
            level="WARN" if m["level"] == "WARNING" else m["level"],
            category=m["category"],
            thread=m["thread"],
            logid=m["logid"] or None,
            message=m["message"].strip(),
            format="ms" if m["logid"] is not None else "ssvm",
        )
    m = BOOT_RE.match(text)
    if m:
        try:
            when = datetime.strptime(m["ts"].replace("  ", " "), "%a %b %d %H:%M:%S %Z %Y").replace(tzinfo=tz)
        except ValueError:
            when = None
        return Parsed(
            time=when, level=None, category=None, thread=None, logid=None, message=m["message"], format="boot"
        )
    return Parsed(time=None, level=None, category=None, thread=None, logid=None, message=text.strip(), format="unknown")


# What a message says it is about (cloudstack.md §3–4): 4.18 bare ids, 4.20+ JSON objects, SSVM paths.
_TEMPLATE_PATTERNS = (
    re.compile(r'Template (?P<json>\{[^}]*"id":(?P<id>\d+)[^}]*\})'),
    re.compile(r"TEMPLATE: (?P<id>\d+) at host"),
    re.compile(r"TEMPLATE: (?P<uuid>[0-9a-f-]{36})"),
    re.compile(r"template/tmpl/\d+/(?P<id>\d+)/"),
    re.compile(r"\b[Tt]emplate:? (?:id )?(?P<id>\d+)\b"),
    re.compile(r"\btemplate (?P<uuid>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"),
)
_STORE_PATTERNS = (
    re.compile(r"Image storage \[(?P<store>[^\]]+)\]"),
    re.compile(r"image store (?P<store>[\w.:/-]+)"),
    re.compile(r"secondary storage (?P<store>\d+)\b"),
    re.compile(r"(?P<store>nfs://[^\s,\]]+)"),
)
_HOST_PATTERNS = (
    re.compile(r"\b(?P<host>[svr]-\d+-VM)\b"),
    re.compile(r"[Hh]ost:? (?P<host>\d{1,3}(?:\.\d{1,3}){3})\b"),
    re.compile(r"at host \[id: (?P<host>\d+)"),
    re.compile(r"at host (?P<host>\d+)"),
    re.compile(r"[Hh]ost:? (?P<host>\d+)(?![.\d])"),
)
_JSON_NAME = re.compile(r'"name":"(?P<name>[^"]*)"')


def subjects(message: str) -> dict[str, str]:
    """The template, store and host a message names, as far as it names them."""
    out: dict[str, str] = {}
    for rx in _TEMPLATE_PATTERNS:
        if m := rx.search(message):
            groups = m.groupdict()
            out["template"] = groups.get("id") or groups.get("uuid") or ""
            if groups.get("json") and (n := _JSON_NAME.search(groups["json"])):
                out["template_name"] = n["name"]
            break
    for rx in _STORE_PATTERNS:
        if m := rx.search(message):
            out["store"] = m["store"]
            break
    for rx in _HOST_PATTERNS:
        if m := rx.search(message):
            out["host"] = m["host"]
            break
    return {k: v for k, v in out.items() if v}
