"""The signature catalogue: how each CloudStack template failure reads, what it means, what to do.

The entries live in ``signatures.toml`` beside this module (data, built from CloudStack's own messages:
tests/data/cloudstack_messages/messages.tsv); this module loads and validates them at import — a broken
entry raises :class:`CatalogueError` and fails the test suite, not a user's run — and matches texts.

One table, used two ways: the ``templates`` check classifies ``template_store_ref.error_str`` with it,
and the ``logs`` check matches log lines against the same entries. Each entry has a literal that must
occur in the text (a cheap test, tried before any regex) and optionally a regex whose named groups are
the facts to extract (algorithm and digests, HTTP status, path, ...); or a list of classes (``category``)
whose WARN/ERROR/FATAL lines it takes when no literal entry did. Order matters: the first match wins.
Entries marked ``routine`` are texts CloudStack logs at WARN/ERROR that are not trouble: they classify
as nothing, so no later entry (a class fallback) turns them into a finding.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from diagnostics.model import Severity

LOGS = frozenset({"management", "ssvm", "agent"})
WHERE = frozenset({"error_str", "log"})
_KEYS = {
    "code",
    "severity",
    "literal",
    "pattern",
    "ignore_case",
    "applies_to",
    "quiet_in",
    "anchors",
    "category",
    "routine",
    "title",
    "remediation",
    "messages",
    "source",
}
_CODE = re.compile(r"^[A-Z][A-Z0-9_]+$")


class CatalogueError(ValueError):
    """signatures.toml has an entry that cannot be used."""


@dataclass(frozen=True)
class Signature:
    code: str
    severity: Severity
    literals: tuple[str, ...]
    title: str
    remediation: str
    pattern: re.Pattern[str] | None = None
    ignore_case: bool = False
    applies_to: frozenset[str] = WHERE
    # The logs ("management", "ssvm", "agent") that write this text below WARN: the log scanner must look for
    # ``anchors`` there, because its cheap pre-filter otherwise keeps only WARN/ERROR/FATAL lines.
    quiet_in: frozenset[str] = frozenset()
    anchors: tuple[str, ...] = ()
    category: tuple[str, ...] = ()
    routine: bool = False
    messages: tuple[str, ...] = field(default=(), compare=False)
    _folded: tuple[str, ...] = field(default=(), compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_folded", tuple(lit.lower() for lit in self.literals))

    @property
    def literal(self) -> str:
        """The first literal (what a reader recognises the entry by)."""
        return self.literals[0] if self.literals else ""

    def match(self, text: str, lowered: str | None = None) -> dict[str, Any] | None:
        """The extracted facts when ``text`` carries this signature, else None (``lowered``: text.lower())."""
        if self.literals:
            if self.ignore_case:
                hay = lowered if lowered is not None else text.lower()
                if not any(lit in hay for lit in self._folded):
                    return None
            elif not any(lit in text for lit in self.literals):
                return None
        if self.pattern is None:
            return {}
        m = self.pattern.search(text)
        return None if m is None else {k: v for k, v in m.groupdict().items() if v is not None}


def _fail(n: int, entry: dict[str, Any], why: str) -> CatalogueError:
    return CatalogueError(f"signatures.toml entry {n} ({entry.get('code', '?')} {entry.get('literal', '')!r}): {why}")


def _strings(n: int, entry: dict[str, Any], key: str) -> tuple[str, ...]:
    value = entry.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise _fail(n, entry, f"{key} must be a list of non-empty strings")
    return tuple(value)


def _remediation(n: int, entry: dict[str, Any], texts: dict[str, str]) -> str:
    text = str(entry.get("remediation", ""))
    for ref in re.findall(r"@(\w+)", text):
        if ref not in texts:
            raise _fail(n, entry, f"remediation names @{ref}, which [remediations] does not define")
        text = text.replace(f"@{ref}", texts[ref])
    return text


def _entry(n: int, entry: dict[str, Any], texts: dict[str, str]) -> Signature:
    if unknown := set(entry) - _KEYS:
        raise _fail(n, entry, f"unknown keys {sorted(unknown)}")
    code = entry.get("code", "")
    if not isinstance(code, str) or not _CODE.match(code):
        raise _fail(n, entry, "code must be UPPER_SNAKE_CASE")
    routine = entry.get("routine", False)
    if not isinstance(routine, bool) or routine != (code == "ROUTINE"):
        raise _fail(n, entry, "routine = true goes with code ROUTINE, and only with it")
    literals = _strings(n, entry, "literal")
    category = _strings(n, entry, "category")
    if not (literals or category):
        raise _fail(n, entry, "needs a literal (or a list of them, any of which must occur) or a category")
    try:
        pattern = re.compile(entry["pattern"]) if entry.get("pattern") else None
    except re.error as exc:
        raise _fail(n, entry, f"pattern does not compile: {exc}") from exc
    if category:
        if literals or pattern:
            raise _fail(n, entry, "a category entry takes no literal or pattern")
        names = "|".join(re.escape(c) for c in category)
        pattern = re.compile(rf"\b(?:WARN|ERROR|FATAL)\s+\[(?:[\w$]+\.)*(?:{names})\]")
        literals = tuple(f"{c}]" for c in category)
    applies_to = frozenset(_strings(n, entry, "applies_to") or (("log",) if category else WHERE))
    quiet_in = frozenset(_strings(n, entry, "quiet_in"))
    if not applies_to <= WHERE or not quiet_in <= LOGS:
        raise _fail(n, entry, f"applies_to must be within {sorted(WHERE)}, quiet_in within {sorted(LOGS)}")
    anchors = _strings(n, entry, "anchors") or (literals[:1] if quiet_in else ())
    if anchors and not quiet_in:
        raise _fail(n, entry, "anchors without quiet_in are never used")
    ignore_case = entry.get("ignore_case", False)
    for anchor in anchors:
        if not any((lit.lower() in anchor.lower()) if ignore_case else (lit in anchor) for lit in literals):
            raise _fail(n, entry, f"anchor {anchor!r} contains no literal: it would keep lines no match takes")
    try:
        severity = Severity[entry.get("severity", "INFO" if routine else "")]
    except KeyError:
        raise _fail(n, entry, f"severity must be one of {[s.name for s in Severity]}") from None
    title, remediation = entry.get("title", ""), _remediation(n, entry, texts)
    if not routine and not (title and remediation):
        raise _fail(n, entry, "needs a title and a remediation")
    if not (routine or category or entry.get("messages") or entry.get("source")):
        raise _fail(n, entry, "name the real messages it covers (messages) or where its text comes from (source)")
    return Signature(
        code=code,
        severity=severity,
        literals=literals,
        title=title,
        remediation=remediation,
        pattern=pattern,
        ignore_case=bool(ignore_case),
        applies_to=applies_to,
        quiet_in=quiet_in,
        anchors=anchors,
        category=category,
        routine=routine,
        messages=tuple(entry.get("messages", ())),
    )


def load(text: str) -> tuple[Signature, ...]:
    """Parse and validate a catalogue (the text of signatures.toml); raises CatalogueError."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogueError(f"signatures.toml is not valid TOML: {exc}") from exc
    texts = data.get("remediations", {})
    entries = data.get("signature")
    if not isinstance(entries, list) or not entries:
        raise CatalogueError("signatures.toml has no [[signature]] entries")
    sigs = [_entry(n, e, texts) for n, e in enumerate(entries, 1)]
    # Class fallbacks go last whatever their place in the file: every literal entry is tried first.
    return tuple([s for s in sigs if not s.category] + [s for s in sigs if s.category])


CATALOGUE: tuple[Signature, ...] = load(resources.files("checks").joinpath("signatures.toml").read_text("utf-8"))


@dataclass(frozen=True)
class Classification:
    signature: Signature | None
    facts: dict[str, Any]

    @property
    def code(self) -> str:
        return self.signature.code if self.signature else "UNCLASSIFIED"

    @property
    def title(self) -> str:
        return self.signature.title if self.signature else "an error CloudStack reported without a known cause"


class _Gates:
    """Which entries' literals occur in a text, found in one Hyperscan pass over all literals (where it is
    installed; x86-64), so that classifying a line does not test every entry's literals one by one."""

    def __init__(self, catalogue: tuple[Signature, ...]) -> None:
        self._db: Any = None
        self._owner: list[int] = []
        try:
            import hyperscan
        except ImportError:
            return
        exprs: list[bytes] = []
        flags: list[int] = []
        for i, sig in enumerate(catalogue):
            for lit in sig.literals:
                exprs.append(re.escape(lit.encode()))
                flags.append(hyperscan.HS_FLAG_SINGLEMATCH | (hyperscan.HS_FLAG_CASELESS if sig.ignore_case else 0))
                self._owner.append(i)
        db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
        try:
            db.compile(expressions=exprs, ids=list(range(len(exprs))), flags=flags)
        except hyperscan.error:
            return
        self._db = db

    def entries(self, text: str) -> list[int] | None:
        """Indices of the entries whose literal occurs in ``text`` (in catalogue order); None without Hyperscan."""
        if self._db is None:
            return None
        hits: set[int] = set()
        owner = self._owner
        self._db.scan(text.encode("utf-8", "replace"), match_event_handler=lambda i, *_: hits.add(owner[i]))
        return sorted(hits)


_GATES = _Gates(CATALOGUE)


def classify(text: str | None, where: str = "error_str") -> Classification:
    """The first catalogue entry that matches ``text`` (for ``where``: ``error_str`` or ``log``). A routine
    text classifies as nothing (signature None), like an unknown one."""
    if text:
        lowered = text.lower()
        hit = _GATES.entries(text)
        for sig in CATALOGUE if hit is None else (CATALOGUE[i] for i in hit):
            if where in sig.applies_to and (facts := sig.match(text, lowered)) is not None:
                if sig.routine:
                    break
                if "command2" in facts:
                    facts["command"] = facts.pop("command2")
                return Classification(sig, facts)
    return Classification(None, {})


def pre_filter_anchors(kind: str) -> list[str]:
    """The texts a ``kind`` log ("management", "ssvm", "agent") writes below WARN that must still become
    candidate lines."""
    return list(dict.fromkeys(a for s in CATALOGUE if kind in s.quiet_in for a in s.anchors))
