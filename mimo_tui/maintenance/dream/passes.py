"""The deterministic passes of dream over MEMORY.md's lines: prune superseded, merge duplicates, absolute dates,
verify cited paths and symbols, and keep the file under its caps. Each pass returns new lines and logs to a review."""

from __future__ import annotations

import re

from mimo_tui.maintenance.dream.dates import absolute_dates
from mimo_tui.maintenance.dream.dedupe import UNVERIFIED, find_duplicates, literal_words, normalise
from mimo_tui.maintenance.dream.entries import Line
from mimo_tui.maintenance.dream.review import Change, DreamReview
from mimo_tui.maintenance.dream.verify import ProjectFacts, missing_citations

_STRUCK = re.compile(r"^~~.+~~\s*$")
_SUPERSEDED_MARK = re.compile(r"^(\(superseded\)|\[superseded\]|superseded:|obsolete:|\[obsolete\])", re.IGNORECASE)
# Cut first when MEMORY.md is over its caps: unverified claims, then the least binding sections, oldest first.
CUT_ORDER = ("Discovered durable knowledge", "Gotchas", "Patterns", "Architecture decisions", "Project context", "Rules")


def prune_superseded(lines: list[Line], review: DreamReview) -> list[Line]:
    """Drop entries marked superseded, struck through, or restated later with another value of the same literal."""
    drop: dict[int, str] = {}
    for line in lines:
        if line.is_entry and (_STRUCK.match(line.body.strip()) or _SUPERSEDED_MARK.match(line.body.strip())):
            drop[line.number] = "marked superseded"
    # The same statement (same section, same words) with other values, written later, supersedes the older one.
    groups: dict[tuple[str, str], list[tuple[Line, frozenset[str]]]] = {}
    for line in lines:
        if line.is_entry and line.number not in drop and line.when:
            values = frozenset(literal_words(line.body))
            if values:
                groups.setdefault((line.section, _template(line.body)), []).append((line, values))
    for group in groups.values():
        newest, newest_values = max(group, key=lambda pair: (pair[0].when, pair[0].number))
        for line, values in group:
            if line.when < newest.when and values != newest_values:
                drop[line.number] = f"superseded by the newer {newest.body.strip()!r}"
    for line in lines:
        if line.number in drop:
            review.deleted.append(Change(line.text.strip(), "", drop[line.number]))
    return [line for line in lines if line.number not in drop]


def _template(body: str) -> str:
    values = literal_words(body)
    return " ".join("<v>" if word in values else word for word in normalise(body).split())


def merge_duplicates(lines: list[Line], review: DreamReview, threshold: float) -> list[Line]:
    merges = find_duplicates([line for line in lines if line.is_entry], threshold)
    dropped = {merge.dropped.number for merge in merges}
    for merge in merges:
        review.consolidated.append(Change(merge.dropped.text.strip(), merge.kept.text.strip(), "near-duplicate"))
    return [line for line in lines if line.number not in dropped]


def make_dates_absolute(lines: list[Line], review: DreamReview) -> list[Line]:
    out = []
    for line in lines:
        if line.is_entry:
            body = absolute_dates(line.body, line.when)
            if body != line.body:
                new = line.with_body(body)
                review.updated.append(Change(line.text.strip(), new.text.strip(), "relative date made absolute"))
                line = new
        out.append(line)
    return out


def verify_citations(lines: list[Line], review: DreamReview, facts: ProjectFacts, drop: bool) -> list[Line]:
    """Mark (or drop) entries citing a path or symbol the project lacks; unmark ones whose citations are back."""
    out = []
    for line in lines:
        if not line.is_entry:
            out.append(line)
            continue
        marked = UNVERIFIED in line.body
        missing = missing_citations(line.body.replace(UNVERIFIED, ""), facts)
        if missing and drop:
            review.deleted.append(Change(line.text.strip(), "", f"not found in the project: {', '.join(missing)}"))
            continue
        if missing and not marked:
            new = line.with_body(f"{line.body.rstrip()} {UNVERIFIED}")
            review.updated.append(Change(line.text.strip(), new.text.strip(),
                                         f"not found in the project: {', '.join(missing)}"))
            line = new
        elif missing:
            review.skipped.append(Change(line.text.strip(), "", f"already marked; still not found: {', '.join(missing)}"))
        elif marked:
            body = re.sub(r"\s*\[unverified\]", "", line.body).rstrip()
            new = line.with_body(body)
            review.updated.append(Change(line.text.strip(), new.text.strip(), "what it cites exists again"))
            line = new
        out.append(line)
    return out


def _size(lines: list[Line]) -> tuple[int, int]:
    text = "\n".join(line.text for line in lines)
    return len(text.rstrip("\n").split("\n")), len(text.encode("utf-8"))


def squeeze_blank_runs(lines: list[Line]) -> list[Line]:
    out: list[Line] = []
    for line in lines:
        if not line.text.strip() and out and not out[-1].text.strip():
            continue
        out.append(line)
    return out


def enforce_caps(lines: list[Line], review: DreamReview, max_lines: int, max_bytes: int) -> list[Line]:
    """Cut whole entries until MEMORY.md is within `max_lines` and `max_bytes`, least valuable and oldest first."""
    n_lines, n_bytes = _size(lines)
    if n_lines <= max_lines and n_bytes <= max_bytes:
        return lines
    lines = squeeze_blank_runs(lines)

    def rank(line: Line) -> tuple[int, int, int]:
        section = CUT_ORDER.index(line.section) if line.section in CUT_ORDER else 0
        return (0 if UNVERIFIED in line.body else 1, section, line.when or 0)

    candidates = sorted((line for line in lines if line.is_entry), key=lambda line: (*rank(line), line.number))
    cut: set[int] = set()
    n_lines, n_bytes = _size(lines)
    for line in candidates:
        if n_lines <= max_lines and n_bytes <= max_bytes:
            break
        cut.add(line.number)
        n_lines, n_bytes = n_lines - 1, n_bytes - len(line.text.encode("utf-8")) - 1
        review.deleted.append(Change(line.text.strip(), "",
                                     f"MEMORY.md over its caps ({max_lines} lines, {max_bytes} bytes)"))
    return [line for line in lines if line.number not in cut]
