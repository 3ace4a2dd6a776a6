"""Per-term score lists kept in the database for the next process (issue 21, item 2): a fresh process uses them
instead of asking FTS5 to score every match, and once the index has changed it follows them through the logged
writes (reading only the new rows), never using them as they were."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

from mimo_tui.memory.fts_query import PERSIST_FROM, quote
from mimo_tui.memory.history_index import HistoryIndex
from mimo_tui.memory.index import MemoryIndex

ROOT = Path(__file__).resolve().parents[1]


def history_with(state_db: Path, messages: int) -> None:
    """`messages` messages where 'alpha' is in every other one and 'beta' in every third (both common)."""
    first = HistoryIndex(state_db)
    first.add("s0", 0, "user", "user", "start")
    first.close()
    db = sqlite3.connect(state_db)
    with db:
        db.executemany("INSERT INTO history_fts(text, session_id, message_id, role, kind, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                       [(" ".join(["alpha"] * (n % 2 == 0) + ["beta"] * (n % 3 == 0) + [f"w{n % 97}", f"v{n % 89}"] * (1 + n % 4)),
                         "s1", str(n), "user", "user", float(n)) for n in range(1, messages)])
    db.close()


def plain(state_db: Path, words: str) -> list[float]:
    db = sqlite3.connect(state_db)
    rows = db.execute("SELECT -rank FROM history_fts WHERE history_fts MATCH ? ORDER BY rank LIMIT 10",
                      (" OR ".join(quote(word) for word in words.split()),)).fetchall()
    db.close()
    return [round(score, 4) for (score,) in rows]


def search_in_new_process(state_db: Path, words: str, rows_read: list[int] | None = None) -> list[float]:
    code = ("import sys; from mimo_tui.memory.history_index import HistoryIndex; index = HistoryIndex(sys.argv[1]); "
            "print(' '.join(str(hit.score) for hit in index.search(sys.argv[2]))); print(index.list_rows_read)")
    done = subprocess.run([sys.executable, "-c", code, str(state_db), words], capture_output=True, text=True,
                          cwd=ROOT, check=True, timeout=60)
    scores, read = done.stdout.splitlines()
    if rows_read is not None:
        rows_read.append(int(read))
    return [float(score) for score in scores.split()]


def stored_terms(state_db: Path) -> set[str]:
    db = sqlite3.connect(state_db)
    try:
        return {term for (term,) in db.execute("SELECT term FROM history_term_lists_v2")}
    except sqlite3.OperationalError:
        return set()
    finally:
        db.close()


def test_a_new_process_reads_the_stored_lists_and_follows_them_after_an_append(tmp_path: Path) -> None:
    state_db = tmp_path / "state.db"
    history_with(state_db, 6 * PERSIST_FROM)
    assert search_in_new_process(state_db, "alpha beta") == plain(state_db, "alpha beta")
    assert {"alpha", "beta"} <= stored_terms(state_db)

    # A list the next process would read is the one stored: make the stored 'beta' list visibly wrong and check
    # a new process ranks from it (so the stored lists really replace FTS5's scoring) ...
    db = sqlite3.connect(state_db)
    with db:
        db.execute("UPDATE history_term_lists_v2 SET rowids = x'', scores = x'', lengths = x'' WHERE term = 'beta'")
    assert search_in_new_process(state_db, "alpha beta") != plain(state_db, "alpha beta")
    with db:
        db.execute("DELETE FROM history_term_lists_v2 WHERE term = 'beta'")  # the next process scores it again
    db.close()
    assert search_in_new_process(state_db, "alpha beta") == plain(state_db, "alpha beta")

    # ... and that after an append (the index changed) a new process follows them: it reads the new message only,
    # and ranks as plain bm25 does.
    index = HistoryIndex(state_db)
    index.add("s2", "new", "user", "user", "beta beta beta alpha")
    index.close()
    read: list[int] = []
    assert search_in_new_process(state_db, "alpha beta", read) == plain(state_db, "alpha beta")
    assert search_in_new_process(state_db, "beta alpha", read) == plain(state_db, "beta alpha")
    assert read == [2, 2], read  # the appended message, once per word's list


def test_a_deleted_session_also_makes_stored_lists_stale(tmp_path: Path) -> None:
    state_db = tmp_path / "state.db"
    history_with(state_db, 6 * PERSIST_FROM)
    assert search_in_new_process(state_db, "alpha beta") == plain(state_db, "alpha beta")
    index = HistoryIndex(state_db)
    index.forget_session("s1")
    index.add("s3", "x", "user", "user", "alpha beta gamma")
    index.close()
    assert search_in_new_process(state_db, "alpha beta") == plain(state_db, "alpha beta")


def test_memory_index_lists_follow_a_reindexed_file(tmp_path: Path) -> None:
    folder = tmp_path / "mem"
    folder.mkdir()
    body = "\n".join(f"## Part {n}\n" + " ".join(["alpha"] * (1 + n % 3) + ["beta"] * (n % 2) + [f"w{n}"]) for n in range(3 * PERSIST_FROM))
    (folder / "MEMORY.md").write_text("# Project memory\n\n" + body + "\n", encoding="utf-8")
    index = MemoryIndex(tmp_path / "index.db", {"project": folder})
    before = [hit.score for hit in index.search("alpha beta")]
    index.close()
    (folder / "notes.md").write_text("# Notes\n\n## Hot\nbeta beta beta beta alpha alpha\n", encoding="utf-8")
    again = MemoryIndex(tmp_path / "index.db", {"project": folder})  # a new process: reconciles, then searches
    hits = again.search("alpha beta")
    reference = sqlite3.connect(tmp_path / "index.db")
    expected = [round(-rank, 4) for (rank,) in reference.execute(
        "SELECT rank FROM chunks_fts WHERE chunks_fts MATCH '\"alpha\" OR \"beta\"' ORDER BY rank LIMIT 10")]
    reference.close()
    again.close()
    assert hits[0].relpath == "notes.md"
    assert [hit.score for hit in hits] == [score for score in expected if score >= 0.15 * expected[0]][:10]
    assert [hit.score for hit in hits] != before
