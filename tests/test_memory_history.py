"""The session history index inside state.db."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from mimo_tui.memory.history_index import HistoryIndex


def test_missing_state_db_gives_no_hits_and_creates_nothing(tmp_path: Path) -> None:
    index = HistoryIndex(tmp_path / "state.db")
    assert index.search("anything") == []
    assert not (tmp_path / "state.db").exists()


def test_add_and_search_all_kinds(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    with sqlite3.connect(db) as other:  # the session store's own tables live in the same file
        other.execute("CREATE TABLE messages(id INTEGER PRIMARY KEY, text TEXT)")
    index = HistoryIndex(db)
    index.add("s1", 1, "user", "user", "please fix the flaky upload test")
    index.add("s1", 2, "assistant", "tool_input", "pytest tests/test_upload.py -k flaky")
    index.add("s1", 3, "tool", "tool_output", "1 failed: ConnectionResetError in upload")
    index.add("s2", 1, "tool", "error", "Permission denied: /etc/café")
    hits = index.search("upload")
    assert {(h.session_id, h.message_id) for h in hits} == {("s1", "1"), ("s1", "2"), ("s1", "3")}
    assert all("\x02" in h.snippet for h in hits)
    assert [h.kind for h in index.search("cafe")] == ["error"]
    assert [h.message_id for h in index.search("upload", session_id="s1", kinds=("tool_output",))] == ["3"]
    assert index.search("upload", session_id="s2") == []
    index.forget_session("s1")
    assert index.search("upload") == []
    with sqlite3.connect(db) as other:
        assert other.execute("SELECT count(*) FROM messages").fetchone() == (0,)


@pytest.mark.parametrize("query", ['"', "( NEAR * -", "AND", "", "🙂", "a:b", "NOT NOT"])
def test_hostile_history_queries_never_raise(tmp_path: Path, query: str) -> None:
    index = HistoryIndex(tmp_path / "state.db")
    index.add("s1", 1, "user", "user", "and not near the end")
    assert isinstance(index.search(query), list)


def test_unknown_kind_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="history kind"):
        HistoryIndex(tmp_path / "state.db").add("s1", 1, "user", "shout", "x")


def test_second_reader_sees_new_messages(tmp_path: Path) -> None:
    writer = HistoryIndex(tmp_path / "state.db")
    writer.add("s1", 1, "user", "user", "first words")
    reader = HistoryIndex(tmp_path / "state.db")
    assert len(reader.search("first")) == 1
    assert reader.search("second") == []
    writer.add("s1", 2, "assistant", "assistant", "first answer, second thought")
    assert len(reader.search("first")) == 2
    assert len(reader.search("second")) == 1
