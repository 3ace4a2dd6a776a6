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
    line_tokens: list[int] | None = None,
) -> Fitted:
    """Fit `text` under `cap` tokens keeping every heading; `line_tokens` may carry cached per-line counts."""
    full = count(text)
    if full <= cap:
        return Fitted(text, full, 0, full)
    lines = text.split("\n")
    costs = line_tokens if line_tokens is not None and len(line_tokens) == len(lines) else [count(line + "\n") for line in lines]
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
        keep.discard(kept_bodies.pop())
        result = _assemble(lines, keep, full, source, cut_titles, count)
    return result


def _assemble(lines: list[str], keep: set[int], full: int, source: str, cut_titles: list[str],
              count: Callable[[str], int]) -> Fitted:
    body = "\n".join(lines[row] for row in sorted(keep)).rstrip("\n")
    kept = count(body)
    named = ", ".join(cut_titles[:3]) + (f" and {len(cut_titles) - 3} more" if len(cut_titles) > 3 else "")
    where = f" from {named}" if named else ""
    marker = f"[… {max(full - kept, 1)} of {full} tokens cut{where}; full file: {source}]"
    text = f"{body}\n{marker}"
    return Fitted(text, count(text), max(full - kept, 1), full)


def fit_plain(text: str, cap: int, count: Callable[[str], int]) -> Fitted:
    """Keep the head of a plain text under `cap` tokens, with a marker when something was cut."""
    full = count(text)
    if full <= cap:
        return Fitted(text, full, 0, full)
    keep = len(text) * max(cap - 20, 0) // full
    while keep > 0:
        candidate = f"{text[:keep].rstrip()}\n[… cut, {full} tokens in all]"
        used = count(candidate)
        if used <= cap:
            return Fitted(candidate, used, full - count(text[:keep]), full)
        keep = keep * 9 // 10
    return Fitted("", 0, full, full)
