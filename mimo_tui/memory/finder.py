"""Fuzzy finder over memory file names and headings (rapidfuzz), for jumping to a file or section.

The names are gathered once from the index and updated per file when the index changes (a commit re-indexes
one file), never rebuilt per query. A query is scored by rapidfuzz only against a bounded candidate set: the
entries holding a word that starts with one of the query's words (or, when none does, a word close to one).
"""

from __future__ import annotations

import bisect
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass

from mimo_tui.memory.index import MemoryIndex

# rapidfuzz's WRatio costs ~1.5 µs per label: a few thousand candidates keep a keystroke in a few ms.
MAX_CANDIDATES = 3000
# How many vocabulary words a misspelt query word may stand for.
CLOSE_WORDS = 8
_WORD = re.compile(r"[^\W_]+")

Key = tuple[str, str, int, str]  # (root, relpath, line, heading); heading "" is the file itself


@dataclass(frozen=True)
class FinderEntry:
    """A file (line 1, empty heading) or a heading of a file, with how well it matched the query."""

    root: str
    relpath: str
    line: int
    heading: str
    score: float

    @property
    def label(self) -> str:
        prefix = "" if self.root == "project" else f"{self.root}:"
        return f"{prefix}{self.relpath}" + (f" › {self.heading}" if self.heading else "")


def label_of(key: Key) -> str:
    return FinderEntry(*key, 0.0).label


def words_of(key: Key) -> set[str]:
    """What an entry is found by: a file by the words of its path, a heading by its own words."""
    root, relpath, _, heading = key
    return {word.casefold() for word in _WORD.findall(heading if heading else relpath)}


class NameFinder:
    """File and heading names of an index, kept current from the index's change log; safe from any thread."""

    def __init__(self, index: MemoryIndex) -> None:
        self.index = index
        self._lock = threading.Lock()
        self._generation = -1
        self._by_file: dict[tuple[str, str], list[Key]] = {}
        self._postings: dict[str, set[Key]] = {}
        self._labels: dict[Key, str] = {}  # built once per entry: a keystroke scores thousands of them
        self._vocabulary: list[str] = []  # sorted words of _postings; rebuilt lazily
        self._vocabulary_stale = True

    # -- keeping current -----------------------------------------------------------------------
    def _refresh(self) -> None:
        changed = self.index.changes_since(self._generation) if self._generation >= 0 else None
        generation = self.index.generation
        if changed is None:
            self._by_file, self._postings, self._labels = {}, {}, {}
            self._add(self.index.outline())
        elif changed:
            for file in changed:
                for key in self._by_file.pop(file, []):
                    self._labels.pop(key, None)
                    for word in words_of(key):
                        keys = self._postings.get(word)
                        if keys is not None:
                            keys.discard(key)
                            if not keys:
                                del self._postings[word]
            self._add(self.index.outline_of(changed))
        else:
            return
        self._generation = generation
        self._vocabulary_stale = True

    def _add(self, rows: Iterable[Key]) -> None:
        for root, relpath, line, heading in rows:
            entries = self._by_file.get((root, relpath))
            if entries is None:
                entries = self._by_file[(root, relpath)] = [(root, relpath, 1, "")]
                self._post(entries[0])
            if heading:
                key = (root, relpath, line, heading)
                entries.append(key)
                self._post(key)

    def _post(self, key: Key) -> None:
        self._labels[key] = label_of(key)
        for word in words_of(key):
            self._postings.setdefault(word, set()).add(key)

    @property
    def gathered(self) -> bool:
        """Whether the names have been read from the index at least once."""
        return self._generation >= 0

    def warm(self) -> None:
        """Gather the names now (the first keystroke would), so that no keystroke pays for it."""
        with self._lock:
            self._refresh()
            if self._vocabulary_stale:
                self._vocabulary = sorted(self._postings)
                self._vocabulary_stale = False

    # -- finding -------------------------------------------------------------------------------
    def _candidates(self, query: str) -> list[Key]:
        if self._vocabulary_stale:
            self._vocabulary = sorted(self._postings)
            self._vocabulary_stale = False
        chosen: dict[Key, None] = {}
        for word in sorted({w.casefold() for w in _WORD.findall(query)}, key=len, reverse=True):
            start = bisect.bisect_left(self._vocabulary, word)
            matched = False
            for position in range(start, len(self._vocabulary)):
                known = self._vocabulary[position]
                if not known.startswith(word) or len(chosen) >= MAX_CANDIDATES:
                    break
                matched = True
                chosen.update(dict.fromkeys(self._postings[known]))
            if not matched and len(chosen) < MAX_CANDIDATES:
                for known in self._close_words(word):
                    chosen.update(dict.fromkeys(self._postings[known]))
        return list(chosen)[:MAX_CANDIDATES]

    def _close_words(self, word: str) -> list[str]:
        from rapidfuzz import fuzz, process

        return [known for known, _, _ in process.extract(word, self._vocabulary, scorer=fuzz.ratio,
                                                          limit=CLOSE_WORDS, score_cutoff=60)]

    def find(self, query: str, limit: int = 20) -> list[FinderEntry]:
        """Files and headings whose `path › heading` label best matches `query`; every file when it is empty."""
        from rapidfuzz import fuzz, process

        with self._lock:
            self._refresh()
            if not query.strip():
                files = sorted(self._by_file, key=lambda file: (file[0] != "project", file[0], file[1]))
                return [FinderEntry(root, relpath, 1, "", 0.0) for root, relpath in files[:limit]]
            candidates = self._candidates(query)
            labels = list(map(self._labels.__getitem__, candidates))
        matches = process.extract(query, labels, scorer=fuzz.WRatio, limit=limit, score_cutoff=50)
        return [FinderEntry(*candidates[i], score) for _, score, i in matches]


def find(index: MemoryIndex, query: str, limit: int = 20, reconcile: bool = True) -> list[FinderEntry]:
    """One-off find over a fresh NameFinder (the workbench keeps one NameFinder per index instead)."""
    if reconcile:
        index.reconcile()
    return NameFinder(index).find(query, limit)
