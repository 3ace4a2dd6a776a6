"""Plain FTS5 bm25's exact top k from cached per-term score lists, without asking FTS5 to score every match.

A term's list is FTS5's own bm25 of that term searched alone, for every chunk holding it, best first. For a query
of several terms FTS5 adds the same per-term numbers, in query order (one bm25 summand per phrase; idf, document
length and the average length do not depend on the other phrases), so adding a chunk's list entries in query
order gives FTS5's score bit for bit.

The search (Fagin's threshold algorithm, with cuts chosen to score as few chunks as possible): score the chunks
of each list's first entries, which gives a k-th score θ; then choose one cut per list such that the entries
at the cuts add up to at most θ. A chunk below every cut scores at most that sum, so it cannot beat the k-th
score (at most tie with it): scoring the chunks above the cuts is enough. If the cuts are deep, the lists are
first read further to raise θ. Every chunk needed is scored exactly; nothing is dropped.
"""

from __future__ import annotations

import heapq
import itertools
import math
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from collections.abc import Set as AbstractSet
from itertools import repeat
from operator import add

FIRST_DEPTH = 64
# Finish as soon as the cuts ask for at most this many times the chunks scored so far; else read deeper first.
FINISH_RATIO = 2.0
# Sums within this relative distance of θ count as ties (FTS5 may add the same numbers in another rounding).
TIE = 1e-9
# A filter keeping at most this many rows per hit wanted is scored row by row instead of through the lists.
DIRECT_FROM = 100
# Above this many (positions per list) ^ (lists - 1) the cut search uses every other position.
MAX_CUT_COMBINATIONS = 1500


class TermList:
    """One term's exact bm25 contribution to every chunk holding it: by rowid, and the rowids best first.

    `groups`, when known, holds the chunks by (column-weighted count of the term, chunk length in tokens): bm25
    depends on nothing else per chunk, so a few hundred groups give every score again under new index totals,
    and a list follows appended chunks without being read again (fts_query.TermStatistics.rows_changed).
    """

    __slots__ = ("scores", "order", "steps", "groups", "lengths", "totals")

    def __init__(self, best_first: Iterable[tuple[int, float]]) -> None:
        shared: dict[float, float] = {}
        rows = [(rowid, shared.setdefault(score, score)) for rowid, score in best_first]  # equal floats stored once
        self.scores: dict[int, float] = dict(rows)
        self.order = array("q", [rowid for rowid, _ in rows])
        self.steps = _steps([score for _, score in rows])
        self.groups: dict[tuple[float, int], list[int]] | None = None
        # A list read back from storage: each row's length and the index's (rows, tokens) it was scored under,
        # from which its groups are recovered when it must follow a change.
        self.lengths: array | None = None
        self.totals: tuple[int, int] | None = None

    @classmethod
    def from_arrays(cls, order: array, scores: array) -> TermList:
        """A list read back from storage: rowids best first and their scores (no float sharing: read at C speed)."""
        made = cls.__new__(cls)
        made.scores = dict(zip(order, scores))
        made.order = order
        made.steps = _steps(scores.tolist())
        made.groups = None
        made.lengths = None
        made.totals = None
        return made

    @classmethod
    def from_groups(cls, groups: dict[tuple[float, int], list[int]], score_of: dict[tuple[float, int], float]) -> TermList:
        """A list built from its groups and each group's score: rows of equal score keep their group's order."""
        made = cls.__new__(cls)
        ranked = sorted(groups, key=lambda key: -score_of[key])
        made.order = array("q", itertools.chain.from_iterable(groups[key] for key in ranked))
        ordered_scores = list(itertools.chain.from_iterable(repeat(score_of[key], len(groups[key])) for key in ranked))
        made.scores = dict(zip(made.order, ordered_scores))
        made.steps = _steps(ordered_scores)
        made.groups = groups
        made.lengths = None
        made.totals = None
        return made

    def __len__(self) -> int:
        return len(self.order)

    def cut_at(self, most: float) -> int:
        """The first position whose contribution is at most `most`."""
        return bisect_left(self.order, -most, key=lambda rowid: -self.scores[rowid])


def _steps(scores: list[float]) -> list[tuple[int, float]]:
    """Cut positions worth trying, ascending (geometric, each moved to the end of its run of equal scores), with
    the contribution at each; the first is (0, best) and the last (len, 0.0)."""
    positions = {0, len(scores)}
    depth = 8.0
    while depth < len(scores):
        # moved past its run of equal scores, so the contribution at the cut is strictly lower
        positions.add(bisect_right(scores, -scores[int(depth) - 1], lo=int(depth), key=lambda score: -score))
        depth *= 1.6
    return [(position, scores[position] if position < len(scores) else 0.0) for position in sorted(positions)]


def _score(lists: Sequence[TermList], rowids: list[int]) -> list[float]:
    """Each chunk's score, its terms' contributions added in query order as FTS5 does."""
    total = list(map(lists[0].scores.get, rowids, repeat(0.0)))
    for term in lists[1:]:
        total = list(map(add, total, map(term.scores.get, rowids, repeat(0.0))))
    return total


def _cuts(lists: Sequence[TermList], theta: float) -> tuple[int, ...]:
    """Per-list cut positions, fewest entries above them in total, whose contributions add up to at most θ."""
    limit = theta * (1 + TIE)
    grids = [term.steps for term in lists[:-1]]
    while math.prod(len(grid) for grid in grids) > MAX_CUT_COMBINATIONS:
        if all(len(grid) <= 2 for grid in grids):
            # Many terms: an equal share of θ each is a valid (if not the cheapest) set of cuts.
            return tuple(term.cut_at(limit / len(lists)) for term in lists)
        grids = [grid[::2] + ([grid[-1]] if len(grid) % 2 == 0 else []) for grid in grids]
    last = lists[-1]
    best: tuple[int, tuple[int, ...]] | None = None
    for chosen in itertools.product(*grids):
        spent = 0.0
        for _, ceiling in chosen:
            spent += ceiling
        if spent > limit:
            continue
        tail = last.cut_at(limit - spent)
        cost = tail + sum(position for position, _ in chosen)
        if best is None or cost < best[0]:
            best = (cost, tuple(position for position, _ in chosen) + (tail,))
    return best[1] if best is not None else tuple(len(term) for term in lists)


def exact_top_k(lists: Sequence[TermList], k: int, allowed: AbstractSet[int] | None = None) -> list[tuple[int, float]]:
    """The best `k` (rowid, score) of the terms OR'ed, scores as FTS5's bm25 gives them; `lists` in query order.

    With `allowed` (the rows a filter keeps), only those rows count. FTS5 scores a filtered search with the whole
    index's statistics, so the whole index's lists give its scores; the cuts stay valid bounds, θ just grows slower.
    """
    if k <= 0 or not lists:
        return []
    if allowed is not None and len(allowed) <= DIRECT_FROM * k:
        # A narrow filter: scoring its rows outright is cheaper than walking the lists for them.
        rowids = [rowid for rowid in allowed if any(rowid in term.scores for term in lists)]
        ranked = sorted(zip(rowids, _score(lists, rowids)), key=lambda item: -item[1])
        return ranked[:k]
    if len(lists) == 1:
        term = lists[0]
        if allowed is None:
            return [(rowid, term.scores[rowid]) for rowid in term.order[:k]]
        return [(rowid, term.scores[rowid]) for rowid in itertools.islice(filter(allowed.__contains__, term.order), k)]
    scored: dict[int, float] = {}
    best: list[float] = []  # the k best scores so far, lowest (the k-th) first

    def score(depths: Sequence[int]) -> None:
        fresh: set[int] = set()
        for term, depth in zip(lists, depths):
            fresh.update(term.order[:depth])
        fresh.difference_update(scored)
        if allowed is not None:
            fresh.intersection_update(allowed)
        rowids = list(fresh)
        scores = _score(lists, rowids)
        scored.update(zip(rowids, scores))
        best[:] = heapq.nlargest(k, itertools.chain(best, scores))
        best.reverse()

    depth = FIRST_DEPTH
    longest = max(len(term) for term in lists)
    score([depth] * len(lists))
    while True:
        theta = best[0] if len(best) >= k else 0.0
        cuts = _cuts(lists, theta)
        if all(cut <= depth for cut in cuts) or sum(cuts) <= FINISH_RATIO * len(scored) or depth >= longest:
            score(cuts)
            break
        depth *= 2
        score([depth] * len(lists))
    kth = best[0] if best else 0.0
    return sorted(((rowid, value) for rowid, value in scored.items() if value >= kth), key=lambda item: -item[1])[:k]
