"""Where the last run stopped reading each log file, so a scheduled run reports only what is new.

A file is recognised by its first line (a log's first line carries its first timestamp), not by its name
or inode: after rotation ``cloud.log`` → ``cloud.1.log`` → ``cloud.2.log.gz`` the cursor follows the
content, locally and over SFTP alike. A file that shrank below its cursor is read again from the start.
The cursors are kept in the history store (diagnostics.history), or in ``[logs] cursor_file``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import BinaryIO

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
