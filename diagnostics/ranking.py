"""One order for every output: causal role first, then severity.

1. each incident's root cause, followed by the findings it explains (incidents in the order
   :func:`diagnostics.correlate.correlate` gives: worst and largest first);
2. the problems no incident explains (CRIT, UNKNOWN, WARN), lower layers of the stack first at equal
   severity — a dark optic explains more than a stalled download;
3. passes (INFO, OK) last.

Renderers (``reports/``) receive a :class:`Ranked` and print in its order; none of them sorts. The
terminal view also folds findings that say the same thing from several vantage points (``… from this
host`` and ``… from this host (NFS protocol)``, ``A → url`` and ``B → url``) into one :class:`Line`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from diagnostics.model import Finding, Incident, Run, Severity

# Layers of the stack, lowest first: at equal severity, a finding of a lower layer ranks first because
# what it breaks shows up in the layers above it. Checks not listed (plugins) come after these.
LAYERS = ("optics", "mtu", "storage", "platform", "ssvm", "reach", "templates", "images", "logs", "engine")

PROBLEMS = (Severity.CRIT, Severity.UNKNOWN, Severity.WARN)

_FROM = re.compile(r"^(?P<subject>.+?) from (?P<vantage>.+)$")
_ARROW = re.compile(r"^(?P<vantage>.+?) → (?P<subject>.+)$")


def split_vantage(target: str) -> tuple[str, str]:
    """``(subject, vantage)`` of a target: ``nfs://s/x from this host`` → ``('nfs://s/x', 'this host')``,
    ``10.0.0.9 → http://u`` → ``('http://u', '10.0.0.9')``; ``(target, '')`` when it names no vantage."""
    if m := _ARROW.match(target):
        return m["subject"], m["vantage"]
    if m := _FROM.match(target):
        return m["subject"], m["vantage"]
    return target, ""


def _layer(check: str) -> int:
    return LAYERS.index(check) if check in LAYERS else len(LAYERS)


def problem_key(f: Finding) -> tuple[int, int, str, str, str]:
    """Order of findings no incident explains: severity, then layer, then code and target."""
    return (-f.severity.rank, _layer(f.check), f.check, f.code, f.target)


@dataclass(frozen=True)
class Line:
    """Findings that say the same thing (same check, code and subject) from several vantage points."""

    findings: tuple[Finding, ...]
    subjects: int = 1  # > 1: the same code on this many subjects

    @property
    def first(self) -> Finding:
        return self.findings[0]

    @property
    def subject(self) -> str:
        return split_vantage(self.first.target)[0] if len(self.findings) > 1 else self.first.target

    @property
    def vantages(self) -> tuple[str, ...]:
        return tuple(v for v in (split_vantage(f.target)[1] for f in self.findings) if v)

    @property
    def severity(self) -> Severity:
        return Severity.worst(f.severity for f in self.findings)


def fold(findings: Sequence[Finding], *, same_code: int = 0) -> list[Line]:
    """Findings with the same check, code and subject become one :class:`Line` at the place of the first
    of them (the input order is kept). With ``same_code`` ≥ 2, lines of one check, code and severity on
    that many subjects or more fold too (``TEMPLATE_SYNC_INCOMPLETE`` on six templates is one line)."""
    groups: dict[tuple[str, str, str], list[Finding]] = {}
    for f in findings:
        groups.setdefault((f.check, f.code, split_vantage(f.target)[0]), []).append(f)
    lines = [Line(tuple(g)) for g in groups.values()]
    if same_code < 2:
        return lines
    kinds: dict[tuple[str, str, Severity], list[Line]] = {}
    for ln in lines:
        kinds.setdefault((ln.first.check, ln.first.code, ln.severity), []).append(ln)
    out: list[Line] = []
    done: set[tuple[str, str, Severity]] = set()
    for ln in lines:
        kind = (ln.first.check, ln.first.code, ln.severity)
        if len(kinds[kind]) < same_code:
            out.append(ln)
        elif kind not in done:
            done.add(kind)
            out.append(Line(tuple(f for x in kinds[kind] for f in x.findings), subjects=len(kinds[kind])))
    return out


@dataclass(frozen=True)
class RankedIncident:
    incident: Incident
    cause: Finding | None  # None when the cause is not among the findings (a run read back partially)
    members: tuple[Finding, ...]

    @property
    def findings(self) -> tuple[Finding, ...]:
        return ((self.cause,) if self.cause else ()) + self.members


@dataclass(frozen=True)
class Ranked:
    """A run with its findings in rank order, grouped by causal role."""

    run: Run
    incidents: tuple[RankedIncident, ...]
    unexplained: tuple[Finding, ...]  # problems (WARN, UNKNOWN, CRIT) no incident explains
    passes: tuple[Finding, ...]  # OK and INFO
    _rank: dict[int, int] = field(default_factory=dict, repr=False, compare=False)
    _incident: dict[int, Incident] = field(default_factory=dict, repr=False, compare=False)

    @property
    def findings(self) -> tuple[Finding, ...]:
        """Every finding of the run, in rank order."""
        return tuple(f for i in self.incidents for f in i.findings) + self.unexplained + self.passes

    def __iter__(self) -> Iterator[Finding]:
        return iter(self.findings)

    def rank(self, f: Finding) -> int:
        """1 for the first finding to look at."""
        return self._rank[id(f)]

    def incident_of(self, f: Finding) -> Incident | None:
        return self._incident.get(id(f))

    def is_cause(self, f: Finding) -> bool:
        i = self._incident.get(id(f))
        return i is not None and i.cause == f.key

    @property
    def problems(self) -> tuple[Finding, ...]:
        """Every WARN, UNKNOWN and CRIT finding in rank order."""
        return tuple(f for f in self.findings if f.severity in PROBLEMS)


def rank(run: Run | Ranked) -> Ranked:
    """The run in rank order (a :class:`Ranked` is returned as is)."""
    if isinstance(run, Ranked):
        return run
    by_key: dict[str, list[Finding]] = {}
    for f in run.findings:
        by_key.setdefault(f.key, []).append(f)
    taken: set[int] = set()

    def take(key: str) -> list[Finding]:
        out = [f for f in by_key.get(key, []) if id(f) not in taken]
        taken.update(id(f) for f in out)
        return out

    incidents: list[RankedIncident] = []
    incident_of: dict[int, Incident] = {}
    for inc in run.incidents:
        causes = take(inc.cause)
        members = [m for k in inc.members for m in take(k)]
        members.sort(key=problem_key)
        cause = causes[0] if causes else None
        members = causes[1:] + members
        ri = RankedIncident(inc, cause, tuple(members))
        incidents.append(ri)
        incident_of.update((id(f), inc) for f in ri.findings)
    rest = [f for f in run.findings if id(f) not in taken]
    unexplained = sorted((f for f in rest if f.severity in PROBLEMS), key=problem_key)
    passes = sorted((f for f in rest if f.severity not in PROBLEMS), key=problem_key)
    ranked = Ranked(run, tuple(incidents), tuple(unexplained), tuple(passes))
    ranked._rank.update((id(f), n) for n, f in enumerate(ranked.findings, 1))
    ranked._incident.update(incident_of)
    return ranked
