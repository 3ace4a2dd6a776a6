"""Term lists and filtered history search follow what ANOTHER process appended, reading only the new rows
(issue 21): every write logs its rowids in the database, and a second connection (as another mimo process has)
follows them instead of dropping and re-reading everything."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

from zipf_corpus import build_index, vocabulary  # noqa: E402

from mimo_tui.memory.fts_query import quote  # noqa: E402
from mimo_tui.memory.history_index import HistoryIndex, _SCHEMA  # noqa: E402
from mimo_tui.memory.index import MemoryIndex  # noqa: E402

CHUNKS = 6_000


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("built")
    build_index(folder / "index.db", folder / "mem", CHUNKS, seed=3).close()
    return folder


@pytest.fixture
def corpus(built: Path, tmp_path: Path) -> tuple[Path, Path]:
    """A copy of the module's 6,000-chunk index for each test (built once: about a second)."""
    import shutil

    shutil.copy(built / "index.db", tmp_path / "index.db")
    shutil.copytree(built / "mem", tmp_path / "mem")
    return tmp_path / "index.db", tmp_path / "mem"


def fts5_scores(db: sqlite3.Connection, word: str) -> dict[int, float]:
    return dict(db.execute("SELECT rowid, -rank FROM chunks_fts WHERE chunks_fts MATCH ?", (quote(word),)).fetchall())


def plain_top(db: sqlite3.Connection, words: list[str]) -> list[float]:
    rows = db.execute("SELECT -rank FROM chunks_fts WHERE chunks_fts MATCH ? ORDER BY rank LIMIT 10",
                      (" OR ".join(quote(w) for w in words),)).fetchall()
    return [score for (score,) in rows if score >= 0.15 * rows[0][0]]


def same(hits: list, expected: list[float]) -> bool:
    """The same top scores; a word in over half the chunks is left out of the sum (it adds at most 2.2e-6)."""
    return len(hits) == len(expected) and all(abs(hit.score - score) < 1e-3 for hit, score in zip(hits, expected))


def append(folder: Path, relpath: str, words: list[str], db_path: Path) -> None:
    """Another process indexes a new file: its own connection, its own MemoryIndex."""
    (folder / relpath).parent.mkdir(parents=True, exist_ok=True)
    (folder / relpath).write_text(f"# {words[0]}\n\n{words[0]} {words[1]} {words[1]} and more\n\n# other\n\n{words[1]} once\n")
    other = MemoryIndex(db_path, {"project": folder})
    other.index_file("project", relpath)
    other.close()


def test_lists_follow_another_connections_append_and_edit(corpus) -> None:
    db_path, folder = corpus
    words = vocabulary()
    query = [words[3], words[40]]  # common words: thousands of chunks each, answered from the lists
    index = MemoryIndex(db_path, {"project": folder})
    reference = sqlite3.connect(db_path)
    assert index.ranking_path(" ".join(query)) == "lists"
    index.search(" ".join(query), reconcile=False)
    built = index.list_rows_read
    assert built > 1000

    append(folder, "notes/elsewhere.md", query, db_path)
    hits = index.search(" ".join(query), reconcile=False)
    read = index.list_rows_read - built
    assert read <= 4, f"{read} rows read after another process appended 2 chunks ({built} to build the lists)"
    assert same(hits, plain_top(reference, query))
    assert "notes/elsewhere.md" in {hit.relpath for hit in hits}
    for word in query:
        assert index.term_scores(word) == fts5_scores(reference, word)

    # The other process edits and then deletes the file: chunks deleted and rowids reused, still exact.
    (folder / "notes/elsewhere.md").write_text(f"# changed\n\n{query[1]} only now\n")
    other = MemoryIndex(db_path, {"project": folder})
    other.index_file("project", "notes/elsewhere.md")
    before = index.list_rows_read
    assert same(index.search(" ".join(query), reconcile=False), plain_top(reference, query))
    assert index.list_rows_read - before <= 2
    (folder / "notes/elsewhere.md").unlink()
    other.index_file("project", "notes/elsewhere.md")
    other.close()
    for word in query:
        assert index.term_scores(word) == fts5_scores(reference, word)
    index.close()
    reference.close()


def test_lists_read_back_by_a_new_process_follow_appends(corpus) -> None:
    db_path, folder = corpus
    words = vocabulary()
    query = [words[3], words[40]]
    first = MemoryIndex(db_path, {"project": folder})
    first.search(" ".join(query), reconcile=False)  # scores the lists and stores them for the next process
    first.close()
    append(folder, "notes/later.md", query, db_path)  # the stored lists are now behind the index

    reference = sqlite3.connect(db_path)
    fresh = MemoryIndex(db_path, {"project": folder})  # a new process reads them back and follows the log
    hits = fresh.search(" ".join(query), reconcile=False)
    assert fresh.list_rows_read <= 4, f"{fresh.list_rows_read} rows read by a new process"
    assert same(hits, plain_top(reference, query))
    for word in query:
        assert fresh.term_scores(word) == fts5_scores(reference, word)

    # A list read back follows this process's own appends too.
    (folder / "notes/mine.md").write_text(f"# {query[1]}\n\n{query[1]} {query[0]} here\n")
    fresh.index_file("project", "notes/mine.md")
    before = fresh.list_rows_read
    hits = fresh.search(" ".join(query), reconcile=False)
    assert fresh.list_rows_read - before <= 2
    assert same(hits, plain_top(reference, query))
    fresh.close()
    reference.close()


def test_a_write_not_logged_is_still_seen_exactly(corpus) -> None:
    db_path, folder = corpus
    words = vocabulary()
    query = [words[3], words[40]]
    index = MemoryIndex(db_path, {"project": folder})
    index.search(" ".join(query), reconcile=False)
    with sqlite3.connect(db_path) as raw:  # a tool writing straight into the table, past the change log
        raw.execute("INSERT INTO chunks(file_id, line, body_line, heading, body, scope, type) "
                    f"VALUES (1, 900, 901, 'raw', '{query[0]} {query[0]} {query[1]}', 'project', 'notes')")
    reference = sqlite3.connect(db_path)
    assert same(index.search(" ".join(query), reconcile=False), plain_top(reference, query))
    for word in query:
        assert index.term_scores(word) == fts5_scores(reference, word)
    index.close()
    reference.close()


def test_filtered_history_search_follows_another_process_without_scanning(tmp_path: Path) -> None:
    import random

    words = vocabulary()
    rng = random.Random(4)
    db_path = tmp_path / "state.db"
    db = sqlite3.connect(db_path)
    db.execute(_SCHEMA)
    with db:
        db.executemany("INSERT INTO history_fts(text, session_id, message_id, role, kind, created_at) "
                       "VALUES (?, ?, ?, 'user', 'user', 0)",
                       [(" ".join(rng.choice(words[:100]) for _ in range(40)), f"s{n % 4}", str(n)) for n in range(3000)])
    history = HistoryIndex(db_path)
    query = f"{words[5]} {words[60]}"
    history.search(query, session_id="s1")
    history.search(query)
    scanned, built = history.filter_rows_scanned, history.list_rows_read
    assert scanned >= 700

    other = HistoryIndex(db_path)  # another process appends two messages, one of them in s1
    other.add("s1", "new", "assistant", "assistant", f"{words[5]} {words[60]} {words[60]} found it")
    other.add("s2", "new2", "assistant", "assistant", f"{words[5]} {words[60]} {words[60]} elsewhere")
    other.close()
    hits = history.search(query, session_id="s1")
    assert history.filter_rows_scanned == scanned, "the filter's rows were read again"
    assert history.list_rows_read - built <= 4
    expected = db.execute("SELECT message_id, -rank FROM history_fts WHERE history_fts MATCH ? AND session_id = 's1' "
                          "ORDER BY rank LIMIT 10", (f'"{words[5]}" OR "{words[60]}"',)).fetchall()
    assert hits[0].message_id == "new" and all(hit.session_id == "s1" for hit in hits)
    assert [round(score, 4) for _, score in expected][: len(hits)] == [hit.score for hit in hits]

    other = HistoryIndex(db_path)  # another process forgets a session: its rows leave the filter too
    other.forget_session("s1")
    other.close()
    assert history.search(query, session_id="s1") == []
    assert history.filter_rows_scanned == scanned
    history.close()
    db.close()


def test_a_single_common_word_is_answered_from_its_list_through_appends(corpus) -> None:
    db_path, folder = corpus
    words = vocabulary()
    word = words[0]  # in most chunks: its head was scored again by FTS5 over every match after each change
    index = MemoryIndex(db_path, {"project": folder})
    reference = sqlite3.connect(db_path)
    assert len(fts5_scores(reference, word)) > CHUNKS // 2
    index.search(word, reconcile=False)
    assert index.ranking_path(word) == "lists"
    built = index.list_rows_read
    (folder / "notes").mkdir(parents=True, exist_ok=True)
    (folder / "notes/own.md").write_text(f"# {word}\n\n{word} {word} {word}\n")
    index.index_file("project", "notes/own.md")  # this process
    append(folder, "notes/other.md", [word, word], db_path)  # and another
    hits = index.search(word, reconcile=False)
    assert index.list_rows_read - built <= 4
    assert same(hits, plain_top(reference, [word]))
    assert index.term_scores(word) == fts5_scores(reference, word)
    index.close()
    reference.close()
