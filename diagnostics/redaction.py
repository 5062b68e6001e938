"""Structural redaction: secrets out of evidence before anything is evaluated, written or shown.

The contract:

- the data is *walked*: mapping keys are never changed, only values (strings, bytes, and any
  :class:`~diagnostics.config.Secret` object, which becomes the marker whatever it holds);
- every known secret value is replaced wherever it occurs inside a value, in the forms it takes in
  text (as is, URL-quoted, JSON-escaped), so a secret that JSON would escape (``s3cr"et``,
  ``pässwörd``) is caught before serialisation, not searched for after it;
- the userinfo of any URL is replaced: ``http://user:pw@proxy:3128`` → ``http://***@proxy:3128``;
- a setting row (``{"name", "value", …}``, as read from CloudStack's ``configuration`` table) whose name
  says it holds a credential (``*.password``, ``*secret*``, ``*.key``, …) keeps its name, never its value;
- the marker is ``***`` unless a secret contains ``*``; then the first of ``#~^%`` that no secret
  contains. So no secret can be re-formed across a marker and its neighbours, and redacting twice
  gives the same result as redacting once (a bundle replays exactly what the live run evaluated).

The runner redacts the raw evidence right after ``collect`` and before ``evaluate``, so live findings and
the findings replayed from a bundle are computed from the same, already redacted, data.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote

from diagnostics.config import ConfigError, Secret, Settings

_MARKER_CHARS = "*#~^%"
# a setting row ({"name": …, "value": …}) whose name says it holds a credential: its values are never kept
_CREDENTIAL_SETTING = re.compile(r"(password|passwd|secret|private[._-]?key|credential|token|\.key$)", re.IGNORECASE)
_SETTING_VALUES = ("value", "default_value", "default")
# what follows a URL's "://" up to "@" (the scheme before it is kept as it is); searched from the literal
# "://", which is what keeps this fast on evidence full of URLs
_URL_USERINFO = re.compile(r"://[^/@\s\"'<>]+@")
_URL_USERINFO_B = re.compile(rb"://[^/@\s\"'<>]+@")


class Redactor:
    """Replaces the given secret values (and URL userinfo) inside any JSON-like value."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        values = sorted({s for s in secrets if s}, key=len, reverse=True)
        taken = "".join(values)
        char = next((c for c in _MARKER_CHARS if c not in taken), "*")
        self.marker = char * 3
        forms: set[str] = set()
        for s in values:
            forms.add(s)
            forms.add(quote(s, safe=""))
            forms.add(json.dumps(s)[1:-1])
            forms.add(json.dumps(s, ensure_ascii=False)[1:-1])
        forms.discard("")
        self._forms = sorted(forms, key=len, reverse=True)
        self._pattern = re.compile("|".join(re.escape(f) for f in self._forms)) if self._forms else None
        blobs = sorted({f.encode("utf-8") for f in self._forms}, key=len, reverse=True)
        self._bytes_pattern = re.compile(b"|".join(re.escape(f) for f in blobs)) if blobs else None

    def text(self, value: str) -> str:
        """``value`` with every secret and every URL userinfo replaced by the marker."""
        if self._pattern is not None:
            value = self._pattern.sub(self.marker, value)
        return _URL_USERINFO.sub(f"://{self.marker}@", value) if "://" in value else value

    def blob(self, value: bytes) -> bytes:
        """Raw bytes (a verbatim evidence file): secrets replaced; URL userinfo too when it is text."""
        marker = self.marker.encode()
        if self._bytes_pattern is not None:
            value = self._bytes_pattern.sub(marker, value)
        return _URL_USERINFO_B.sub(b"://" + marker + b"@", value)

    def __call__(self, value: Any) -> Any:
        """A copy of ``value`` with keys kept and values redacted (dicts, lists, tuples, str, bytes)."""
        kind = type(value)  # exact types first: evidence is mostly plain str/int/dict/list, walked by the 10 000
        if kind is str:
            return self.text(value)
        if kind is dict:
            return self._mapping(value)
        if kind is list or kind is tuple:
            return [self(v) for v in value]
        if value is None or kind is bool:
            return value
        if kind is int or kind is float:
            return self._number(value)
        if isinstance(value, Secret):
            return self.marker
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, bytes | bytearray):
            return self.blob(bytes(value))
        if isinstance(value, Mapping):
            return self._mapping(value)
        if isinstance(value, list | tuple):
            return [self(v) for v in value]
        if isinstance(value, int | float) and not isinstance(value, bool):
            return self._number(value)
        return value

    def _number(self, value: float) -> Any:
        # a numeric secret (a PIN-like community) must not survive as a number either
        if self._pattern is not None and self._pattern.search(str(value)):
            return self.marker
        return value

    def _mapping(self, value: Mapping[Any, Any]) -> dict[Any, Any]:
        name = value.get("name")
        if isinstance(name, str) and "value" in value and _CREDENTIAL_SETTING.search(name):
            return {
                k: (self.marker if k in _SETTING_VALUES and v not in (None, "") else self(v)) for k, v in value.items()
            }
        return {k: self(v) for k, v in value.items()}


def secret_values(settings: Settings) -> list[str]:
    """Every secret the settings name, read now; one that cannot be read is skipped (it cannot leak)."""
    out: list[str] = []
    for secret in settings.secrets():
        try:
            out.append(secret.reveal())
        except ConfigError:
            continue
    return out


def for_settings(settings: Settings) -> Redactor:
    return Redactor(secret_values(settings))


class LogFilter(logging.Filter):
    """Redacts log records (message, arguments and traceback) before any handler writes them: ``--verbose``
    tracebacks are output too. Add it to each handler (a filter on a logger misses propagated records)."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.redactor.text(record.getMessage())
        record.args = None
        if record.exc_info:
            record.exc_text = self.redactor.text(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        if record.stack_info:
            record.stack_info = self.redactor.text(record.stack_info)
        return True


def install_log_filter(settings: Settings, logger: logging.Logger | None = None) -> LogFilter:
    """Put a :class:`LogFilter` for the settings' secrets on every handler of ``logger`` (default: root)."""
    flt = LogFilter(for_settings(settings))
    for handler in (logger or logging.getLogger()).handlers:
        handler.addFilter(flt)
    return flt
