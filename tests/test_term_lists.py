"""The top k from cached per-term lists is FTS5's bm25 top k, bit for bit up to ties (issue 21, item 1).

Random Zipf corpora (several seeds; chunk lengths that vary, and one where every chunk has the same length so
scores tie in large groups), a heading column weighted 2 as in the memory index, queries of 2-5 words from every
frequency class, and words that stem alike (FTS5 then adds the same term twice).
"""

from __future__ import annotations

import itertools
import random
import sqlite3

import pytest

from mimo_tui.memory.fts_query import TOKENIZER, quote
from mimo_tui.memory.term_lists import TermList, exact_top_k

WORDS = [f"w{rank}x" for rank in range(3000)]


def zipf_corpus(seed: int, chunks: int, same_length: bool) -> sqlite3.Connection:
    rng = random.Random(seed)
    weights = list(itertools.accumulate(1.0 / (rank + 1) for rank in range(len(WORDS))))
    db = sqlite3.connect(":memory:")
    db.execute(f"CREATE VIRTUAL TABLE t USING fts5(heading, body, tokenize='{TOKENIZER}')")
    db.execute("INSERT INTO t(t, rank) VALUES('rank', 'bm25(2.0, 1.0)')")
    rows = []
    for _ in range(chunks):
        length = 40 if same_length else rng.randint(5, 120)
        words = rng.choices(WORDS, cum_weights=weights, k=length + 3)
        if rng.random() < 0.05:
            words.append(rng.choice(["running", "runs", "run"]))
        rows.append((" ".join(words[:3]), " ".join(words[3:])))
    db.executemany("INSERT INTO t(heading, body) VALUES (?, ?)", rows)
    return db


def fts5_top(db: sqlite3.Connection, words: list[str], k: int) -> list[tuple[int, float]]:
    return db.execute("SELECT rowid, -rank FROM t WHERE t MATCH ? ORDER BY rank LIMIT ?",
                      (" OR ".join(quote(word) for word in words), k)).fetchall()


def fts5_scores(db: sqlite3.Connection, words: list[str]) -> dict[int, float]:
    return dict(db.execute("SELECT rowid, -rank FROM t WHERE t MATCH ?", (" OR ".join(quote(word) for word in words),)))


def term_list(db: sqlite3.Connection, word: str) -> TermList:
    return TermList(db.execute("SELECT rowid, -rank FROM t WHERE t MATCH ? ORDER BY rank", (quote(word),)))


def queries(rng: random.Random, count: int) -> list[list[str]]:
    classes = [range(0, 20), range(20, 200), range(200, 3000)]
    made = []
    for _ in range(count):
        size = rng.randint(2, 5)
        made.append(list(dict.fromkeys(WORDS[rng.choice(rng.choice(classes))] for _ in range(size))))
    return made + [["running", "run"], ["runs", WORDS[3], WORDS[40]], [WORDS[0], WORDS[1]], [WORDS[5], WORDS[6], WORDS[7]]]


@pytest.mark.parametrize(("seed", "same_length"), [(1, False), (2, False), (3, False), (4, True), (5, True)])
def test_top_k_from_term_lists_is_fts5_bm25_top_k(seed: int, same_length: bool) -> None:
    db = zipf_corpus(seed, 3000, same_length)
    rng = random.Random(seed)
    lists: dict[str, TermList] = {}
    checked = tied = 0
    for words in queries(rng, 120):
        words = [word for word in words if db.execute("SELECT 1 FROM t WHERE t MATCH ?", (quote(word),)).fetchone()]
        if len(words) < 2:
            continue
        for word in words:
            if word not in lists:  # each term's list is read once (setdefault would read it again every time)
                lists[word] = term_list(db, word)
        everything = fts5_scores(db, words)  # every match's score: the same for each k
        for k in (1, 10, 30):
            got = exact_top_k([lists[word] for word in words], k)
            want = fts5_top(db, words, k)
            assert [score for _, score in got] == [score for _, score in want], (words, k)  # bit for bit
            assert all(everything[rowid] == score for rowid, score in got), (words, k)
            # Rowids may differ only among chunks tied at the k-th score.
            kth = want[-1][1]
            assert {rowid for rowid, score in got if score > kth} == {rowid for rowid, score in want if score > kth}
            tied += len({rowid for rowid, _ in got} ^ {rowid for rowid, _ in want}) > 0
            checked += 1
    assert checked > 250
    if same_length:
        assert tied > 0, "the equal-length corpus should produce ties at the k-th score"


def test_many_terms_use_valid_cuts() -> None:
    db = zipf_corpus(9, 4000, False)
    words = [WORDS[rank] for rank in (3, 9, 15, 22, 31, 47, 60, 75, 90, 120, 150, 180)]
    got = exact_top_k([term_list(db, word) for word in words], 10)
    assert [score for _, score in got] == [score for _, score in fts5_top(db, words, 10)]
