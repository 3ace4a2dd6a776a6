"""The first search after an append reads only the new rows: the term lists follow the index (issue 21)."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

from zipf_corpus import vocabulary  # noqa: E402

from mimo_tui.memory.fts_query import quote  # noqa: E402
from mimo_tui.memory.index import MemoryIndex  # noqa: E402

CHUNKS = 6_000


@pytest.fixture
def corpus(tmp_path: Path) -> tuple[MemoryIndex, sqlite3.Connection, Path]:
    from zipf_corpus import build_index

    build_index(tmp_path / "index.db", tmp_path / "mem", CHUNKS, seed=3).close()
    index = MemoryIndex(tmp_path / "index.db", {"project": tmp_path / "mem"})
    reference = sqlite3.connect(tmp_path / "index.db")
    yield index, reference, tmp_path / "mem"
    index.close()
    reference.close()


def fts5_scores(db: sqlite3.Connection, word: str) -> dict[int, float]:
    return dict(db.execute("SELECT rowid, -rank FROM chunks_fts WHERE chunks_fts MATCH ?", (quote(word),)).fetchall())


def plain_top(db: sqlite3.Connection, words: list[str]) -> list[float]:
    rows = db.execute("SELECT -rank FROM chunks_fts WHERE chunks_fts MATCH ? ORDER BY rank LIMIT 10",
                      (" OR ".join(quote(w) for w in words),)).fetchall()
    return [round(score, 4) for (score,) in rows if score >= 0.15 * rows[0][0]]


def test_the_first_search_after_an_append_reads_only_the_new_rows_and_ranks_exactly(corpus) -> None:
    index, reference, folder = corpus
    words = vocabulary()
    query = [words[3], words[40]]  # common words: each in thousands of chunks, answered from the lists
    assert index.ranking_path(" ".join(query)) == "lists"
    index.search(" ".join(query), reconcile=False)
    built = index.list_rows_read
    assert built > 1000

    (folder / "notes").mkdir(parents=True, exist_ok=True)
    new = folder / "notes" / "appended.md"
    new.write_text(f"# {query[0]}\n\n{query[0]} {query[1]} {query[1]} and more\n\n# other\n\n{query[1]} once\n")
    index.index_file("project", "notes/appended.md")
    hits = index.search(" ".join(query), reconcile=False)
    read = index.list_rows_read - built
    assert read <= 4, f"{read} rows read after appending 2 chunks"
    assert [hit.score for hit in hits] == plain_top(reference, query)
    assert "notes/appended.md" in {hit.relpath for hit in hits}
    # Every followed score is FTS5's own, bit for bit, under the new totals.
    for word in query:
        assert index.term_scores(word) == fts5_scores(reference, word)

    # An edit deletes the file's chunks and inserts new ones, reusing their rowids: still exact, still few rows.
    new.write_text(f"# changed\n\n{query[1]} only now\n")
    index.index_file("project", "notes/appended.md")
    before = index.list_rows_read
    hits = index.search(" ".join(query), reconcile=False)
    assert index.list_rows_read - before <= 2
    assert [hit.score for hit in hits] == plain_top(reference, query)
    for word in query:
        assert index.term_scores(word) == fts5_scores(reference, word)
    new.unlink()
    index.index_file("project", "notes/appended.md")
    for word in query:
        assert index.term_scores(word) == fts5_scores(reference, word)


def test_history_search_after_a_new_message_reads_only_that_message(tmp_path: Path) -> None:
    import random

    from mimo_tui.memory.history_index import HistoryIndex, _SCHEMA

    words = vocabulary()
    rng = random.Random(4)
    db = sqlite3.connect(tmp_path / "state.db")
    db.execute(_SCHEMA)
    with db:
        db.executemany("INSERT INTO history_fts(text, session_id, message_id, role, kind, created_at) VALUES (?, 's', ?, 'user', 'user', 0)",
                       [(" ".join(rng.choice(words[:100]) for _ in range(40)), str(n)) for n in range(3000)])
    history = HistoryIndex(tmp_path / "state.db")
    query = f"{words[5]} {words[60]}"
    history.search(query)
    built = history.list_rows_read
    history.add("s", "new", "assistant", "assistant", f"{words[5]} {words[60]} {words[60]} found it")
    hits = history.search(query)
    assert history.list_rows_read - built <= 2  # the new message, once per word's list
    expected = db.execute("SELECT -rank FROM history_fts WHERE history_fts MATCH ? ORDER BY rank LIMIT 1",
                          (f'"{words[5]}" OR "{words[60]}"',)).fetchone()[0]
    assert hits[0].message_id == "new" and abs(hits[0].score - expected) < 1e-3
    db.close()
