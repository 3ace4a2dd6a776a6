"""Safe FTS5 queries: word tokens quoted and OR'ed, exact per-term counts and score lists cached until the index
changes (score lists also in the database, for the next process), bm25 with a relative floor. Every term is ranked
exactly (bm25_topk.py, term_lists.py), in memory and history search alike."""

from __future__ import annotations

import math
import re
import sqlite3
import threading
from array import array
from collections import OrderedDict
from collections.abc import Callable
from typing import TypeVar

from mimo_tui.memory.change_log import KEEP, ChangeLog
from mimo_tui.memory.term_lists import TermList

TOKENIZER = "porter unicode61 remove_diacritics 2"
MARK_OPEN = "\x02"
MARK_CLOSE = "\x03"
MAX_TERMS = 16
RELATIVE_FLOOR = 0.15
TERM_CACHE_SIZE = 4096
# Score lists kept in memory, in chunks listed (~80 bytes each): about 1.6 M, ~130 MB at most, for a 100k-chunk index.
LIST_BUDGET_MIN = 400_000
LIST_BUDGET_PER_ROW = 16
# Lists at least this long are also stored in the database: reading one back is ~10x cheaper than FTS5 scoring it.
PERSIST_FROM = 400
# Changes a list may lag behind before lists are dropped instead of followed.
MAX_FOLLOWED_CHANGES = 64
# FTS5's bm25 constants (fts5_aux.c).
BM25_K1 = 1.2
BM25_B = 0.75
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
    """How many best candidates to rank before applying the relative floor: the floor only removes hits, so
    `limit` (at most 50) is enough."""
    return max(1, min(limit, 50))


def apply_floor(scored: list[tuple[int, float]], limit: int) -> list[tuple[int, float]]:
    """Best first; keep the top hit and every hit scoring at least RELATIVE_FLOOR of it."""
    ordered = sorted(scored, key=lambda item: -item[1])
    if not ordered:
        return []
    top = ordered[0][1]
    return [item for item in ordered if item[1] >= RELATIVE_FLOOR * top][:limit]


def fts5_idf(rows: int, hits: int) -> float:
    """FTS5's idf of a term in `hits` of `rows` rows, floored at 1e-6 as fts5_aux.c does."""
    idf = math.log((rows - hits + 0.5) / (hits + 0.5)) if rows > 0 else 0.0
    return idf if idf > 0.0 else 1e-6


def fts5_term_score(idf: float, freq: float, length: float, avgdl: float) -> float:
    """One term's bm25 summand, written in fts5_aux.c's order of operations so the double is the same bit for bit."""
    return 0.0 + idf * ((freq * (BM25_K1 + 1.0)) / (freq + BM25_K1 * (1 - BM25_B + BM25_B * length / avgdl)))


def fts5_term_freq(score: float, idf: float, length: float, avgdl: float) -> float | None:
    """The (column-weighted) count of a term that gives `score` in a row of `length` tokens; None if no count does."""
    norm = BM25_K1 * (1 - BM25_B + BM25_B * length / avgdl)
    divisor = idf * (BM25_K1 + 1.0) - score
    if divisor <= 0.0:
        return None
    for candidate in (round(score * norm / divisor), round(2 * score * norm / divisor) / 2):
        if candidate > 0 and fts5_term_score(idf, candidate, length, avgdl) == score:
            return float(candidate)
    return None


def _grouped(rows: list[tuple[int, float, int]], idf: float, avgdl: float) -> dict[tuple[float, int], list[int]] | None:
    """Rows (rowid, score, length) by (term count, length), each count found from its score exactly; else None."""
    by_score: dict[tuple[float, int], list[int]] = {}
    for rowid, score, length in rows:
        by_score.setdefault((score, length), []).append(rowid)
    groups: dict[tuple[float, int], list[int]] = {}
    for (score, length), rowids in by_score.items():
        freq = fts5_term_freq(score, idf, length, avgdl)
        if freq is None:
            return None
        groups.setdefault((freq, length), []).extend(rowids)
    return groups


def _varints(blob: bytes) -> list[int]:
    """Every SQLite varint in `blob` (FTS5's docsize and averages records)."""
    values: list[int] = []
    value = 0
    for byte in blob:
        value = (value << 7) | (byte & 0x7F)
        if byte < 0x80:
            values.append(value)
            value = 0
    return values


class TermStatistics:
    """How many rows match each query token, the index's row count and per-term lists, cached until it changes."""

    def __init__(self, db: sqlite3.Connection, fts_table: str, lists_table: str | None = None) -> None:
        """`lists_table`, when given, names where score lists are kept between processes (created on first use).

        Every write to the FTS table must be logged through log_write() in its transaction: that is how another
        connection's caches follow it.
        """
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
        self._lists: OrderedDict[str, TermList] = OrderedDict()
        self._listed = 0
        # v2 keeps each row's length, the totals and the change log position a list was scored at, so that a list
        # read back by another process can follow the writes made since.
        self._lists_table = f"{lists_table}_v2" if lists_table else None
        self._old_lists_table = lists_table
        self._fingerprint: bytes | None = None
        self._log = ChangeLog(db, f"{fts_table}_changes")
        self._log_seq = -1  # the log entry the caches reflect, with the row count and fingerprint below
        self._known_rows = 0
        self._known_fingerprint: bytes | None = None
        self._own: set[int] = set()  # log entries this connection wrote (its caches followed them already)
        self.epoch = 0  # moves each time everything derived is dropped
        # Rows inserted and deleted by this connection since lists were read, which lists follow (rows_changed).
        self._changes: list[tuple[frozenset[int], frozenset[int]]] = []
        self._seen_changes: dict[str, int] = {}
        self.rows_read = 0  # rows read from FTS5 to build or follow lists (for tests and benches)

    def invalidate(self) -> None:
        with self._lock:
            self._exact.clear()
            self._memo.clear()
            self._rows = None
            self._lists.clear()
            self._listed = 0
            self._fingerprint = None
            self._changes.clear()
            self._seen_changes.clear()
            self.epoch += 1

    def log_write(self, deleted: set[int] | None, inserted: set[int] | None) -> None:
        """Record this connection's write in the change log (inside the write's transaction); None: anything
        may have changed (a bulk rebuild)."""
        with self._lock:
            self._own.add(self._log.record(deleted, inserted))

    def sync(self) -> None:
        """Take in what other connections committed since the last look (their logged writes are followed)."""
        with self._lock:
            self._check_version()

    def changes_since(self, seq: int) -> tuple[int, list[tuple[frozenset[int], frozenset[int]]]] | None:
        """The newest log position and the (deleted, inserted) rowids of every write logged after `seq`, by anyone;
        None when that is not known exactly. Valid for what was derived in the current epoch only (a write that
        was not logged moves the epoch)."""
        with self._lock:
            entries = self._log.since(seq)
            if entries is None or not all(entry.known for entry in entries):
                return None
            return (entries[-1].seq if entries else seq), [(e.deleted, e.inserted) for e in entries]  # type: ignore[misc]

    def log_position(self) -> int:
        """The newest logged write (read it in the same transaction as what is derived from the table)."""
        with self._lock:
            return self._log.latest()

    def rows_changed(self, deleted: set[int], inserted: set[int]) -> None:
        """This connection deleted and inserted these rows: lists follow them on next use instead of being read again."""
        with self._lock:
            if len(self._changes) >= MAX_FOLLOWED_CHANGES:
                self.invalidate()
                return
            self._exact.clear()
            self._memo.clear()
            self._rows = None
            self._fingerprint = None
            self._changes.append((frozenset(deleted), frozenset(inserted)))

    def _check_version(self) -> None:
        # Another connection's commit changes data_version; cached counts may be stale then.
        version = self._db.execute("PRAGMA data_version").fetchone()[0]
        if version != self._data_version:
            self._data_version = version
            self._follow_others()

    def _follow_others(self) -> None:
        """Another connection committed: follow the writes it logged, or drop everything derived when that cannot
        be done exactly (a write not logged, a bulk rebuild, a log pruned past this connection)."""
        own = not self._db.in_transaction
        if own:
            self._db.execute("BEGIN")  # one snapshot for all
        try:
            entries = self._log.since(self._log_seq) if self._log_seq >= 0 else None
            latest = self._log.latest() if entries is None else entries[-1].seq if entries else self._log_seq
            rows = self._totals()[0]
            fingerprint = self._read_fingerprint()
        finally:
            if own:
                self._db.execute("COMMIT")
        followed = False
        if entries is not None and all(entry.known for entry in entries):
            if entries:  # the logged writes account for every row the index gained or lost
                followed = rows == self._known_rows + sum(len(e.inserted) - len(e.deleted) for e in entries)  # type: ignore[arg-type]
            else:  # only other tables changed
                followed = fingerprint == self._known_fingerprint
        if followed:
            for entry in entries or []:
                if entry.seq not in self._own:
                    self.rows_changed(set(entry.deleted or ()), set(entry.inserted or ()))
            self._exact.clear()
            self._memo.clear()
            self._rows = None
            self._fingerprint = None
        else:
            self.invalidate()
        self._own = {seq for seq in self._own if seq > latest}
        self._log_seq, self._known_rows, self._known_fingerprint = latest, rows, fingerprint

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

    def term_list(self, token: str) -> TermList:
        """Every chunk's bm25 for `token` searched alone over the whole index, best first; cached until it changes."""
        key = token.casefold()
        with self._lock:
            self._check_version()
            found = self._lists.get(key)
            if found is not None and self._seen_changes.get(key, 0) < len(self._changes):
                followed = self._followed(token, found, self._changes[self._seen_changes.get(key, 0):])
                self._listed -= len(found)
                del self._lists[key]
                found = followed
                if found is not None:
                    self._lists[key] = found
                    self._listed += len(found)
            if found is not None:
                self._lists.move_to_end(key)
                self._seen_changes[key] = len(self._changes)
                return found
            found = self._stored_list(key)
            if found is None:
                found, fingerprint, seq = self._scored_list(token)
                if len(found) >= PERSIST_FROM:
                    self._store_list(key, found, fingerprint, seq)
            self._lists[key] = found
            self._seen_changes[key] = len(self._changes)
            self._listed += len(found)
            budget = max(LIST_BUDGET_MIN, LIST_BUDGET_PER_ROW * (self._rows or 0))
            while self._listed > budget and len(self._lists) > 1:
                _, dropped = self._lists.popitem(last=False)
                self._listed -= len(dropped)
            return found

    def _read_fingerprint(self) -> bytes:
        """FTS5's structure record (its write counter moves on every write) and its totals: equal means unchanged."""
        blocks = self._db.execute(f"SELECT block FROM {self._table}_data WHERE id IN (1, 10) ORDER BY id").fetchall()
        return b"|".join(bytes(block) for (block,) in blocks)

    def _index_fingerprint(self) -> bytes:
        if self._fingerprint is None:
            self._fingerprint = self._read_fingerprint()
        return self._fingerprint

    def _totals(self) -> tuple[int, int]:
        """Rows and tokens (all columns) of the index, from FTS5's averages record, as bm25 reads them."""
        row = self._db.execute(f"SELECT block FROM {self._table}_data WHERE id = 1").fetchone()
        values = _varints(bytes(row[0])) if row and row[0] else []
        return (values[0], sum(values[1:])) if values else (0, 0)

    def _scored_rows(self, token: str, where: str = "", params: tuple[int, ...] = ()) -> list[tuple[int, float, int]]:
        """(rowid, FTS5's bm25 of `token` alone, the row's length in tokens), best first."""
        table = self._table
        rows = [(rowid, score, sum(_varints(bytes(size)))) for rowid, score, size in self._db.execute(
            f"SELECT {table}.rowid, -{table}.rank, d.sz FROM {table} JOIN {table}_docsize d ON d.id = {table}.rowid "
            f"WHERE {table} MATCH ? {where} ORDER BY {table}.rank", (quote(token), *params))]
        self.rows_read += len(rows)
        return rows

    def _scored_list(self, token: str) -> tuple[TermList, bytes, int]:
        """FTS5's bm25 of `token` alone for every chunk, and the fingerprint and change log position of the index
        it was read from."""
        own = not self._db.in_transaction
        if own:
            self._db.execute("BEGIN")  # one snapshot for all
        try:
            fingerprint = self._read_fingerprint()
            seq = self._log.latest()
            rows = self._scored_rows(token)
            totals = self._totals()
        finally:
            if own:
                self._db.execute("COMMIT")
        found = TermList((rowid, score) for rowid, score, _ in rows)
        found.lengths = array("q", [length for _, _, length in rows])
        found.totals = totals
        rows_total, tokens = totals
        if rows and rows_total:
            groups = _grouped(rows, fts5_idf(rows_total, len(rows)), tokens / rows_total)
            if groups is not None:  # else the list cannot be followed: it is read again after a change
                found.groups = groups
        return found, fingerprint, seq

    def _followed(self, token: str, found: TermList,
                  changes: list[tuple[frozenset[int], frozenset[int]]]) -> TermList | None:
        """`found` brought up to date with `changes` (rows deleted and inserted since it was read): only new rows
        are read from FTS5. Every group's score is computed again under the new totals; None when that cannot be
        done exactly (the list is then read again).
        """
        source = found.groups
        if source is None and found.lengths is not None and found.totals and found.totals[0]:
            rows_then, tokens_then = found.totals  # a list read back from storage: its groups, recovered once
            source = _grouped([(rowid, found.scores[rowid], length) for rowid, length in zip(found.order, found.lengths)],
                              fts5_idf(rows_then, len(found)), tokens_then / rows_then)
        if source is None:
            return None
        groups = {key: list(rows) for key, rows in source.items()}
        pending: set[int] = set()
        gone: set[int] = set()
        for deleted, inserted in changes:
            gone |= deleted & found.scores.keys()
            pending -= deleted
            pending |= inserted
        # A row already listed and inserted again (a list read after a write it is now told of) is replaced once.
        gone |= pending & found.scores.keys()
        if gone:
            for key in list(groups):
                kept = [rowid for rowid in groups[key] if rowid not in gone]
                if kept:
                    groups[key] = kept
                else:
                    del groups[key]
        rows_total, tokens = self._totals()
        if not rows_total:
            return None
        avgdl = tokens / rows_total
        fresh = [row for row in (self._scored_rows(token, f"AND {self._table}.rowid BETWEEN ? AND ?",
                                                   (min(pending), max(pending))) if pending else [])
                 if row[0] in pending]
        hits = sum(map(len, groups.values())) + len(fresh)
        idf = fts5_idf(rows_total, hits)
        added = _grouped(fresh, idf, avgdl)
        if added is None:
            return None
        for key, rows in added.items():
            groups.setdefault(key, []).extend(rows)
        score_of = {key: fts5_term_score(idf, key[0], key[1], avgdl) for key in groups}
        return TermList.from_groups(groups, score_of)

    def _stored_list(self, key: str) -> TermList | None:
        """A list another process stored: as it is when the index has not changed since, else followed through
        the writes logged since (None when they are not all known)."""
        if self._lists_table is None:
            return None
        try:
            row = self._db.execute(f"SELECT fingerprint, seq, rows_total, tokens_total, rowids, scores, lengths FROM "
                                   f"{self._lists_table} WHERE term = ?", (key,)).fetchone()
        except sqlite3.OperationalError:
            return None  # not created yet
        if row is None:
            return None
        fingerprint, seq, rows_total, tokens_total, rowids_blob, scores_blob, lengths_blob = row
        rowids, scores, lengths = array("q"), array("d"), array("q")
        rowids.frombytes(rowids_blob)
        scores.frombytes(scores_blob)
        lengths.frombytes(lengths_blob)
        found = TermList.from_arrays(rowids, scores)
        found.lengths, found.totals = lengths, (rows_total, tokens_total)
        if fingerprint == self._index_fingerprint():
            return found
        logged = self.changes_since(seq)
        if not logged or not logged[1]:
            return None  # changed by a write that was not logged
        gained = sum(len(inserted) - len(deleted) for deleted, inserted in logged[1])
        if self._totals()[0] != rows_total + gained:
            return None  # the logged writes do not account for every row: something else wrote too
        return self._followed(key, found, logged[1])

    def _stored_count(self, key: str) -> int | None:
        """How many rows a stored, current list holds (one per row matching the term), without reading it."""
        if self._lists_table is None:
            return None
        try:
            row = self._db.execute(f"SELECT length(rowids) / 8 FROM {self._lists_table} WHERE term = ? AND fingerprint = ?",
                                   (key, self._index_fingerprint())).fetchone()
        except sqlite3.OperationalError:
            return None  # not created yet
        return int(row[0]) if row is not None else None

    def _store_list(self, key: str, found: TermList, fingerprint: bytes, seq: int) -> None:
        """Keep the list for the next process; skipped, never waited for, when another process is writing."""
        if self._lists_table is None or self._db.in_transaction or found.lengths is None or found.totals is None:
            return
        scores = array("d", map(found.scores.__getitem__, found.order))
        waited = self._db.execute("PRAGMA busy_timeout").fetchone()[0]
        synchronous = self._db.execute("PRAGMA synchronous").fetchone()[0]
        self._db.execute("PRAGMA busy_timeout = 0")
        self._db.execute("PRAGMA synchronous = OFF")  # a cache: losing it in a crash costs one recomputation
        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute(f"CREATE TABLE IF NOT EXISTS {self._lists_table}(term TEXT PRIMARY KEY, "
                                 "fingerprint BLOB NOT NULL, seq INTEGER NOT NULL, rows_total INTEGER NOT NULL, "
                                 "tokens_total INTEGER NOT NULL, rowids BLOB NOT NULL, scores BLOB NOT NULL, "
                                 "lengths BLOB NOT NULL)")
                if self._old_lists_table:
                    self._db.execute(f"DROP TABLE IF EXISTS {self._old_lists_table}")
                # Lists further behind than the change log reaches can no longer follow it.
                self._db.execute(f"DELETE FROM {self._lists_table} WHERE seq < ?", (seq - KEEP,))
                self._db.execute(f"INSERT OR REPLACE INTO {self._lists_table} VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                                 (key, fingerprint, seq, found.totals[0], found.totals[1], found.order.tobytes(),
                                  scores.tobytes(), found.lengths.tobytes()))
                self._db.execute("COMMIT")
            except sqlite3.Error:
                self._db.execute("ROLLBACK")
        except sqlite3.Error:
            pass  # busy, read-only or full: the list is only a cache
        finally:
            self._db.execute(f"PRAGMA busy_timeout = {int(waited)}")
            self._db.execute(f"PRAGMA synchronous = {int(synchronous)}")

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
                    listed = self._lists.get(key) if self._seen_changes.get(key, 0) == len(self._changes) else None
                    count = len(listed) if listed is not None else self._stored_count(key)
                    self._exact[key] = count if count is not None else int(self._db.execute(
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
