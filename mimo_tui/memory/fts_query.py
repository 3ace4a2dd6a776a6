"""Safe FTS5 queries: word tokens quoted and OR'ed, exact per-term counts cached until the index changes, bm25
with a relative floor. Every term is ranked exactly (bm25_topk.py), in memory and history search alike."""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Callable
from typing import TypeVar

TOKENIZER = "porter unicode61 remove_diacritics 2"
MARK_OPEN = "\x02"
MARK_CLOSE = "\x03"
MAX_TERMS = 16
RELATIVE_FLOOR = 0.15
TERM_CACHE_SIZE = 4096
T = TypeVar("T")
_WORD = re.compile(r"[^\W_]+")


def query_tokens(query: str) -> list[str]:
    """The distinct word tokens of a user query; FTS5 operators and punctuation are plain text here."""
    seen: dict[str, str] = {}
    for token in _WORD.findall(query or ""):
        seen.setdefault(token.casefold(), token)
        if len(seen) >= MAX_TERMS:
            break
    return list(seen.values())


def quote(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def fetch_count(limit: int) -> int:
    """How many candidates to rank before applying the relative floor: min(3 x limit, 50)."""
    return max(1, min(3 * limit, 50))


def apply_floor(scored: list[tuple[int, float]], limit: int) -> list[tuple[int, float]]:
    """Best first; keep the top hit and every hit scoring at least RELATIVE_FLOOR of it."""
    ordered = sorted(scored, key=lambda item: -item[1])
    if not ordered:
        return []
    top = ordered[0][1]
    return [item for item in ordered if item[1] >= RELATIVE_FLOOR * top][:limit]


class TermStatistics:
    """How many rows match each query token, the index's row count and per-term lists, cached until it changes."""

    def __init__(self, db: sqlite3.Connection, fts_table: str) -> None:
        self._db = db
        self._lock = threading.RLock()
        self._table = fts_table
        db.execute("PRAGMA temp_store=MEMORY")  # the scratch table below is written on every search
        self._hits = f"temp.{fts_table}_hits"
        db.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS {self._hits} USING fts5(heading, body, tokenize='{TOKENIZER}')")
        self._exact: dict[str, int] = {}
        self._memo: dict[object, object] = {}
        self._rows: int | None = None
        self._data_version = -1

    def invalidate(self) -> None:
        with self._lock:
            self._exact.clear()
            self._memo.clear()
            self._rows = None

    def _check_version(self) -> None:
        # Another connection's commit changes data_version; cached counts may be stale then.
        version = self._db.execute("PRAGMA data_version").fetchone()[0]
        if version != self._data_version:
            self.invalidate()
            self._data_version = version

    def rows(self) -> int:
        """Rows in the FTS index as bm25 counts them (the first varint of FTS5's averages record)."""
        with self._lock:
            self._check_version()
            if self._rows is None:
                row = self._db.execute(f"SELECT block FROM {self._table}_data WHERE id = 1").fetchone()
                self._rows = _varint(row[0]) if row and row[0] else 0
            return self._rows

    def remembered(self, key: object, compute: Callable[[], T]) -> T:
        """compute() once per key until the index changes (for per-term lists derived from the index)."""
        with self._lock:
            self._check_version()
            if key not in self._memo:
                if len(self._memo) > TERM_CACHE_SIZE:
                    self._memo.clear()
                self._memo[key] = compute()
            return self._memo[key]  # type: ignore[return-value]

    def exact_frequencies(self, tokens: list[str]) -> list[tuple[str, int]]:
        """(token, rows matching it) for each token, counted exactly and cached until the index changes."""
        with self._lock:
            self._check_version()
            counted = []
            for token in tokens:
                key = token.casefold()
                if key not in self._exact:
                    if len(self._exact) > TERM_CACHE_SIZE:
                        self._exact.clear()
                    self._exact[key] = int(self._db.execute(
                        f"SELECT count(*) FROM {self._table} WHERE {self._table} MATCH ?", (quote(token),)).fetchone()[0])
                counted.append((token, self._exact[key]))
            return counted

    def marked(self, rows: list[tuple[int, str, str]], match: str, snippet_tokens: int) -> dict[int, tuple[str, str]]:
        """(snippet, marked body) of each (rowid, heading, body), matched in a tiny scratch table.

        Asking the big index for snippets of a few rowids makes FTS5 seek every term's doclist per row;
        copying the few hits into a scratch table with the same tokenizer is much cheaper.
        """
        if not rows:
            return {}
        name = self._hits.split(".")[1]
        with self._lock:
            # Rolled back, never committed: FTS5 then skips flushing and merging the scratch segment.
            self._db.execute("SAVEPOINT scratch_hits")
            try:
                self._db.executemany(f"INSERT INTO {self._hits}(rowid, heading, body) VALUES (?, ?, ?)", rows)
                found = self._db.execute(
                    f"SELECT rowid, snippet({name}, -1, ?, ?, '…', ?), highlight({name}, 1, ?, ?) FROM {self._hits} "
                    f"WHERE {name} MATCH ?",
                    (MARK_OPEN, MARK_CLOSE, snippet_tokens, MARK_OPEN, MARK_CLOSE, match),
                ).fetchall()
            finally:
                self._db.execute("ROLLBACK TO scratch_hits")
                self._db.execute("RELEASE scratch_hits")
        return {rowid: (snippet, body) for rowid, snippet, body in found}


def _varint(blob: bytes) -> int:
    """SQLite's big-endian varint at the start of `blob`."""
    value = 0
    for position, byte in enumerate(blob[:9]):
        if position == 8:
            return (value << 8) | byte
        value = (value << 7) | (byte & 0x7F)
        if byte < 0x80:
            return value
    return value
