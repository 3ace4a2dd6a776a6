"""Exactly plain FTS5 bm25's top k, without scoring every match when a bound proves the rest cannot enter.

FTS5's bm25 is a sum over the query's terms of idf(t) * w * (k1 + 1) / (w + D), so one term adds less than
idf(t) * (k1 + 1) to any chunk (w / (w + D) < 1). Two exact shortcuts follow, both checked per query:
- rare-first: score (with every term) only the chunks holding one of the rarest terms E; a chunk holding none
  of them scores below the sum of the other terms' bounds, so when the k-th score found reaches that sum the
  top k is final.
- all-terms: score only the chunks holding every term; any other chunk misses a term and scores below the sum
  of the bounds less the smallest one.
When neither proves the answer, every match is scored (plain bm25), so the result never depends on a shortcut.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from mimo_tui.memory.fts_query import quote

K1 = 1.2
# Scoring every match costs about 1 µs per matching chunk; below this many, just do it.
PLAIN_BUDGET = 3000
# A rare-first candidate set larger than this is no cheaper than the shortcuts after it.
RARE_FIRST_BUDGET = 4000

# run(match expression, how many) -> [(rowid, score)], best first; score = -rank (higher is better).
Runner = Callable[[str, int], list[tuple[int, float]]]


def term_bound(frequency: int, rows: int) -> float:
    """More than any chunk can get from a term matching `frequency` of `rows` chunks (FTS5's idf, floored at 1e-6)."""
    idf = math.log((rows - frequency + 0.5) / (frequency + 0.5)) if rows > 0 else 0.0
    return max(idf, 1e-6) * (K1 + 1) * (1 + 1e-9) + 1e-12


def any_of(terms: Sequence[str]) -> str:
    return " OR ".join(quote(term) for term in terms)


def _merged(parts: list[list[tuple[int, float]]], k: int) -> list[tuple[int, float]]:
    return sorted((item for part in parts for item in part), key=lambda item: -item[1])[:k]


def top_k(terms: Sequence[tuple[str, int]], rows: int, k: int, run: Runner) -> tuple[list[tuple[int, float]], str]:
    """The best `k` (rowid, score) for the terms OR'ed, as plain bm25 ranks them; and which path proved it.

    `terms` are (token, chunks matching it), every frequency > 0.
    """
    ordered = sorted(terms, key=lambda item: item[1])
    tokens = [token for token, _ in ordered]
    everything = any_of(tokens)
    total = sum(frequency for _, frequency in ordered)
    if len(ordered) == 1 or total <= PLAIN_BUDGET:
        return run(everything, k), "plain"
    bounds = [term_bound(frequency, rows) for _, frequency in ordered]
    spent = 0
    for cut in range(1, len(ordered)):
        spent += ordered[cut - 1][1]
        if spent > RARE_FIRST_BUDGET:
            break
        rare, rest = any_of(tokens[:cut]), any_of(tokens[cut:])
        # Each term appears once per expression, so bm25 of these two is the full-query score of each chunk.
        best = _merged([run(f"({rare}) AND ({rest})", k), run(f"({rare}) NOT ({rest})", k)], k)
        if len(best) >= k and best[-1][1] >= sum(bounds[cut:]):
            return best, f"rare-first/{cut}"
    best = run(" AND ".join(quote(token) for token in tokens), k)
    if len(best) >= k and best[-1][1] >= sum(bounds) - min(bounds):
        return best, "all-terms"
    return run(everything, k), "plain"
