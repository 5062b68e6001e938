"""Incidents: findings of several checks that one root cause explains, grouped with the cause first.

The rules are data (``incidents.toml`` beside this module, documented there). Findings are joined on
their subjects — what they are about: a template, a store, a zone, an SSVM, a server, a URL — taken from
``Finding.subjects`` and, for findings that do not set them, read off the target the checks write
(``template 12 "name" @ store 3 "nfs-1"``, ``ssvm s-12-VM (zone 2 "west")``, ``nfs://10.0.0.5/export``,
``this host → 10.0.0.5``).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from urllib.parse import urlsplit

from diagnostics.model import Finding, Incident, Severity

_TARGET_SUBJECTS = (
    ("template", re.compile(r"\btemplate (\d+)\b")),
    ("store", re.compile(r"\bstore (\d+)\b")),
    ("store_name", re.compile(r'\b(store \d+ "[^"]*")')),
    ("zone", re.compile(r"\bzone (\d+)\b")),
    ("ssvm", re.compile(r"\bssvm ([sv]-\d+-VM)\b")),
)


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    cause: frozenset[str]  # "check:CODE"
    effects: frozenset[str]
    join: tuple[str, ...]
    link: tuple[str, ...]
    summary: str
    remediation: str

    @classmethod
    def from_dict(cls, d: Mapping[str, object]) -> Rule:
        def strs(key: str) -> tuple[str, ...]:
            value = d.get(key, [])
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ValueError(f"rule {d.get('id')!r}: {key} must be a list of strings")
            return tuple(value)

        return cls(
            id=str(d["id"]),
            title=str(d["title"]),
            cause=frozenset(strs("cause")),
            effects=frozenset(strs("effects")),
            join=strs("join"),
            link=strs("link"),
            summary=str(d.get("summary", "")),
            remediation=str(d.get("remediation", "")),
        )


@cache
def rules() -> tuple[Rule, ...]:
    """The rules shipped with csdiag, in priority order."""
    text = resources.files("diagnostics").joinpath("incidents.toml").read_text(encoding="utf-8")
    return tuple(Rule.from_dict(r) for r in tomllib.loads(text)["rule"])


def subjects(f: Finding) -> dict[str, str]:
    """What ``f`` is about: its own ``subjects`` over what its target names."""
    out: dict[str, str] = {}
    for kind, pattern in _TARGET_SUBJECTS:
        if m := pattern.search(f.target):
            out[kind] = m.group(1)
    if m := re.search(r"\bnfs://([^/\s]+)", f.target):
        out["server"] = m.group(1)
    _, arrow, peer = f.target.partition(" → ")
    if arrow:
        peer = peer.split()[0] if peer.split() else peer
        if "://" in peer:
            out["url"] = peer
        elif host := urlsplit(f"//{peer}").hostname:
            out["server"] = host
    out.update(f.subjects)
    return out


def correlate(findings: Sequence[Finding], ruleset: Iterable[Rule] | None = None) -> tuple[Incident, ...]:
    """Incidents among the failing findings (WARN, CRIT, UNKNOWN), most severe and largest first."""
    problems = [f for f in findings if f.severity in (Severity.CRIT, Severity.WARN, Severity.UNKNOWN)]
    subj = {id(f): subjects(f) for f in problems}
    claimed: set[int] = set()
    incidents: list[Incident] = []
    for rule in rules() if ruleset is None else ruleset:
        for cause in problems:
            if id(cause) in claimed or f"{cause.check}:{cause.code}" not in rule.cause:
                continue
            members = _members(rule, cause, [f for f in problems if id(f) not in claimed and f is not cause], subj)
            if not members:
                continue
            claimed |= {id(cause), *(id(m) for m in members)}
            members.sort(key=lambda f: f.sort_key)
            incidents.append(
                Incident(
                    rule=rule.id,
                    title=rule.title,
                    severity=Severity.worst([cause.severity, *(m.severity for m in members)]),
                    cause=cause.key,
                    members=tuple(m.key for m in members),
                    summary=_fill(rule.summary, subj[id(cause)], cause),
                    remediation=rule.remediation,
                )
            )
    incidents.sort(key=lambda i: (-i.severity.rank, -len(i.members)))
    return tuple(incidents)


def _members(
    rule: Rule, cause: Finding, candidates: list[Finding], subj: Mapping[int, dict[str, str]]
) -> list[Finding]:
    effects = [f for f in candidates if f"{f.check}:{f.code}" in rule.effects]
    joined = [f for f in effects if _shares(subj[id(cause)], subj[id(f)], rule.join)]
    frontier = list(joined)
    while frontier:  # effects that share a link subject with one that already belongs ...
        f = frontier.pop()
        for g in effects:
            if (
                g not in joined
                and _shares(subj[id(f)], subj[id(g)], rule.link)
                and not _conflicts(subj[id(cause)], subj[id(g)], rule.join)  # ... and are not about another one
            ):
                joined.append(g)
                frontier.append(g)
    return joined


def _shares(a: Mapping[str, str], b: Mapping[str, str], kinds: Iterable[str]) -> bool:
    return any(k in a and a.get(k) == b.get(k) for k in kinds)


def _conflicts(a: Mapping[str, str], b: Mapping[str, str], kinds: Iterable[str]) -> bool:
    return any(k in a and k in b and a[k] != b[k] for k in kinds)


def _fill(template: str, values: Mapping[str, str], cause: Finding) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1)) or cause.target, template)
