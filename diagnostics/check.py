"""The check contract.

A check is declared as data — a frozen :class:`Check` holding two functions and a parameters class::

    CHECK = Check(
        name="platform",
        title="CloudStack platform",
        description="what it looks at",
        codes=(Code("VERSION_UNSUPPORTED", Severity.CRIT, "CloudStack older than 4.18"), ...),
        params=PlatformParams,            # pydantic model; [thresholds.platform] in the config
        collect=collect,                  # (CheckContext) -> RawEvidence; all I/O, via diagnostics.sources
        evaluate=evaluate,                # (RawEvidence, params) -> findings; pure, no I/O
    )

``collect`` records failures of its sources as data (``{"error": {"kind", "message"}}``) whenever
the check has a code for them, so that a bundle replays the same finding; anything it does not
handle becomes an engine finding (``CHECK_FAILED``/``CHECK_TIMEOUT``) from the runner.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict

from diagnostics.config import Settings
from diagnostics.model import Finding, ModelError, Severity

_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
_CODE_RE = re.compile(r"^[A-Z][A-Z0-9_]*$")


class Params(BaseModel):
    """Base for check parameters: unknown keys are refused, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class NoParams(Params):
    """For checks without parameters."""


P = TypeVar("P", bound=BaseModel)


@dataclass(frozen=True, kw_only=True)
class Code:
    """A finding code a check may raise: stable identifier, usual severity, what it means."""

    code: str
    severity: Severity
    meaning: str

    def __post_init__(self) -> None:
        if not _CODE_RE.match(self.code):
            raise ModelError(f"finding code {self.code!r} must be UPPER_SNAKE_CASE")


# Codes the engine itself raises on behalf of any check.
ENGINE_CODES: tuple[Code, ...] = (
    Code(code="CHECK_FAILED", severity=Severity.UNKNOWN, meaning="the check could not run to the end (reason given)"),
    Code(code="CHECK_TIMEOUT", severity=Severity.UNKNOWN, meaning="the check overran its deadline and was abandoned"),
    Code(code="PLUGIN_BROKEN", severity=Severity.UNKNOWN, meaning="a registered check could not be loaded"),
)
ENGINE_CODE_NAMES = frozenset(c.code for c in ENGINE_CODES)


@dataclass(frozen=True, kw_only=True)
class RawEvidence:
    """What ``collect`` gathered, before any judgement.

    ``data`` must be JSON-serialisable (it is stored in bundles as ``evidence.json``); ``files`` holds
    raw artefacts by relative path (log excerpts, command output) stored beside it verbatim.
    Never put secrets here.
    """

    data: Mapping[str, Any]
    files: Mapping[str, bytes] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class CheckContext(Generic[P]):
    """What ``collect`` gets: the settings, its parameters and its deadline."""

    settings: Settings
    params: P
    deadline: float  # time.monotonic() value by which collect must have returned

    def remaining(self) -> float:
        return max(0.0, self.deadline - time.monotonic())

    def timeout(self, cap: float) -> float:
        """A timeout for one network call: ``cap``, but never past the check's deadline."""
        return max(0.05, min(cap, self.remaining()))


@dataclass(frozen=True, kw_only=True)
class Check(Generic[P]):
    name: str
    title: str
    description: str
    codes: tuple[Code, ...]
    params: type[P]
    collect: Callable[[CheckContext[P]], RawEvidence]
    evaluate: Callable[[RawEvidence, P], Iterable[Finding]]

    def __post_init__(self) -> None:
        if not _NAME_RE.match(self.name):
            raise ModelError(f"check name {self.name!r} must be lower_snake_case, at most 32 characters")
        seen: set[str] = set()
        for c in self.codes:
            if c.code in seen or c.code in ENGINE_CODE_NAMES:
                raise ModelError(f"check {self.name}: code {c.code} declared twice or reserved by the engine")
            seen.add(c.code)
        if not (isinstance(self.params, type) and issubclass(self.params, BaseModel)):
            raise ModelError(f"check {self.name}: params must be a pydantic model class")

    @property
    def code_names(self) -> frozenset[str]:
        return frozenset(c.code for c in self.codes) | ENGINE_CODE_NAMES
