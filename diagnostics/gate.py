"""Readiness gates: a yes/no over a run's findings, with waivers that expire.

A gate fails on any finding at or above ``fail_on`` (WARN or CRIT) that no active waiver covers, and by
default on UNKNOWN too: not being able to prove readiness is not readiness (``allow_unknown`` lifts it).
Waivers live in a TOML file of ``[[waiver]]`` tables; a malformed file is an error before any check runs,
an expired waiver stops waiving and is reported.
"""

from __future__ import annotations

import fnmatch
import tomllib
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from diagnostics.config import ConfigError, key_path
from diagnostics.model import Finding, Run, Severity


class Waiver(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(min_length=1, description="finding code, or a glob such as TEMPLATE_*")
    target: str = Field("*", min_length=1, description="glob on the finding's target")
    check: str = Field("*", min_length=1, description="glob on the check name")
    justification: str = Field(min_length=3)
    expires: date

    def covers(self, f: Finding) -> bool:
        return (
            fnmatch.fnmatchcase(f.code, self.code)
            and fnmatch.fnmatchcase(f.target, self.target)
            and fnmatch.fnmatchcase(f.check, self.check)
        )

    def label(self) -> str:
        return f"{self.code} @ {self.target} (expires {self.expires})"


class _WaiverFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    waiver: list[Waiver] = Field(default_factory=list)


def load_waivers(path: Path, known_codes: Collection[str] | None = None) -> list[Waiver]:
    """Read a waiver file; any problem is a ConfigError naming the file and the key (``waiver[2].expires``).
    With ``known_codes``, a waiver whose code (or glob) matches none of them is an error naming the code:
    a typo would otherwise waive nothing, silently."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError("no such file", file=path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read: {exc}", file=path) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"invalid TOML: {exc}", file=path) from None
    try:
        waivers = _WaiverFile.model_validate(data).waiver
    except ValidationError as exc:
        err = exc.errors()[0]
        msg = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
        raise ConfigError(msg, file=path, key=key_path(err["loc"])) from None
    if known_codes is not None:
        for i, w in enumerate(waivers):
            if not any(fnmatch.fnmatchcase(code, w.code) for code in known_codes):
                raise ConfigError(
                    f"unknown code {w.code!r}: no installed check raises it (csdiag checks lists the codes)",
                    file=path,
                    key=f"waiver[{i}].code",
                )
    return waivers


@dataclass
class Verdict:
    passed: bool
    fail_on: Severity
    allow_unknown: bool
    blocking: list[Finding] = field(default_factory=list)
    waived: list[tuple[Finding, Waiver]] = field(default_factory=list)
    unknown_allowed: list[Finding] = field(default_factory=list)
    expired: list[Waiver] = field(default_factory=list)
    attempts: int = 1

    def waived_ids(self) -> dict[int, str]:
        return {id(f): w.justification for f, w in self.waived}


def judge(run: Run, *, fail_on: Severity, allow_unknown: bool, waivers: Sequence[Waiver], today: date) -> Verdict:
    active = [w for w in waivers if w.expires >= today]
    verdict = Verdict(
        passed=True, fail_on=fail_on, allow_unknown=allow_unknown, expired=[w for w in waivers if w.expires < today]
    )
    for f in run.findings:
        fails = f.severity.rank >= fail_on.rank and f.severity is not Severity.UNKNOWN
        unknown = f.severity is Severity.UNKNOWN
        if not (fails or unknown):
            continue
        waiver = next((w for w in active if w.covers(f)), None)
        if waiver is not None:
            verdict.waived.append((f, waiver))
        elif unknown and allow_unknown:
            verdict.unknown_allowed.append(f)
        else:
            verdict.blocking.append(f)
    verdict.passed = not verdict.blocking
    return verdict


def render_block(v: Verdict) -> str:
    """The verdict block for stderr: what blocks, what is waived and why, what expired."""
    head = "GATE PASSED" if v.passed else "GATE FAILED"
    rule = f"fails on {v.fail_on.value} and above" + ("; UNKNOWN allowed" if v.allow_unknown else "; UNKNOWN fails")
    lines = [f"{head} ({rule}; {v.attempts} attempt{'s' if v.attempts != 1 else ''})"]
    if v.blocking:
        lines.append(f"blocking ({len(v.blocking)}):")
        lines += [f"  [{f.severity.value}] {f.check} {f.code} {f.target}: {f.summary}" for f in v.blocking]
    if v.waived:
        lines.append(f"waived ({len(v.waived)}):")
        lines += [
            f"  [{f.severity.value}] {f.check} {f.code} {f.target} — {w.justification} (until {w.expires})"
            for f, w in v.waived
        ]
    if v.unknown_allowed:
        lines.append(f"could not check, allowed ({len(v.unknown_allowed)}):")
        lines += [f"  {f.check} {f.code} {f.target}: {f.summary}" for f in v.unknown_allowed]
    if v.expired:
        lines.append(f"expired waivers, no longer applied ({len(v.expired)}):")
        lines += [f"  {w.label()} — {w.justification}" for w in v.expired]
    return "\n".join(lines) + "\n"
