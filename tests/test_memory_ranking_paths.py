"""Filtered searches and stopword-only queries take the exact term-list path and still rank as plain bm25 (issue 21)."""

from __future__ import annotations

import random
import sqlite3
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

from zipf_corpus import vocabulary  # noqa: E402

from mimo_tui.memory.fts_query import fetch_count, quote  # noqa: E402
from mimo_tui.memory.index import MemoryIndex  # noqa: E402

CHUNKS = 6_000
FILTERS = {
    "type": ({"type": "checkpoint"}, "AND c.type = 'checkpoint'"),
    "session": ({"session_id": "s1"}, "AND f.session_id = 's1'"),
    "narrow session": ({"session_id": "s9"}, "AND f.session_id = 's9'"),
}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[MemoryIndex, sqlite3.Connection]:
    from zipf_corpus import build_index

    base = tmp_path_factory.mktemp("zipf-paths")
    build_index(base / "index.db", base / "mem", CHUNKS, seed=9).close()
    db = sqlite3.connect(base / "index.db")
    with db:  # a quarter of the chunks are checkpoints; files in thirds belong to sessions s1, s2, and s9 has one
        db.execute("UPDATE chunks SET type = 'checkpoint' WHERE id % 4 = 0")
        db.execute("UPDATE files SET session_id = 's' || (1 + id % 3)")
        db.execute("UPDATE files SET session_id = 's9' WHERE id = 7")
    index = MemoryIndex(base / "index.db", {"project": base / "mem"})
    yield index, db
    index.close()
    db.close()


def plain_bm25(db: sqlite3.Connection, words: list[str], where: str = "") -> list[float]:
    rows = db.execute("SELECT -chunks_fts.rank FROM chunks_fts JOIN chunks c ON c.id = chunks_fts.rowid "
                      "JOIN files f ON f.id = c.file_id WHERE chunks_fts MATCH ? " + where +
                      " ORDER BY chunks_fts.rank LIMIT ?", (" OR ".join(quote(w) for w in words), fetch_count(10))).fetchall()
    scores = [score for (score,) in rows]
    return [score for score in scores if score >= 0.15 * scores[0]][:10] if scores else []


def same_scores(expected: list[float], got: list[float]) -> bool:
    # A term in over half the chunks is left out beside a weighty one: scores move by at most 2.2e-6 each.
    return len(expected) == len(got) and all(abs(a - b) < 1e-3 for a, b in zip(expected, got))


def matching(db: sqlite3.Connection, word: str) -> int:
    return db.execute("SELECT count(*) FROM chunks_fts WHERE chunks_fts MATCH ?", (quote(word),)).fetchone()[0]


@pytest.mark.parametrize("name", sorted(FILTERS))
def test_filtered_searches_rank_as_plain_bm25_through_the_term_lists(corpus, name: str) -> None:
    index, db = corpus
    arguments, where = FILTERS[name]
    words = vocabulary()
    rng = random.Random(len(name))
    for ranks in (range(0, 100), range(100, 600)):
        for _ in range(8):
            query = list(dict.fromkeys(words[rng.choice(ranks)] for _ in range(rng.randint(1, 3))))
            if sum(matching(db, word) for word in set(query)) <= 1000:
                continue  # few matches: FTS5 scores them all, which is plain bm25 by definition
            assert index.ranking_path(" ".join(query), **arguments) == "lists", query
            hits = index.search(" ".join(query), limit=10, reconcile=False, **arguments)
            expected = plain_bm25(db, query, where)
            assert same_scores(expected, [hit.score for hit in hits]), (name, query)


def test_a_query_of_stopwords_only_ranks_as_plain_bm25_through_the_term_lists(corpus) -> None:
    index, db = corpus
    stopwords = [word for word in vocabulary()[:6] if matching(db, word) > CHUNKS // 2][:3]
    assert len(stopwords) >= 2, "the corpus should have words in over half of the chunks"
    for query in (stopwords[:2], stopwords[:3], list(reversed(stopwords))):
        assert index.ranking_path(" ".join(query)) == "lists"
        hits = index.search(" ".join(query), limit=10, reconcile=False)
        assert same_scores(plain_bm25(db, query), [hit.score for hit in hits]), query
