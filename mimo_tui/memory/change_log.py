"""Which rows each write to an FTS5 table deleted and inserted, kept in a table beside it in the same database.

A connection's own writes tell its caches which rows changed; another connection's commit (another mimo process)
only moves `PRAGMA data_version`. With this log, every connection reads the rowids the others changed and brings
what it derived (term lists, filtered row sets) up to date by reading those rows only. Writers record an entry in
the transaction of their write; an entry without rowids means "anything may have changed" (a bulk rebuild).
"""

from __future__ import annotations

import sqlite3
from array import array
from collections.abc import Iterable
from dataclasses import dataclass

# Entries kept; a reader further behind derives everything again.
KEEP = 512


@dataclass(frozen=True)
class Change:
    """One write: the rowids it deleted and inserted (None for both: anything may have changed)."""

    seq: int
    deleted: frozenset[int] | None
    inserted: frozenset[int] | None

    @property
    def known(self) -> bool:
        return self.deleted is not None and self.inserted is not None


def _pack(rowids: Iterable[int]) -> bytes:
    return array("q", sorted(rowids)).tobytes()


def _unpack(blob: bytes | None) -> frozenset[int] | None:
    if blob is None:
        return None
    rowids = array("q")
    rowids.frombytes(blob)
    return frozenset(rowids)


class ChangeLog:
    """The log table `name` of one database connection."""

    def __init__(self, db: sqlite3.Connection, name: str) -> None:
        self._db = db
        self.name = name

    def record(self, deleted: Iterable[int] | None, inserted: Iterable[int] | None) -> int:
        """Log a write (call it inside the write's transaction); None: anything may have changed. Its seq."""
        self._db.execute(f"CREATE TABLE IF NOT EXISTS {self.name}(seq INTEGER PRIMARY KEY, deleted BLOB, inserted BLOB)")
        known = deleted is not None and inserted is not None
        seq = self._db.execute(f"INSERT INTO {self.name}(deleted, inserted) VALUES (?, ?)",
                               (_pack(deleted) if known else None, _pack(inserted) if known else None)).lastrowid
        if seq % 64 == 0:
            self._db.execute(f"DELETE FROM {self.name} WHERE seq <= ?", (seq - KEEP,))
        return int(seq)

    def latest(self) -> int:
        """The newest entry's seq (0 before any)."""
        try:
            return int(self._db.execute(f"SELECT coalesce(max(seq), 0) FROM {self.name}").fetchone()[0])
        except sqlite3.OperationalError:
            return 0  # no write logged yet

    def since(self, seq: int) -> list[Change] | None:
        """Every entry after `seq`, oldest first; None when some of them are no longer kept."""
        try:
            rows = self._db.execute(f"SELECT seq, deleted, inserted FROM {self.name} WHERE seq > ? ORDER BY seq",
                                    (seq,)).fetchall()
        except sqlite3.OperationalError:
            return []
        if rows and rows[0][0] != seq + 1:
            return None
        return [Change(number, _unpack(deleted), _unpack(inserted)) for number, deleted, inserted in rows]
