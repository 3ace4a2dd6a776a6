"""Full-text index of raw session messages (`history_fts` in state.db), for when memory has nothing."""

from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from mimo_tui.memory.bm25_topk import Ranked, rank_query
from mimo_tui.memory.fts_query import MARK_CLOSE, MARK_OPEN, TOKENIZER, TermStatistics, apply_floor

KINDS = ("user", "assistant", "tool_input", "tool_output", "error")
SNIPPET_TOKENS = 20
# Tool outputs can be huge; past this many characters only the head and tail are searchable.
MAX_INDEXED_CHARS = 200_000
# Filters whose messages are kept in memory at once (a session, a session and kinds ...).
MAX_FILTERS_KEPT = 16

_SCHEMA = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS history_fts USING fts5("
    f"text, session_id UNINDEXED, message_id UNINDEXED, role UNINDEXED, kind UNINDEXED, created_at UNINDEXED, tokenize='{TOKENIZER}')"
)


@dataclass(frozen=True)
class HistoryHit:
    """A message of a past session matching a query, with a marked snippet."""

    session_id: str
    message_id: str
    role: str
    kind: str
    snippet: str
    score: float
    created_at: float

    def marked(self, open_mark: str = "[", close_mark: str = "]") -> str:
        return self.snippet.replace(MARK_OPEN, open_mark).replace(MARK_CLOSE, close_mark)


class HistoryIndex:
    """The `history_fts` table inside a session store's SQLite file; created on first write."""

    def __init__(self, state_db_path: Path) -> None:
        self.state_db_path = Path(state_db_path)
        self._lock = threading.RLock()
        self._db: sqlite3.Connection | None = None
        self._stats: TermStatistics | None = None
        # (session id, kinds) -> (epoch and change log position when read, the messages that filter keeps). Reading
        # them scans the table (~50-100 ms at 100k messages), so the writes logged since, by this process or
        # another, are followed instead: deleted rows dropped, inserted rows read by rowid.
        self._filtered: dict[tuple[str | None, tuple[str, ...]], tuple[int, int, set[int]]] = {}
        self.filter_rows_scanned = 0  # rows read by full scans for filters (for tests and benches)

    def _connect(self, create: bool) -> sqlite3.Connection | None:
        if self._db is not None:
            return self._db
        if not create and not self.state_db_path.exists():
            return None
        self.state_db_path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.state_db_path, check_same_thread=False, isolation_level=None, timeout=5.0)
        try:
            exists = db.execute("SELECT 1 FROM sqlite_master WHERE name = 'history_fts'").fetchone()
        except sqlite3.Error as exc:
            db.close()
            exc.add_note(f"in {self.state_db_path}")
            raise
        if not exists:
            if not create:
                db.close()
                return None
            db.execute(_SCHEMA)
        self._db = db
        self._stats = TermStatistics(db, "history_fts", "history_term_lists")
        return db

    def add(self, session_id: str, message_id: str | int, role: str, kind: str, text: str,
            created_at: float | None = None) -> None:
        """Index one stored message; `kind` is one of KINDS."""
        if kind not in KINDS:
            raise ValueError(f"history kind {kind!r} is not one of {', '.join(KINDS)}")
        if not text or not text.strip():
            return
        if len(text) > MAX_INDEXED_CHARS:
            half = MAX_INDEXED_CHARS // 2
            text = text[:half] + "\n…\n" + text[-half:]
        with self._lock:
            db = self._connect(create=True)
            assert db is not None and self._stats is not None
            db.execute("BEGIN IMMEDIATE")
            try:
                cursor = db.execute(
                    "INSERT INTO history_fts(text, session_id, message_id, role, kind, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                    (text, session_id, str(message_id), role, kind, created_at if created_at is not None else time.time()),
                )
                rowid = cursor.lastrowid
                self._stats.log_write(set(), {rowid} if rowid else None)
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
            # The search's term lists and filters take in the new message on next use instead of being read again.
            if rowid:
                self._stats.rows_changed(set(), {rowid})
            else:
                self._stats.invalidate()
                self._filtered.clear()

    def forget_session(self, session_id: str) -> None:
        """Drop every indexed message of a session."""
        with self._lock:
            db = self._connect(create=False)
            if db is not None and self._stats is not None:
                db.execute("BEGIN IMMEDIATE")
                try:
                    gone = {row for (row,) in db.execute("SELECT rowid FROM history_fts WHERE session_id = ?", (session_id,))}
                    db.execute("DELETE FROM history_fts WHERE session_id = ?", (session_id,))
                    self._stats.log_write(gone, set())
                    db.execute("COMMIT")
                except BaseException:
                    if db.in_transaction:
                        db.execute("ROLLBACK")
                    raise
                self._stats.rows_changed(gone, set())

    @property
    def list_rows_read(self) -> int:
        """Rows read from FTS5 so far to build or follow the search's term lists (for tests and benches)."""
        return self._stats.rows_read if self._stats is not None else 0

    def search(self, query: str, limit: int = 10, session_id: str | None = None,
               kinds: tuple[str, ...] | None = None) -> list[HistoryHit]:
        """Best matching messages, every word counted, ranked exactly as plain bm25 would; never raises on odd text."""
        with self._lock:
            db = self._connect(create=False)
            if db is None or self._stats is None or limit <= 0:
                return []
            ranked = self._ranked(db, query, limit, session_id, kinds)
            if ranked is None:
                return []
            kept = apply_floor(ranked.scored, limit)
            if not kept:
                return []
            scores = dict(kept)
            rows = db.execute(f"SELECT rowid, text, session_id, message_id, role, kind, created_at FROM history_fts "
                              f"WHERE rowid IN ({', '.join('?' * len(kept))})", list(scores)).fetchall()
            marked = self._stats.marked([(row[0], "", row[1]) for row in rows], ranked.match, SNIPPET_TOKENS)
            hits = [HistoryHit(sid, mid, role, kind, " ".join(marked.get(rowid, (text[:200], ""))[0].split()),
                               round(scores[rowid], 4), float(created))
                    for rowid, text, sid, mid, role, kind, created in rows]
            return sorted(hits, key=lambda hit: -hit.score)

    def ranking_path(self, query: str, session_id: str | None = None, kinds: tuple[str, ...] | None = None) -> str:
        """Which exact path answers `query` (plain, term-cache, lists or sets/N); for benchmarks and tests."""
        with self._lock:
            db = self._connect(create=False)
            ranked = self._ranked(db, query, 10, session_id, kinds) if db is not None else None
            return ranked.path if ranked is not None else "none"

    def _ranked(self, db: sqlite3.Connection, query: str, limit: int, session_id: str | None,
                kinds: tuple[str, ...] | None) -> Ranked | None:
        assert self._stats is not None
        clauses, params = "", []
        if session_id is not None:
            clauses += " AND session_id = ?"
            params.append(session_id)
        if kinds:
            clauses += f" AND kind IN ({', '.join('?' * len(kinds))})"
            params += list(kinds)
        sql = f"SELECT rowid, rank FROM history_fts WHERE history_fts MATCH ?{clauses} ORDER BY rank LIMIT ?"

        def run(match: str, count: int) -> list[tuple[int, float]]:
            return [(rowid, -rank) for rowid, rank in db.execute(sql, [match, *params, count])]

        def allowed() -> set[int]:
            """The messages the filters keep: read once, then followed through every logged write."""
            stats = self._stats
            assert stats is not None
            stats.sync()  # another process's writes: followed, or the epoch moves when they cannot be
            key = (session_id, tuple(sorted(kinds or ())))
            known = self._filtered.get(key)
            if known is not None and known[0] == stats.epoch:
                epoch, seq, rows = known
                logged = stats.changes_since(seq)
                if logged is not None:
                    if logged[1]:
                        self._filtered[key] = (epoch, logged[0], self._follow_filter(rows, logged[1], clauses, params))
                    return self._filtered[key][2]
            if len(self._filtered) >= MAX_FILTERS_KEPT:
                self._filtered.clear()
            own = not db.in_transaction
            if own:
                db.execute("BEGIN")  # the rows and the log position of one snapshot
            try:
                seq = stats.log_position()
                rows = {row for (row,) in db.execute(f"SELECT rowid FROM history_fts WHERE 1{clauses}", params)}
            finally:
                if own:
                    db.execute("COMMIT")
            self.filter_rows_scanned += len(rows)
            self._filtered[key] = (stats.epoch, seq, rows)
            return rows

        # Unfiltered, `run` covers the whole index, so its single-term lists can be cached as exact bounds; with a
        # filter, the whole index's lists rank the rows it keeps (FTS5 scores a filtered match with whole-index
        # statistics, so the same numbers), like a filtered memory search.
        return rank_query(self._stats, query, limit, run, None if clauses else run, allowed if clauses else None)

    def _follow_filter(self, rows: set[int], changes: list[tuple[frozenset[int], frozenset[int]]], clauses: str,
                       params: list[str]) -> set[int]:
        """A filter's rows after these writes: deleted rows dropped, inserted ones kept when the filter keeps them."""
        assert self._db is not None
        pending: set[int] = set()
        for deleted, inserted in changes:
            rows.difference_update(deleted)
            pending -= deleted
            pending |= inserted
        if pending:
            marks = ", ".join("?" * len(pending))
            rows.update(row for (row,) in self._db.execute(
                f"SELECT rowid FROM history_fts WHERE rowid IN ({marks}){clauses}", [*pending, *params]))
        return rows

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None
                self._filtered.clear()
