"""Fuzzy finder over memory file names and headings (rapidfuzz), for jumping to a file or section."""

from __future__ import annotations

from dataclasses import dataclass

from mimo_tui.memory.index import MemoryIndex


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


def find(index: MemoryIndex, query: str, limit: int = 20, reconcile: bool = True) -> list[FinderEntry]:
    """Files and headings whose `path › heading` label best matches `query`; every file when the query is empty."""
    from rapidfuzz import fuzz, process

    if reconcile:
        index.reconcile()
    entries: list[FinderEntry] = []
    seen_files: set[tuple[str, str]] = set()
    for root, relpath, line, heading in index.outline():
        if (root, relpath) not in seen_files:
            seen_files.add((root, relpath))
            entries.append(FinderEntry(root, relpath, 1, "", 0.0))
        if heading:
            entries.append(FinderEntry(root, relpath, line, heading, 0.0))
    if not query.strip():
        return [entry for entry in entries if not entry.heading][:limit]
    labels = [entry.label for entry in entries]
    matches = process.extract(query, labels, scorer=fuzz.WRatio, limit=limit, score_cutoff=50)
    return [FinderEntry(entries[i].root, entries[i].relpath, entries[i].line, entries[i].heading, score)
            for _, score, i in matches]
