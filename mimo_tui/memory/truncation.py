"""Section-aware truncation: every heading kept, bodies filled in order, a marker saying what was cut and where."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from mimo_tui.memory.sections import split_sections

MARKER_RESERVE = 60


@dataclass(frozen=True)
class Fitted:
    """Text cut to a token cap: the text, its tokens, and how many tokens of the original were left out."""

    text: str
    tokens: int
    cut_tokens: int
    full_tokens: int


def fit_markdown(
    text: str,
    cap: int,
    source: str,
    count: Callable[[str], int],
    full: int | None = None,
) -> Fitted:
    """Fit `text` under `cap` tokens keeping every heading; `full` may carry its known token count."""
    full = count(text) if full is None else full
    if full <= cap:
        return Fitted(text, full, 0, full)
    lines = text.split("\n")
    costs = _LineCosts(lines, count)
    heading_rows = set()
    body_rows: list[int] = []
    cut_titles: list[str] = []
    for section in split_sections(text):
        if section.level:
            heading_rows.add(section.line - 1)
        body_rows += range(section.body_start - 1, section.body_start - 1 + len(section.body))
    keep = set(heading_rows)
    budget = cap - MARKER_RESERVE - sum(costs[row] for row in heading_rows)
    if budget < 0:
        # Even the headings alone overflow: keep as many as fit, in order.
        keep = set()
        budget = cap - MARKER_RESERVE
        for row in sorted(heading_rows):
            if costs[row] > budget:
                break
            keep.add(row)
            budget -= costs[row]
        budget = 0
    for row in body_rows:
        if costs[row] > budget:
            break
        keep.add(row)
        budget -= costs[row]
    for section in split_sections(text):
        rows = range(section.body_start - 1, section.body_start - 1 + len(section.body))
        if section.level and any(row not in keep and lines[row].strip() for row in rows):
            cut_titles.append(section.title)
    result = _assemble(lines, keep, full, source, cut_titles, count)
    kept_bodies = sorted(row for row in keep if row not in heading_rows)
    while result.tokens > cap and kept_bodies:
        # Per-line counts can undercount the joined text a little: drop at least the excess, then recount.
        excess = result.tokens - cap
        while excess > 0 and kept_bodies:
            row = kept_bodies.pop()
            keep.discard(row)
            excess -= max(costs[row], 1)
        result = _assemble(lines, keep, full, source, cut_titles, count)
    return result


class _LineCosts:
    """Token counts of lines, computed only for the lines truncation looks at."""

    def __init__(self, lines: list[str], count: Callable[[str], int]) -> None:
        self._lines = lines
        self._count = count
        self._known: dict[int, int] = {}

    def __getitem__(self, row: int) -> int:
        if row not in self._known:
            self._known[row] = self._count(self._lines[row] + "\n")
        return self._known[row]


def _assemble(lines: list[str], keep: set[int], full: int, source: str, cut_titles: list[str],
              count: Callable[[str], int]) -> Fitted:
    body = "\n".join(lines[row] for row in sorted(keep)).rstrip("\n")
    kept = count(body)
    named = ", ".join(cut_titles[:3]) + (f" and {len(cut_titles) - 3} more" if len(cut_titles) > 3 else "")
    where = f" from {named}" if named else ""
    marker = f"[… {max(full - kept, 1)} of {full} tokens cut{where}; full file: {source}]"
    text = f"{body}\n{marker}"
    return Fitted(text, count(text), max(full - kept, 1), full)


def fit_plain(text: str, cap: int, count: Callable[[str], int], head: Callable[[str, int], tuple[str, int]]) -> Fitted:
    """Keep the head of a plain text under `cap` tokens, with a marker when something was cut."""
    marker_room = 16
    kept, full = head(text, max(cap - marker_room, 0))
    if full <= cap:
        return Fitted(text, full, 0, full)
    kept = kept.rstrip()
    if not kept:
        return Fitted("", 0, full, full)
    candidate = f"{kept}\n[… cut, {full} tokens in all]"
    return Fitted(candidate, count(candidate), full - count(kept), full)
