"""History search ranks like plain FTS5 bm25: no query word dropped, no window of newest matches (issue 21, item 1)."""

from __future__ import annotations

import random
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

from zipf_corpus import WORDS_PER_CHUNK, ZipfWords, body_lines, vocabulary  # noqa: E402

from mimo_tui.memory.fts_query import fetch_count, quote  # noqa: E402
from mimo_tui.memory.history_index import KINDS, HistoryIndex  # noqa: E402

MESSAGES = 12_000
SESSIONS = 7
# case -> (query words, {word: (copies in each relevant message, other messages holding it, copies there)}, relevant rowids)
CASES: dict[str, tuple[tuple[str, ...], dict[str, tuple[int, int, int]], tuple[int, ...]]] = {
    # a rare word also in 60 other messages (twice there) + a common word: the relevant messages need both
    "rare_plus_common": (("xarare", "xacommon"), {"xarare": (1, 60, 2), "xacommon": (3, 2500, 1)}, (1501, 3002, 4503)),
    # two mid-frequency words of ~1.1k messages each
    "two_mid": (("xbmid", "xbmidtwo"), {"xbmid": (1, 1100, 1), "xbmidtwo": (1, 1100, 1)}, (1004, 3005, 5006)),
    # the same shape on both sides of the old 2,000-match budget: 63 + 1,919 passed, 63 + 1,977 failed
    "flip_1919": (("xcrare", "xcmid"), {"xcrare": (1, 60, 2), "xcmid": (3, 1916, 1)}, (1007, 2008, 4009)),
    "flip_1977": (("xerare", "xemid"), {"xerare": (1, 60, 2), "xemid": (3, 1974, 1)}, (1010, 2011, 4012)),
    # two common words (~21% of messages each) whose relevant messages are the oldest ones
    "two_common_old": (("xdcom", "xdcomtwo"), {"xdcom": (3, 2500, 1), "xdcomtwo": (3, 2500, 1)}, (2, 13, 24)),
}


def plantings() -> dict[int, list[str]]:
    """rowid -> words to put at the start of its text."""
    rng = random.Random(21)
    extra: dict[int, list[str]] = {}
    for _, spec, relevant in CASES.values():
        used = set(relevant)  # within a case only the relevant messages hold more than one of its words
        for word, (in_relevant, others, copies) in spec.items():
            for rowid in relevant:
                extra.setdefault(rowid, []).extend([word] * in_relevant)
            chosen = rng.sample([rowid for rowid in range(1, MESSAGES + 1) if rowid not in used], others)
            used.update(chosen)
            for rowid in chosen:
                extra.setdefault(rowid, []).extend([word] * copies)
    return extra


def session_of(rowid: int) -> str:
    return f"s{rowid % SESSIONS}"


def kind_of(rowid: int) -> str:
    return KINDS[rowid % len(KINDS)]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[HistoryIndex, sqlite3.Connection]]:
    """A state.db of MESSAGES Zipf messages: the index creates its table, the rest is written in one transaction."""
    extra = plantings()
    zipf = ZipfWords(vocabulary(), seed=5)
    rows = []
    for rowid in range(1, MESSAGES + 1):
        words = zipf.sample(WORDS_PER_CHUNK)
        added = extra.get(rowid, [])
        rows.append((rowid, body_lines(added + words[len(added):]), session_of(rowid), str(rowid), "user",
                     kind_of(rowid), float(rowid)))
    db_path = tmp_path_factory.mktemp("history") / "state.db"
    first = HistoryIndex(db_path)
    first.add(rows[0][2], rows[0][3], rows[0][4], rows[0][5], rows[0][1], rows[0][6])
    first.close()
    reference = sqlite3.connect(db_path)
    with reference:
        reference.executemany("INSERT INTO history_fts(rowid, text, session_id, message_id, role, kind, created_at) "
                              "VALUES (?, ?, ?, ?, ?, ?, ?)", rows[1:])
    index = HistoryIndex(db_path)
    yield index, reference
    index.close()
    reference.close()


def plain_bm25(reference: sqlite3.Connection, words: tuple[str, ...] | list[str], limit: int = 10,
               session_id: str | None = None, kinds: tuple[str, ...] = ()) -> list[tuple[int, float]]:
    clauses, params = "", []
    if session_id is not None:
        clauses, params = " AND session_id = ?", [session_id]
    if kinds:
        clauses += f" AND kind IN ({', '.join('?' * len(kinds))})"
        params += list(kinds)
    return reference.execute(f"SELECT rowid, -rank FROM history_fts WHERE history_fts MATCH ?{clauses} ORDER BY rank LIMIT ?",
                             [" OR ".join(quote(word) for word in words), *params, limit]).fetchall()


def same_scores(hits: list, expected: list[tuple[int, float]]) -> bool:
    """The hits score as plain bm25's top 10 after the search's relative floor (15% of the best)."""
    kept = [score for _, score in expected if score >= 0.15 * expected[0][1]][:10] if expected else []
    return len(hits) == len(kept) and all(abs(hit.score - score) < 1e-3 for hit, score in zip(hits, kept))


@pytest.mark.parametrize("case", sorted(CASES))
def test_planted_history_rows_that_plain_bm25_finds_are_in_the_top_10(corpus, case: str) -> None:
    index, reference = corpus
    words, spec, relevant = CASES[case]
    for word, (_, others, _) in spec.items():
        assert reference.execute("SELECT count(*) FROM history_fts WHERE history_fts MATCH ?", (quote(word),)).fetchone()[0] == others + 3
    expected = {rowid for rowid, _ in plain_bm25(reference, words)} & set(relevant)
    assert expected == set(relevant), f"plain bm25 should rank the planted messages first for {case}"
    found = [int(hit.message_id) for hit in index.search(" ".join(words), limit=10)]
    assert expected <= set(found), f"{case}: bm25 top 10 has {sorted(expected)}, history search's top 10 is {found}"


@pytest.mark.parametrize("name, ranks", [("rare", range(5000, 20000)), ("mid", range(300, 3000)), ("common", range(0, 100))])
def test_history_top_10_scores_equal_plain_bm25_on_every_frequency_class(corpus, name: str, ranks: range) -> None:
    index, reference = corpus
    words = vocabulary()
    rng = random.Random(len(name))
    for _ in range(20):
        # distinct words: search counts a repeated word once, while FTS5 would count each repeat as a phrase
        query = list(dict.fromkeys(words[rng.choice(ranks)] for _ in range(rng.randint(1, 3))))
        hits = index.search(" ".join(query), limit=10)
        assert same_scores(hits, plain_bm25(reference, query, fetch_count(10))), query


@pytest.mark.parametrize("case", ["rare_plus_common", "two_common_old"])
def test_filtered_history_search_equals_plain_bm25_with_the_same_filter(corpus, case: str) -> None:
    index, reference = corpus
    words, _, relevant = CASES[case]
    session, kinds = session_of(relevant[0]), (kind_of(relevant[0]), "error")
    hits = index.search(" ".join(words), limit=10, session_id=session, kinds=kinds)
    expected = plain_bm25(reference, words, fetch_count(10), session, kinds)
    assert same_scores(hits, expected), ([hit.score for hit in hits], expected)
    assert str(relevant[0]) in {hit.message_id for hit in hits}
    assert all(hit.session_id == session and hit.kind in kinds for hit in hits)


@pytest.mark.parametrize("name, ranks", [("mid", range(300, 3000)), ("common", range(0, 100))])
def test_filtered_history_search_ranks_from_the_exact_term_lists_as_plain_bm25(corpus, name: str, ranks: range) -> None:
    # Issue 21: a search with a session filter took the old FTS5 paths (every match scored, then filtered); it now
    # ranks the filter's messages from the same cached per-term lists as an unfiltered search, with equal scores.
    index, reference = corpus
    words = vocabulary()
    rng = random.Random(len(name) + 16)
    for _ in range(15):
        query = list(dict.fromkeys(words[rng.choice(ranks)] for _ in range(rng.randint(1, 3))))
        session = f"s{rng.randrange(SESSIONS)}"
        kinds = tuple(rng.sample(KINDS, 2)) if rng.random() < 0.5 else ()
        hits = index.search(" ".join(query), limit=10, session_id=session, kinds=kinds or None)
        assert same_scores(hits, plain_bm25(reference, query, fetch_count(10), session, kinds)), (query, session, kinds)
        assert all(hit.session_id == session and (not kinds or hit.kind in kinds) for hit in hits)
        if name == "common":
            assert index.ranking_path(" ".join(query), session_id=session, kinds=kinds or None) == "lists", query


def test_a_filtered_search_follows_appends_from_this_and_other_connections(tmp_path: Path) -> None:
    db_path = tmp_path / "state.db"
    index = HistoryIndex(db_path)
    index.add("s0", 0, "user", "user", "start")
    with sqlite3.connect(db_path) as other:
        other.executemany("INSERT INTO history_fts(text, session_id, message_id, role, kind, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                          [(f"common words here {'alpha' if n % 3 else 'beta'} filler{n}", f"s{n % 4}", str(n), "user",
                            "user", float(n)) for n in range(1, 2400)])
    assert index.ranking_path("common alpha", session_id="s1") == "lists"
    before = {hit.message_id for hit in index.search("alpha zeta", session_id="s1")}
    index.add("s1", 5000, "user", "user", "zeta zeta zeta alpha: the new message of s1")  # this connection
    index.add("s2", 5001, "user", "user", "zeta zeta zeta alpha: another session's message")
    hits = index.search("common alpha zeta", session_id="s1")
    assert hits[0].message_id == "5000" and "5000" not in before
    assert all(hit.session_id == "s1" for hit in hits)
    with sqlite3.connect(db_path) as other:  # another process appends: its commit is seen too
        other.execute("INSERT INTO history_fts(text, session_id, message_id, role, kind, created_at) VALUES "
                      "('zeta zeta zeta zeta alpha from elsewhere', 's1', '6000', 'user', 'user', 1.0)")
    hits = index.search("common alpha zeta", session_id="s1")
    assert [hit.message_id for hit in hits[:2]] == ["6000", "5000"]
    expected = plain_bm25(sqlite3.connect(db_path), ["common", "alpha", "zeta"], fetch_count(10), "s1")
    assert same_scores(hits, expected)
    index.close()
