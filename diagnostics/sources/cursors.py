"""Where the last run stopped reading each log file, so a scheduled run reports only what is new.

A file is recognised by its first line (a log's first line carries its first timestamp), not by its name
or inode: after rotation ``cloud.log`` → ``cloud.1.log`` → ``cloud.2.log.gz`` the cursor follows the
content, locally and over SFTP alike. A file that shrank below its cursor is read again from the start.
The cursors are kept in the history store (diagnostics.history), or in ``[logs] cursor_file``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO

from diagnostics.model import CheckStatus, Run

_SCHEMA = """CREATE TABLE IF NOT EXISTS log_cursor (
    source TEXT NOT NULL, head TEXT NOT NULL, path TEXT NOT NULL, offset INTEGER NOT NULL, lines INTEGER NOT NULL,
    updated TEXT NOT NULL DEFAULT (datetime('now')), PRIMARY KEY (source, head))"""
HEAD_BYTES = 4096


@dataclass(frozen=True)
class Cursor:
    offset: int
    lines: int
    path: str


def head_of(stream: BinaryIO) -> str | None:
    """Fingerprint of a file: its first complete line; None while it has none (nothing to recognise yet)."""
    first = stream.read(HEAD_BYTES)
    nl = first.find(b"\n")
    if nl < 0:
        return None
    return hashlib.sha256(first[: nl + 1]).hexdigest()


@dataclass(frozen=True)
class CursorUpdate:
    """Where a log file has been read *and evaluated* to: stored with the run that evaluated it."""

    source: str
    head: str
    path: str
    offset: int
    lines: int


def cursor_updates(outcomes: Sequence[Any]) -> list[CursorUpdate]:
    """The log cursors a run may move when it is recorded: those its checks *propose* in their evidence
    (``data["cursor_advance"]``: a list of ``{source, head, path, offset, lines}``), taken only from checks
    that completed and were evaluated — a check that timed out, failed, or was only collected (a bundle
    not yet triaged) moves no cursor, so its lines are read again next time."""
    out: list[CursorUpdate] = []
    for o in outcomes:
        if o.status is not CheckStatus.COMPLETED or o.raw is None or not getattr(o, "evaluated", False):
            continue
        for c in o.raw.data.get("cursor_advance") or ():
            try:
                update = CursorUpdate(
                    str(c["source"]), str(c["head"]), str(c["path"]), int(c["offset"]), int(c["lines"])
                )
                out.append(update)
            except (KeyError, TypeError, ValueError):
                continue  # a malformed proposal moves nothing: reading again beats skipping
    return out


def run_cursors(run: Run) -> list[CursorUpdate]:
    """The cursor moves a live run carries (:attr:`Run.log_cursors`, from :func:`cursor_updates`)."""
    out = []
    for c in run.log_cursors:
        try:
            out.append(
                CursorUpdate(str(c["source"]), str(c["head"]), str(c["path"]), int(c["offset"]), int(c["lines"]))
            )
        except (KeyError, TypeError, ValueError):
            continue  # moving nothing means reading again: never a loss
    return out
