"""Exactly plain FTS5 bm25's top k, without scoring every match when a bound proves the rest cannot enter.

Over the whole index, a query of several weighty terms is answered from cached per-term score lists
(term_lists.py: FTS5's own per-term numbers added in query order, with a threshold that proves the rest cannot
enter). With filters, or where that does not apply, the sets below are used.

FTS5's bm25 is a sum over the query's terms of idf(t) * w * (k1 + 1) / (w + D), so one term adds less than
idf(t) * (k1 + 1) to any chunk (w / (w + D) < 1); a common term's exact largest addition is the top score of
the term searched alone, cached until the index changes. Every matching chunk holds exactly one non-empty set A
of the query's terms, and scores at most the sum of A's bounds. So the sets are visited best bound first, each
with one FTS5 query that holds every term once (`(a AND b) NOT (c)`, whose bm25 is the chunk's full score), and
the search stops as soon as the k-th score found reaches the next set's bound: nothing left can enter the top
k. Visiting every set scores every match, which is plain bm25; the result never depends on a shortcut.

A term in more than half of the chunks gets FTS5's floor idf of 1e-6 (at most 2.2e-6 to any score): such terms
only break ties, so once another term is weighty they are left out of the sets and lists, which moves no score
by more than 2.2e-6 per such term; alone they are ranked by plain bm25 like any query.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

from mimo_tui.memory.fts_query import TermStatistics, fetch_count, query_tokens, quote
from mimo_tui.memory.term_lists import TermList, exact_top_k

K1 = 1.2
# Scoring every match costs about 1 µs per matching chunk; below this many, just do it.
PLAIN_BUDGET = 1000
# Terms matching more chunks than this get their exact bound from the cached single-term list.
TIGHT_FROM = PLAIN_BUDGET // 2
# How long a cached single-term list is (enough for the 3 x limit fetched for a limit of 10 and more).
TERM_TOP = 60
# Above this many weighty terms the 2^n sets cost more than plain bm25.
MAX_SET_TERMS = 4
# A term in more than half the chunks gets FTS5's floor idf of 1e-6: it cannot reorder anything that matters.
NEGLIGIBLE = 1e-4

# run(match expression, how many) -> [(rowid, score)], best first; score = -rank (higher is better).
Runner = Callable[[str, int], list[tuple[int, float]]]
# term_top(token) -> the cached best TERM_TOP (rowid, score) of that term alone over the whole index.
TermTop = Callable[[str], list[tuple[int, float]]]
# term_list(token) -> that term's cached bm25 for every chunk of the whole index (term_lists.TermList).
TermLists = Callable[[str], TermList]
# allowed() -> the rowids a search's filters keep (scope, type, session).
AllowedRows = Callable[[], AbstractSet[int]]


def term_bound(frequency: int, rows: int) -> float:
    """More than any chunk can get from a term matching `frequency` of `rows` chunks (FTS5's idf, floored at 1e-6)."""
    idf = math.log((rows - frequency + 0.5) / (frequency + 0.5)) if rows > 0 else 0.0
    return max(idf, 1e-6) * (K1 + 1) * (1 + 1e-9) + 1e-12


def any_of(terms: Sequence[str]) -> str:
    return " OR ".join(quote(term) for term in terms)


def _all_of(terms: Sequence[str]) -> str:
    return " AND ".join(quote(term) for term in terms)


def top_k(terms: Sequence[tuple[str, int]], rows: int, k: int, run: Runner,
          term_top: TermTop | None = None, term_list: TermLists | None = None,
          allowed: AllowedRows | None = None) -> tuple[list[tuple[int, float]], str]:
    """The best `k` (rowid, score) for the terms OR'ed, as plain bm25 ranks them; and which path answered.

    `terms` are (token, chunks matching it) in query order, every frequency > 0. `term_list` gives the whole
    index's lists; with a filter, `allowed` gives the rows it keeps (and `term_top`, a whole-index head, is not
    given). FTS5 scores a filtered search with the whole index's statistics, so the lists hold its scores too.
    """
    in_query_order = [token for token, _ in terms]
    ordered = sorted(terms, key=lambda item: item[1])
    tokens = [token for token, _ in ordered]
    total = sum(frequency for _, frequency in ordered)
    bounds = {token: term_bound(frequency, rows) for token, frequency in ordered}
    weighty = [token for token in tokens if bounds[token] > NEGLIGIBLE]
    if term_list is not None and total > PLAIN_BUDGET:
        # A term in over half the chunks moves no score by more than 2.2e-6 once another term is weighty, so it is
        # left out then; a query of such terms only (stopwords: "the of and") is ranked by all of them. A single
        # such term is ranked from its list too: a list follows every append by reading the new rows, where the
        # cached head below had to be scored again by FTS5 over every match (~230 ms at 100k chunks).
        listed = [term_list(token) for token in in_query_order if token in weighty or not weighty]
        return exact_top_k(listed, k, allowed() if allowed is not None else None), "lists"
    if len(ordered) == 1 and term_top is not None and k <= TERM_TOP and total > PLAIN_BUDGET:
        return term_top(tokens[0])[:k], "term-cache"
    if len(ordered) == 1 or total <= PLAIN_BUDGET:
        return run(any_of(tokens), k), "plain"
    if term_top is not None:
        for token, frequency in ordered:
            if frequency > TIGHT_FROM:
                best = term_top(token)
                bounds[token] = min(bounds[token], best[0][1] * (1 + 1e-9) + 1e-12 if best else 0.0)
    weighty = [token for token in tokens if bounds[token] > NEGLIGIBLE]
    if not weighty or len(weighty) > MAX_SET_TERMS:
        return run(any_of(tokens), k), "plain"
    if len(weighty) == 1 and term_top is not None and k <= TERM_TOP:
        return term_top(weighty[0])[:k], "term-cache"
    sets = sorted((held for size in range(1, len(weighty) + 1) for held in itertools.combinations(weighty, size)),
                  key=lambda held: -sum(bounds[token] for token in held))
    found: list[tuple[int, float]] = []
    for visited, held in enumerate(sets):
        if len(found) >= k and found[k - 1][1] >= sum(bounds[token] for token in held):
            return found, f"sets/{visited}"
        missing = [token for token in weighty if token not in held]
        found += run(f"({_all_of(held)}) NOT ({any_of(missing)})" if missing else _all_of(held), k)
        found = sorted(found, key=lambda item: -item[1])[:k]
    return found, f"sets/{len(sets)}"


@dataclass(frozen=True)
class Ranked:
    """A query's best (rowid, score) as plain bm25 ranks them, the MATCH expression for marking, and the path taken."""

    match: str
    scored: list[tuple[int, float]]
    path: str


def rank_query(stats: TermStatistics, query: str, limit: int, run: Runner,
               run_whole_index: Runner | None = None, allowed: AllowedRows | None = None) -> Ranked | None:
    """Every word of `query` ranked as plain FTS5 bm25 ranks them OR'ed; None when no word occurs in the index.

    `run` answers over the rows being searched (with any filters); `run_whole_index` is given only when that is
    the whole index, so that per-term lists can be cached in `stats` and serve as exact bounds and scores. With
    filters, `allowed` gives the rows they keep: the whole index's lists then rank those rows.
    """
    tokens = query_tokens(query)
    if not tokens or limit <= 0:
        return None
    terms = [(token, count) for token, count in stats.exact_frequencies(tokens) if count > 0]
    if not terms:
        return None
    term_top: TermTop | None = None
    term_list: TermLists | None = stats.term_list if allowed is not None else None
    if run_whole_index is not None:
        term_list = stats.term_list
        whole = run_whole_index

        def term_top(token: str) -> list[tuple[int, float]]:
            return stats.remembered(("top", token.casefold()), lambda: whole(quote(token), TERM_TOP))

    scored, path = top_k(terms, stats.rows(), fetch_count(limit), run, term_top, term_list, allowed)
    return Ranked(any_of([token for token, _ in terms]), scored, path)
