"""The derived FTS5 index of memory files (`.mimo/index.db`): chunked by heading, reconciled by fingerprint."""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from mimo_tui.memory.bm25_topk import rank_query
from mimo_tui.memory.fts_query import MARK_CLOSE, MARK_OPEN, TOKENIZER, TermStatistics, apply_floor
from mimo_tui.memory.layers import SKIPPED_FOLDERS, classify, memory_files
from mimo_tui.memory.sections import split_sections
from mimo_tui.sqlite_connect import connect_wal
from mimo_tui.store import FileChanged, VersionedStore

SCHEMA_VERSION = 1
CHUNK_MAX_LINES = 40
CHUNK_MAX_CHARS = 3000
SNIPPET_TOKENS = 16
# Files remembered as changed since a generation; a reader further behind than this rebuilds what it derived.
CHANGE_LOG_SIZE = 512

_SCHEMA = f"""
CREATE TABLE files(
  id INTEGER PRIMARY KEY, root TEXT NOT NULL, relpath TEXT NOT NULL, size INTEGER NOT NULL,
  mtime_ns INTEGER NOT NULL, scope TEXT NOT NULL, type TEXT NOT NULL, session_id TEXT,
  UNIQUE(root, relpath));
CREATE TABLE chunks(
  id INTEGER PRIMARY KEY, file_id INTEGER NOT NULL, line INTEGER NOT NULL, body_line INTEGER NOT NULL,
  heading TEXT NOT NULL, body TEXT NOT NULL, scope TEXT NOT NULL, type TEXT NOT NULL);
CREATE INDEX chunks_file ON chunks(file_id);
CREATE VIRTUAL TABLE chunks_fts USING fts5(heading, body, content='chunks', content_rowid='id', tokenize='{TOKENIZER}');
INSERT INTO chunks_fts(chunks_fts, rank) VALUES('rank', 'bm25(2.0, 1.0)');
"""
# External content: the FTS table only mirrors `chunks`, so every delete must hand FTS5 the old text.
TRIGGER_INSERT = """CREATE TRIGGER chunks_ai AFTER INSERT ON chunks BEGIN
  INSERT INTO chunks_fts(rowid, heading, body) VALUES (new.id, new.heading, new.body);
END"""
TRIGGER_DELETE = """CREATE TRIGGER chunks_ad AFTER DELETE ON chunks BEGIN
  INSERT INTO chunks_fts(chunks_fts, rowid, heading, body) VALUES ('delete', old.id, old.heading, old.body);
END"""
TRIGGER_UPDATE = """CREATE TRIGGER chunks_au AFTER UPDATE ON chunks BEGIN
  INSERT INTO chunks_fts(chunks_fts, rowid, heading, body) VALUES ('delete', old.id, old.heading, old.body);
  INSERT INTO chunks_fts(rowid, heading, body) VALUES (new.id, new.heading, new.body);
END"""


@dataclass(frozen=True)
class Chunk:
    """A piece of a memory file under one heading; `line` is its heading's line, `body_line` its first body line."""

    line: int
    body_line: int
    heading: str
    body: str


@dataclass(frozen=True)
class MemoryHit:
    """A search hit: where it is (root, relpath, line), under which heading, a marked snippet and its score."""

    root: str
    relpath: str
    line: int
    heading: str
    snippet: str
    score: float
    scope: str
    type: str
    session_id: str | None
    path: Path

    def marked(self, open_mark: str = "[", close_mark: str = "]") -> str:
        """The snippet with the matched words wrapped in the given marks."""
        return self.snippet.replace(MARK_OPEN, open_mark).replace(MARK_CLOSE, close_mark)

    def spans(self) -> tuple[str, list[tuple[int, int]]]:
        """The snippet as plain text and the (start, end) offsets of the matched words, for styling."""
        plain: list[str] = []
        spans: list[tuple[int, int]] = []
        start = 0
        length = 0
        for char in self.snippet:
            if char == MARK_OPEN:
                start = length
            elif char == MARK_CLOSE:
                spans.append((start, length))
            else:
                plain.append(char)
                length += 1
        return "".join(plain), spans


@dataclass(frozen=True)
class ReconcileReport:
    """What a reconcile did: files re-indexed, pruned and left alone."""

    indexed: int
    pruned: int
    unchanged: int


def chunk_text(text: str) -> list[Chunk]:
    """Chunks of a markdown text: one per heading section, long bodies cut into pieces at line boundaries."""
    chunks: list[Chunk] = []
    for section in split_sections(text):
        lines = section.body
        start = 0
        while True:
            size = 0
            end = start
            while end < len(lines) and end - start < CHUNK_MAX_LINES and (end == start or size + len(lines[end]) < CHUNK_MAX_CHARS):
                size += len(lines[end]) + 1
                end += 1
            body = "\n".join(lines[start:end])
            if body.strip() or (start == 0 and section.level):
                chunks.append(Chunk(section.line, section.body_start + start, section.title, body))
            if end >= len(lines):
                break
            start = end
    return chunks


def _statements(script: str) -> list[str]:
    """The SQL statements of a script (a trigger's body keeps its inner semicolons)."""
    statements, current = [], ""
    for line in script.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            statements.append(current.strip())
            current = ""
    return statements + ([current.strip()] if current.strip() else [])


def _build_schema(db: sqlite3.Connection) -> None:
    """(Re)create the tables in one write transaction; another process may have built them meanwhile."""
    db.execute("BEGIN IMMEDIATE")
    try:
        if db.execute("PRAGMA user_version").fetchone()[0] != SCHEMA_VERSION:
            names = [name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                                    "AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'chunks_fts_%'")]
            for name in names:
                db.execute(f'DROP TABLE IF EXISTS "{name}"')
            for statement in _statements(_SCHEMA + ";\n".join((TRIGGER_INSERT, TRIGGER_DELETE, TRIGGER_UPDATE)) + ";"):
                db.execute(statement)
            db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


class MemoryIndex:
    """Full-text index over the memory repos named in `roots` (name -> folder); safe to use from any thread."""

    def __init__(self, db_path: Path, roots: dict[str, Path]) -> None:
        self.db_path = db_path
        self.roots = dict(roots)
        self._lock = threading.RLock()
        self._db = self._open()
        self._stats = TermStatistics(self._db, "chunks_fts", "term_lists_cache")
        # Chunks deleted and inserted by the write in progress: the search's term lists follow them.
        self._deleted: set[int] = set()
        self._inserted: set[int] = set()
        self._last_path = "none"
        # Every write bumps the generation and logs the files it touched, so derived views update only those.
        self.generation = 0
        self._changes: list[tuple[int, str, str]] = []

    # -- opening ------------------------------------------------------------------------------
    def _open(self) -> sqlite3.Connection:
        try:
            try:
                return self._connect()
            except sqlite3.DatabaseError as exc:
                if getattr(exc, "sqlite_errorcode", 0) & 0xFF not in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB):
                    raise  # a read-only folder or a full disk is said as such, not "repaired" by deleting
                # The index is derived: a damaged or foreign file is thrown away and rebuilt from the markdown.
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{self.db_path}{suffix}").unlink(missing_ok=True)
                return self._connect()
        except sqlite3.Error as exc:
            exc.add_note(f"in {self.db_path}")
            raise

    def _connect(self) -> sqlite3.Connection:
        self.db_path.parent.mkdir(parents=True, exist_ok=True)
        db = connect_wal(self.db_path, timeout_s=5.0, synchronous="OFF")  # derived and rebuildable: no fsync needed
        if db.execute("PRAGMA user_version").fetchone()[0] != SCHEMA_VERSION:
            _build_schema(db)
        return db

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _abandon(self, exc: BaseException) -> None:
        """Roll back the open transaction unless SQLite already did (a COMMIT that failed on a full disk)."""
        if self._db.in_transaction:
            self._db.execute("ROLLBACK")
        if isinstance(exc, sqlite3.Error):
            exc.add_note(f"in {self.db_path}")

    # -- writing ------------------------------------------------------------------------------
    def _file_row(self, root: str, relpath: str) -> tuple[int, int, int] | None:
        return self._db.execute("SELECT id, size, mtime_ns FROM files WHERE root = ? AND relpath = ?", (root, relpath)).fetchone()

    def _drop_file(self, file_id: int) -> None:
        self._deleted.update(rowid for (rowid,) in self._db.execute("SELECT id FROM chunks WHERE file_id = ?", (file_id,)))
        self._db.execute("DELETE FROM chunks WHERE file_id = ?", (file_id,))
        self._db.execute("DELETE FROM files WHERE id = ?", (file_id,))

    def _store_file(self, root: str, relpath: str, stat: os.stat_result | None) -> None:
        folder = self.roots[root]
        previous = self._file_row(root, relpath)
        if previous is not None:
            self._drop_file(previous[0])
        try:
            if stat is None:
                stat = os.stat(folder / relpath)
            text = (folder / relpath).read_text(encoding="utf-8")
        except FileNotFoundError:
            return
        except (OSError, UnicodeDecodeError):
            text = ""  # unreadable or not UTF-8: remembered by fingerprint so it is not retried each search
        kind = classify(root, relpath)
        cursor = self._db.execute(
            "INSERT INTO files(root, relpath, size, mtime_ns, scope, type, session_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (root, relpath, stat.st_size, stat.st_mtime_ns, kind.scope, kind.type, kind.session_id),
        )
        file_id = cursor.lastrowid
        self._db.executemany(
            "INSERT INTO chunks(file_id, line, body_line, heading, body, scope, type) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(file_id, c.line, c.body_line, c.heading, c.body, kind.scope, kind.type) for c in chunk_text(text)],
        )
        self._inserted.update(rowid for (rowid,) in self._db.execute("SELECT id FROM chunks WHERE file_id = ?", (file_id,)))

    def index_file(self, root: str, relpath: str) -> None:
        """Re-index one file now (or forget it when it no longer exists)."""
        with self._lock:
            self._deleted, self._inserted = set(), set()
            self._db.execute("BEGIN IMMEDIATE")
            try:
                if (self.roots[root] / relpath).is_file():
                    self._store_file(root, relpath, None)
                else:
                    row = self._file_row(root, relpath)
                    if row is not None:
                        self._drop_file(row[0])
                self._stats.log_write(self._deleted, self._inserted)
                self._db.execute("COMMIT")
            except BaseException as exc:
                self._abandon(exc)
                self._stats.invalidate()
                raise
            self._stats.rows_changed(self._deleted, self._inserted)
            self._changed([(root, relpath)])

    def _changed(self, files: list[tuple[str, str]] | None) -> None:
        """Log a write: these files changed, or (None) anything may have."""
        self.generation += 1
        if files is None or len(files) > CHANGE_LOG_SIZE:
            self._changes = [(self.generation, "", "")]
        else:
            self._changes += [(self.generation, root, relpath) for root, relpath in files]
            del self._changes[:-CHANGE_LOG_SIZE]

    def changes_since(self, generation: int) -> set[tuple[str, str]] | None:
        """The (root, relpath) written after `generation`, or None when that is no longer known (derive again)."""
        with self._lock:
            if generation == self.generation:
                return set()
            if not self._changes or self._changes[0][0] > generation + 1:
                return None
            later = [(root, relpath) for number, root, relpath in self._changes if number > generation]
            return None if ("", "") in later else set(later)

    def reconcile(self) -> ReconcileReport:
        """Re-index files whose size or mtime changed, index new ones and prune deleted ones."""
        indexed = pruned = unchanged = 0
        with self._lock:
            work: list[tuple[str, str, os.stat_result | None]] = []
            for root, folder in self.roots.items():
                on_disk = memory_files(folder)
                known = {rel: (size, mtime) for rel, size, mtime in
                         self._db.execute("SELECT relpath, size, mtime_ns FROM files WHERE root = ?", (root,))}
                for rel, stat in on_disk.items():
                    if known.get(rel) == (stat.st_size, stat.st_mtime_ns):
                        unchanged += 1
                    else:
                        work.append((root, rel, stat))
                work += [(root, rel, None) for rel in known if rel not in on_disk]
            if not work:
                return ReconcileReport(0, 0, unchanged)
            bulk = len(work) > 200 and self._db.execute("SELECT NOT EXISTS (SELECT 1 FROM files)").fetchone()[0]
            self._deleted, self._inserted = set(), set()
            self._db.execute("BEGIN IMMEDIATE")
            try:
                if bulk:
                    self._db.execute("DROP TRIGGER chunks_ai")
                for root, rel, stat in work:
                    if stat is None:
                        row = self._file_row(root, rel)
                        if row is not None:
                            self._drop_file(row[0])
                        pruned += 1
                    else:
                        self._store_file(root, rel, stat)
                        indexed += 1
                if bulk:
                    # An empty index filled in one go: FTS5 builds faster from a single 'rebuild' than row by row.
                    self._db.execute("INSERT INTO chunks_fts(chunks_fts) VALUES('rebuild')")
                    self._db.execute(TRIGGER_INSERT)
                    self._stats.log_write(None, None)
                else:
                    self._stats.log_write(self._deleted, self._inserted)
                self._db.execute("COMMIT")
            except BaseException as exc:
                self._abandon(exc)
                self._stats.invalidate()
                raise
            if bulk:
                self._stats.invalidate()
            else:
                self._stats.rows_changed(self._deleted, self._inserted)
            self._changed([(root, rel) for root, rel, _ in work])
        return ReconcileReport(indexed, pruned, unchanged)

    def rebuild(self) -> ReconcileReport:
        """Forget everything and index every memory file again from the markdown."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute("DELETE FROM files")
                self._db.execute("DROP TRIGGER chunks_ad")
                self._db.execute("DELETE FROM chunks")
                self._db.execute("INSERT INTO chunks_fts(chunks_fts) VALUES('delete-all')")
                self._db.execute(TRIGGER_DELETE)
                self._stats.log_write(None, None)
                self._db.execute("COMMIT")
            except BaseException as exc:
                self._abandon(exc)
                raise
            self._stats.invalidate()
            self._changed(None)
        return self.reconcile()

    # -- following the store ------------------------------------------------------------------
    def follow(self, store: VersionedStore, root: str) -> Callable[[], None]:
        """Re-index a file of `root` each time `store` commits it; returns a function that stops following."""

        def on_change(event: FileChanged) -> None:
            if event.relpath.endswith(".md") and event.relpath.split("/", 1)[0] not in SKIPPED_FOLDERS:
                self.index_file(root, event.relpath)

        return store.subscribe(on_change)

    # -- searching ------------------------------------------------------------------------------
    def counts(self) -> tuple[int, int]:
        """(files, chunks) in the index."""
        with self._lock:
            files = self._db.execute("SELECT count(*) FROM files").fetchone()[0]
            chunks = self._db.execute("SELECT count(*) FROM chunks").fetchone()[0]
        return files, chunks

    def outline(self) -> list[tuple[str, str, int, str]]:
        """Every indexed heading as (root, relpath, line, heading), files in path order; for the fuzzy finder."""
        with self._lock:
            return self._db.execute(
                "SELECT DISTINCT f.root, f.relpath, c.line, c.heading FROM chunks c JOIN files f ON f.id = c.file_id "
                "ORDER BY f.root DESC, f.relpath, c.line").fetchall()

    def outline_of(self, files: Iterable[tuple[str, str]]) -> list[tuple[str, str, int, str]]:
        """The headings of these files only, as outline() gives them (a file without chunks: line 1, no heading)."""
        with self._lock:
            rows: list[tuple[str, str, int, str]] = []
            for root, relpath in files:
                found = self._db.execute(
                    "SELECT DISTINCT f.root, f.relpath, c.line, c.heading FROM chunks c JOIN files f ON f.id = c.file_id "
                    "WHERE f.root = ? AND f.relpath = ? ORDER BY c.line", (root, relpath)).fetchall()
                if not found and self._file_row(root, relpath) is not None:
                    found = [(root, relpath, 1, "")]
                rows += found
            return rows

    def search(
        self,
        query: str,
        scope: str | Iterable[str] | None = None,
        type: str | Iterable[str] | None = None,
        limit: int = 10,
        session_id: str | None = None,
        reconcile: bool = True,
    ) -> list[MemoryHit]:
        """Best hits for `query`: every word counts, ranked exactly as plain bm25 would; never raises on odd text."""
        if reconcile:
            self.reconcile()
        with self._lock:
            ranked = self._ranked(query, scope, type, session_id, limit)
            if ranked is None:
                return []
            match, scored = ranked
            return self._hits(match, apply_floor(scored, limit))

    @property
    def list_rows_read(self) -> int:
        """Rows read from FTS5 so far to build or follow the search's term lists (for tests and benches)."""
        return self._stats.rows_read

    def term_scores(self, word: str) -> dict[int, float]:
        """The search's cached bm25 of `word` alone for every chunk holding it (for tests and benches)."""
        with self._lock:
            return dict(self._stats.term_list(word).scores)

    def ranking_path(self, query: str, scope: str | Iterable[str] | None = None, type: str | Iterable[str] | None = None,
                     session_id: str | None = None) -> str:
        """Which exact path answers `query` (plain, term-cache, lists or sets/N); for benchmarks and tests."""
        with self._lock:
            ranked = self._ranked(query, scope, type, session_id, 10)
            return self._last_path if ranked is not None else "none"

    def _ranked(self, query: str, scope: str | Iterable[str] | None, kind: str | Iterable[str] | None,
                session_id: str | None, limit: int) -> tuple[str, list[tuple[int, float]]] | None:
        filters, params = _filters(scope, kind, session_id)
        ranked = rank_query(self._stats, query, limit, lambda match, count: self._run(match, filters, params, count),
                            None if filters else lambda match, count: self._run(match, "", [], count),
                            (lambda: self._allowed(filters, params)) if filters else None)
        if ranked is None:
            return None
        self._last_path = ranked.path
        return ranked.match, ranked.scored

    def _allowed(self, filters: str, params: list[str]) -> frozenset[int]:
        """The chunks a search's filters keep, remembered until the index changes."""
        join = "JOIN files f ON f.id = c.file_id " if "f." in filters else ""
        sql = f"SELECT c.id FROM chunks c {join}WHERE 1 {filters}"
        return self._stats.remembered(("allowed", filters, *params),
                                      lambda: frozenset(rowid for (rowid,) in self._db.execute(sql, params)))

    def _run(self, match: str, filters: str, params: list[str], count: int) -> list[tuple[int, float]]:
        if filters:
            sql = (f"SELECT chunks_fts.rowid, chunks_fts.rank FROM chunks_fts JOIN chunks c ON c.id = chunks_fts.rowid "
                   f"{'JOIN files f ON f.id = c.file_id ' if 'f.' in filters else ''}"
                   f"WHERE chunks_fts MATCH ? {filters} ORDER BY chunks_fts.rank LIMIT ?")
        else:
            sql = "SELECT rowid, rank FROM chunks_fts WHERE chunks_fts MATCH ? ORDER BY rank LIMIT ?"
        return [(rowid, -rank) for rowid, rank in self._db.execute(sql, [match, *params, count])]

    def _hits(self, match: str, kept: list[tuple[int, float]]) -> list[MemoryHit]:
        if not kept:
            return []
        scores = dict(kept)
        rows = self._db.execute(
            "SELECT c.id, c.line, c.body_line, c.heading, c.body, f.root, f.relpath, f.scope, f.type, f.session_id"
            f" FROM chunks c JOIN files f ON f.id = c.file_id WHERE c.id IN ({', '.join('?' * len(kept))})",
            list(scores),
        ).fetchall()
        marked = self._stats.marked([(row[0], row[3], row[4]) for row in rows], match, SNIPPET_TOKENS)
        hits = []
        for rowid, line, body_line, heading, body, root, relpath, scope, kind, session_id in rows:
            snippet, marked_body = marked.get(rowid, (body[:200], ""))
            first = marked_body.find(MARK_OPEN)
            if first >= 0:
                line = body_line + marked_body.count("\n", 0, first)
            hits.append(MemoryHit(root, relpath, line, heading, " ".join(snippet.split()), round(scores[rowid], 4),
                                  scope, kind, session_id, self.roots[root] / relpath))
        return sorted(hits, key=lambda hit: -hit.score)


def _as_tuple(value: str | Iterable[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


def _filters(scope: str | Iterable[str] | None, kind: str | Iterable[str] | None, session_id: str | None) -> tuple[str, list[str]]:
    clauses: list[str] = []
    params: list[str] = []
    for column, values in (("c.scope", _as_tuple(scope)), ("c.type", _as_tuple(kind))):
        if values:
            clauses.append(f"AND {column} IN ({', '.join('?' * len(values))})")
            params += values
    if session_id is not None:
        clauses.append("AND f.session_id = ?")
        params.append(session_id)
    return " ".join(clauses), params
