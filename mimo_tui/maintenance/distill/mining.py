"""Workflows repeated across sessions: requests that read alike (rapidfuzz) and took alike steps."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from rapidfuzz import fuzz

from mimo_tui.maintenance.distill.history import Request

_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_'-]*|\S+")
STOPWORDS = frozenset(
    "a an the and or to of in on for with by from into at as is are be it this that these those please can could "
    "you me my our we us i let's lets then now again also just do does make sure all any some".split())


@dataclass
class Workflow:
    """Requests that repeat one piece of work, in how many sessions, with the steps they share."""

    requests: list[Request] = field(default_factory=list)

    @property
    def sessions(self) -> set[str]:
        return {request.session_id for request in self.requests}

    @property
    def times(self) -> int:
        return len(self.requests)

    @property
    def steps(self) -> tuple[str, ...]:
        """The steps most of its requests took (the most common sequence; the longest on a tie)."""
        counts: dict[tuple[str, ...], int] = {}
        for request in self.requests:
            counts[request.steps] = counts.get(request.steps, 0) + 1
        return max(counts, key=lambda steps: (counts[steps], len(steps)))

    def shared_words(self) -> list[str]:
        """Words every request uses, in the order of the first one."""
        sets = [set(_words(request.text)) for request in self.requests]
        common = set.intersection(*sets) if sets else set()
        return [word for word in dict.fromkeys(_words(self.requests[0].text)) if word in common]

    def varying_parts(self) -> list[str]:
        """What differs between the requests (the arguments a command would take), from the first request."""
        common = set(self.shared_words())
        return [word for word in _raw_words(self.requests[0].text) if word.lower() not in common]


def _raw_words(text: str) -> list[str]:
    return _WORD.findall(text)


def _words(text: str) -> list[str]:
    return [word.lower().strip(".,:;!?") for word in _raw_words(text)]


def steps_alike(a: tuple[str, ...], b: tuple[str, ...]) -> float:
    if not a and not b:
        return 1.0
    return SequenceMatcher(a=a, b=b, autojunk=False).ratio()


def alike(a: Request, b: Request, similarity: float) -> bool:
    """The same kind of work: both took tool steps, the steps match closely and the requests read alike."""
    if not a.steps or not b.steps:
        return False
    step_score = steps_alike(a.steps, b.steps)
    text_score = fuzz.token_set_ratio(a.text.lower(), b.text.lower())
    return (step_score == 1.0 and text_score >= similarity * 0.75) or (step_score >= 0.75 and text_score >= similarity)


def mine_workflows(requests: list[Request], similarity: float = 80.0, min_repeats: int = 2) -> list[Workflow]:
    """Clusters of alike requests seen at least `min_repeats` times, most repeated first."""
    clusters: list[Workflow] = []
    for request in requests:
        home = next((c for c in clusters if alike(c.requests[0], request, similarity)), None)
        if home is None:
            clusters.append(Workflow([request]))
        else:
            home.requests.append(request)
    found = [c for c in clusters if c.times >= min_repeats and len(c.steps) >= 2]
    return sorted(found, key=lambda c: (-c.times, c.requests[0].text))
