"""Reading the output of CloudStack's ``ssvm-check.sh`` as the SSVM prints it (pure functions).

The rules live in ``ssvm_script.toml`` beside this module (loaded and validated at import). The script
prints ``ERROR: …`` and ``WARNING: …`` lines among progress lines and tool output (ping, route, touch,
socat) and ends with "Tests Complete. Look for ERROR or WARNING above." — which is not an error. Some
errors make it exit at once (DNS, 8250, Java), so the tests after them never ran: the result says so.
Its own port-8250 test cannot fail (``NOTE_8250``).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from diagnostics.model import Evidence, EvidenceKind, Finding, Severity

_KINDS = {"error": Severity.CRIT, "warning": Severity.WARN, "end": Severity.OK, "good": Severity.OK}
_EXIT = re.compile(r"^(?:EXIT|CHECKRC) (?P<rc>\d+)$")


class RulesError(ValueError):
    """ssvm_script.toml has a rule that cannot be used."""


@dataclass(frozen=True)
class Rule:
    regex: re.Pattern[str]
    kind: str
    cause: str = ""
    title: str = ""
    remediation: str = ""
    stops: bool = False


@dataclass(frozen=True)
class Event:
    """One ERROR or WARNING line, with what the lines before it said it was about."""

    severity: Severity
    cause: str
    title: str
    remediation: str
    line: str
    facts: dict[str, str]
    stops: bool = False


@dataclass
class Result:
    events: list[Event] = field(default_factory=list)
    good: list[str] = field(default_factory=list)
    completed: bool = False  # the closing line was printed
    exit_code: int | None = None


def load(text: str) -> tuple[str, tuple[re.Pattern[str], ...], tuple[Rule, ...]]:
    """(the 8250 note, context regexes, rules) from the text of ssvm_script.toml; raises RulesError."""
    try:
        data = tomllib.loads(text)
        contexts = tuple(re.compile(c["regex"]) for c in data.get("context", []))
        rules = []
        for r in data["rule"]:
            if unknown := set(r) - {"regex", "kind", "cause", "title", "remediation", "stops"}:
                raise RulesError(f"rule {r.get('regex')!r}: unknown keys {sorted(unknown)}")
            if r.get("kind") not in _KINDS:
                raise RulesError(f"rule {r.get('regex')!r}: kind must be one of {sorted(_KINDS)}")
            if r["kind"] in {"error", "warning"} and not (r.get("cause") and r.get("title") and r.get("remediation")):
                raise RulesError(f"rule {r['regex']!r}: an error or warning needs a cause, a title and a remediation")
            rules.append(
                Rule(
                    regex=re.compile(r["regex"]),
                    kind=r["kind"],
                    cause=r.get("cause", ""),
                    title=r.get("title", ""),
                    remediation=r.get("remediation", ""),
                    stops=bool(r.get("stops", False)),
                )
            )
        note = data["note_8250"]
    except (tomllib.TOMLDecodeError, re.error, KeyError, TypeError) as exc:
        raise RulesError(f"ssvm_script.toml: {exc}") from exc
    if not isinstance(note, str) or not note:
        raise RulesError("ssvm_script.toml: note_8250 must be a text")
    return note, contexts, tuple(rules)


NOTE_8250, _CONTEXTS, RULES = load(resources.files("checks").joinpath("ssvm_script.toml").read_text("utf-8"))


def parse(lines: list[str]) -> Result:
    """The findings-to-be of one run of ssvm-check.sh (its output lines, stdout and stderr together)."""
    result = Result()
    context: dict[str, str] = {}
    for raw in lines:
        line = raw.rstrip()
        if m := _EXIT.match(line):
            result.exit_code = int(m["rc"])
            continue
        for rx in _CONTEXTS:
            if m := rx.search(line):
                context.update({k: v for k, v in m.groupdict().items() if v})
        rule = next((r for r in RULES if r.regex.search(line)), None)
        if rule is not None:
            if rule.kind == "end":
                result.completed = True
            elif rule.kind == "good":
                result.good.append(line)
            else:
                facts = {**context, **{k: v for k, v in rule.regex.search(line).groupdict().items() if v}}  # type: ignore[union-attr]
                result.events.append(
                    Event(_KINDS[rule.kind], rule.cause, rule.title, rule.remediation, line, facts, rule.stops)
                )
        elif line.startswith(("ERROR", "WARNING")):
            kind = "error" if line.startswith("ERROR") else "warning"
            result.events.append(
                Event(
                    _KINDS[kind],
                    "unrecognised " + kind,
                    "ssvm-check.sh reported a problem csdiag has no rule for",
                    "Read the line and the script's output around it.",
                    line,
                    dict(context),
                )
            )
    return result


def summary(result: Result) -> dict[str, Any]:
    """A JSON-friendly digest for evidence data."""
    return {
        "completed": result.completed,
        "exit_code": result.exit_code,
        "good": result.good,
        "problems": [{"severity": e.severity.name, "cause": e.cause, "line": e.line, **e.facts} for e in result.events],
    }


_FACT_NAMES = {"mount_point": "mount point", "storage_address": "storage address", "gateway": "storage gateway"}


def findings(check: str, label: str, lines: list[str]) -> Iterator[Finding]:
    """Findings from ssvm-check.sh's output: one per ERROR/WARNING line, with its cause; an INFO one when the
    script ran to its end without any. Every one notes that the script's own 8250 test cannot fail."""
    result = parse(lines)
    target = f"{label} → ssvm-check.sh"
    ev = (
        Evidence(
            kind=EvidenceKind.COMMAND,
            source=f"{label}: /usr/local/cloud/systemvm/ssvm-check.sh",
            text="\n".join(line for line in lines if not line.startswith("CHECKRC ")),
            data={**summary(result), "note_8250": NOTE_8250},
        ),
    )
    stopped = next((e for e in result.events if e.stops and e.severity is Severity.CRIT), None)
    after = (
        f" The script stopped after “{stopped.line}”: the tests after it did not run." if stopped is not None else ""
    )
    for e in result.events:
        where = ", ".join(f"{_FACT_NAMES[k]} {v}" for k, v in e.facts.items() if k in _FACT_NAMES)
        where = where or (f"DNS server {e.facts['dns_server']}" if "dns_server" in e.facts and "DNS" in e.cause else "")
        yield Finding(
            check=check,
            code="SSVM_CHECK_FAILED" if e.severity is Severity.CRIT else "SSVM_CHECK_WARNING",
            severity=e.severity,
            target=target,
            summary=f"ssvm-check.sh on {label}: {e.title} ({e.cause}{'; ' + where if where else ''})",
            details=f"The script printed: {e.line}."
            + (" It stopped there: the tests after it did not run." if e is stopped else after)
            + f" {NOTE_8250}",
            evidence=ev,
            remediation=e.remediation,
        )
    if not result.events and result.completed:
        yield Finding(
            check=check,
            code="SSVM_CHECK_PASSED",
            severity=Severity.INFO,
            target=target,
            summary=f"ssvm-check.sh on {label}: no ERROR or WARNING ({len(result.good)} tests good)",
            details=NOTE_8250,
            evidence=ev,
        )
    elif not result.completed and stopped is None:
        yield Finding(
            check=check,
            code="REACH_NOT_TESTED",
            severity=Severity.UNKNOWN,
            target=target,
            summary=f"ssvm-check.sh on {label} did not run to its end (exit {result.exit_code}; killed after 120 s, "
            "or a shell error): its remaining tests did not run",
            details=NOTE_8250,
            evidence=ev,
            remediation="Run /usr/local/cloud/systemvm/ssvm-check.sh on the SSVM by hand and read where it stops.",
        )
