"""Ranking quality against plain FTS5 bm25 on a Zipf corpus with planted relevant chunks (issue 21, item 1)."""

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

CHUNKS = 20_000
# case -> (query words, {word: (copies in each relevant chunk, other chunks holding it, copies there)}, relevant rowids)
CASES: dict[str, tuple[tuple[str, ...], dict[str, tuple[int, int, int]], tuple[int, ...]]] = {
    # a rare word also in 60 other chunks (twice there) + a common word: the relevant chunks need both
    "rare_plus_common": (("xarare", "xacommon"), {"xarare": (1, 60, 2), "xacommon": (3, 3000, 1)}, (5001, 9002, 15003)),
    # two mid-frequency words of ~1.9k chunks each
    "two_mid": (("xbmid", "xbmidtwo"), {"xbmid": (1, 1900, 1), "xbmidtwo": (1, 1900, 1)}, (4004, 11005, 17006)),
    # the same shape on both sides of the old 2,000-match budget: 63 + 1,919 passed, 63 + 1,977 failed
    "flip_1919": (("xcrare", "xcmid"), {"xcrare": (1, 60, 2), "xcmid": (3, 1916, 1)}, (3007, 8008, 13009)),
    "flip_1977": (("xerare", "xemid"), {"xerare": (1, 60, 2), "xemid": (3, 1974, 1)}, (3010, 8011, 13012)),
    # two common words (~15% of chunks each) whose relevant chunks are the oldest ones
    "two_common_old": (("xdcom", "xdcomtwo"), {"xdcom": (3, 3000, 1), "xdcomtwo": (3, 3000, 1)}, (2, 13, 24)),
}


def plantings() -> dict[int, list[str]]:
    """rowid -> words to put at the start of its body."""
    rng = random.Random(21)
    extra: dict[int, list[str]] = {}
    for words, spec, relevant in CASES.values():
        used = set(relevant)  # within a case only the relevant chunks hold more than one of its words
        for word, (in_relevant, others, copies) in spec.items():
            for rowid in relevant:
                extra.setdefault(rowid, []).extend([word] * in_relevant)
            pool = [rowid for rowid in range(1, CHUNKS + 1) if rowid not in used]
            chosen = rng.sample(pool, others)
            used.update(chosen)
            for rowid in chosen:
                extra.setdefault(rowid, []).extend([word] * copies)
    return extra


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[MemoryIndex, sqlite3.Connection]:
    from zipf_corpus import build_index

    extra = plantings()
    base = tmp_path_factory.mktemp("zipf")

    def plant(rowid: int, heading: list[str], body: list[str]) -> tuple[list[str], list[str]]:
        added = extra.get(rowid, [])
        return heading, added + body[len(added):]

    index = build_index(base / "index.db", base / "mem", CHUNKS, seed=5, plant=plant)
    reference = sqlite3.connect(base / "index.db")
    yield index, reference
    index.close()
    reference.close()


def chunk_id(heading: str) -> int:
    return int(heading.split()[0][1:])


def plain_bm25(reference: sqlite3.Connection, words: tuple[str, ...] | list[str], limit: int = 10) -> list[tuple[int, float]]:
    rows = reference.execute("SELECT rowid, -rank FROM chunks_fts WHERE chunks_fts MATCH ? ORDER BY rank LIMIT ?",
                             (" OR ".join(quote(word) for word in words), limit)).fetchall()
    return [(rowid, score) for rowid, score in rows]


@pytest.mark.parametrize("case", sorted(CASES))
def test_planted_relevant_chunks_that_plain_bm25_finds_are_in_the_top_10(corpus, case: str) -> None:
    index, reference = corpus
    words, spec, relevant = CASES[case]
    for word, (_, others, _) in spec.items():
        assert reference.execute("SELECT count(*) FROM chunks_fts WHERE chunks_fts MATCH ?", (quote(word),)).fetchone()[0] == others + 3
    expected = {rowid for rowid, _ in plain_bm25(reference, words)} & set(relevant)
    assert expected == set(relevant), f"plain bm25 should rank the planted chunks first for {case}"
    found = [chunk_id(hit.heading) for hit in index.search(" ".join(words), limit=10, reconcile=False)]
    assert expected <= set(found), f"{case}: bm25 top 10 has {sorted(expected)}, mimo's top 10 is {found}"


@pytest.mark.parametrize("name, ranks", [("rare", range(5000, 20000)), ("mid", range(300, 3000)), ("common", range(0, 100))])
def test_top_10_scores_equal_plain_bm25_on_every_frequency_class(corpus, name: str, ranks: range) -> None:
    index, reference = corpus
    words = vocabulary()
    rng = random.Random(len(name))
    for _ in range(25):
        query = [words[rng.choice(ranks)] for _ in range(rng.randint(1, 3))]
        hits = index.search(" ".join(query), limit=10, reconcile=False)
        expected = plain_bm25(reference, query, fetch_count(10))
        kept = [score for _, score in expected if score >= 0.15 * expected[0][1]][:10] if expected else []
        assert len(hits) == len(kept) and all(abs(hit.score - score) < 1e-3 for hit, score in zip(hits, kept)), query
