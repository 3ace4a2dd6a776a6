"""Near-duplicate entries: compared after markdown punctuation is stripped, merged unless a literal differs."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rapidfuzz import fuzz

from mimo_tui.maintenance.dream.entries import Line

_MARKUP = re.compile(r"[*_~`>\[\]()\"'“”‘’]")
_PUNCT = re.compile(r"[.,;:!?]+(\s|$)")
_SPACES = re.compile(r"\s+")
_HYPHEN = re.compile(r"(?<=[A-Za-z])-(?=[A-Za-z])")
UNVERIFIED = "[unverified]"


def normalise(body: str) -> str:
    """Lower case, no markdown emphasis or backticks, no trailing punctuation, single spaces."""
    text = body.replace(UNVERIFIED, " ")
    text = _MARKUP.sub(" ", text)
    text = _PUNCT.sub(r"\1", text)
    text = _HYPHEN.sub(" ", text)  # "test-suite" reads as "test suite"; a flag like "-q" keeps its dash
    return _SPACES.sub(" ", text).strip().lower()


def literal_words(body: str) -> set[str]:
    """Words that carry a value (numbers, paths, flags, names with dots or underscores): two entries differing in
    one of them state different facts, however alike the rest reads."""
    found = set()
    for token in normalise(body).split():
        if any(ch.isdigit() for ch in token) or len(token) > 1 and (
                any(ch in "/=_" for ch in token) or token.startswith("-") or "." in token.strip(".")):
            found.add(token)
    return found


def are_duplicates(a: str, b: str, threshold: float) -> bool:
    if literal_words(a) != literal_words(b):
        return False
    return fuzz.ratio(normalise(a), normalise(b)) >= threshold


@dataclass(frozen=True)
class Merge:
    """`dropped` says the same as `kept`, which stays."""

    kept: Line
    dropped: Line


def _better(a: Line, b: Line) -> Line:
    """The older entry wins; at the same age, the one with more markup (code spans keep literals exact), then the first."""
    if a.when and b.when and a.when != b.when:
        return a if a.when < b.when else b
    marks_a, marks_b = a.body.count("`"), b.body.count("`")
    if marks_a != marks_b:
        return a if marks_a > marks_b else b
    return a if a.number <= b.number else b


def find_duplicates(entries: list[Line], threshold: float) -> list[Merge]:
    """Pairs to merge across the whole file; each entry is dropped at most once, in favour of the better one."""
    merges: list[Merge] = []
    gone: set[int] = set()
    keys = {line.number: normalise(line.body) for line in entries}
    values = {line.number: literal_words(line.body) for line in entries}
    for i, first in enumerate(entries):
        if first.number in gone or not keys[first.number]:
            continue
        for second in entries[i + 1:]:
            if second.number in gone or not keys[second.number] or values[first.number] != values[second.number]:
                continue
            if fuzz.ratio(keys[first.number], keys[second.number]) >= threshold:
                kept = _better(first, second)
                dropped = second if kept is first else first
                merges.append(Merge(kept, dropped))
                gone.add(dropped.number)
                if dropped is first:
                    break
    return merges
