"""Where the last run stopped reading each log file, so a scheduled run reports only what is new.

A file is recognised by its first line (a log's first line carries its first timestamp), not by its name
or inode: after rotation ``cloud.log`` → ``cloud.1.log`` → ``cloud.2.log.gz`` the cursor follows the
content, locally and over SFTP alike. A file that shrank below its cursor is read again from the start.
Stored in SQLite (``[logs] cursor_file``) until the history store takes the cursors over.
"""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from diagnostics.sources.errors import ProtocolError

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


class CursorStore:
    def __init__(self, path: Path) -> None:
        self.path = path.expanduser()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=10)
            self._db.execute(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise ProtocolError(f"cursor file {self.path}: {exc}") from exc

    def get(self, source: str, head: str) -> Cursor | None:
        row = self._db.execute(
            "SELECT offset, lines, path FROM log_cursor WHERE source = ? AND head = ?", (source, head)
        ).fetchone()
        return Cursor(offset=int(row[0]), lines=int(row[1]), path=str(row[2])) if row else None

    def put(self, source: str, head: str, path: str, offset: int, lines: int) -> None:
        with self._db:
            self._db.execute(
                "INSERT INTO log_cursor (source, head, path, offset, lines) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (source, head) DO UPDATE SET path = excluded.path, offset = excluded.offset, "
                "lines = excluded.lines, updated = datetime('now')",
                (source, head, path, offset, lines),
            )

    def close(self) -> None:
        self._db.close()
