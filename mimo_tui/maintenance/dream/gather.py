"""What dream reads besides MEMORY.md: recent checkpoints, notes and progress logs, and when each line was written."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from mimo_tui.store import StoreError, VersionedStore

_SOURCE = re.compile(r"^sessions/[^/]+/(checkpoint(-[^/]+)?\.md|notes\.md|tasks/[^/]+/progress\.md)$")


@dataclass(frozen=True)
class Source:
    """A memory file dream gathered, with the time of its last commit."""

    relpath: str
    when: int
    text: str

    @property
    def kind(self) -> str:
        name = self.relpath.rsplit("/", 1)[-1]
        return "progress log" if name == "progress.md" else "notes" if name == "notes.md" else "checkpoint"


def line_dates(store: VersionedStore, relpath: str, line_count: int) -> list[int]:
    """The commit time of each line of `relpath` (git blame); lines not yet committed get the current time."""
    now = int(time.time())
    proc = store.git.run("blame", "--line-porcelain", "--", relpath, check=False)
    if proc.returncode != 0:
        return [now] * line_count
    dates: list[int] = []
    current = now
    for row in proc.stdout.split("\n"):
        if row.startswith("author-time "):
            current = int(row.split()[1])
        elif row.startswith("\t"):
            dates.append(current)
    return dates + [now] * max(0, line_count - len(dates))


def gather_sources(store: VersionedStore, days: int) -> list[Source]:
    """Checkpoints, notes and progress logs committed in the last `days` days, newest first."""
    try:
        proc = store.git.run("log", f"--since={days} days ago", "--name-only", "--format=@%at", check=False)
    except StoreError:
        return []
    seen: dict[str, int] = {}
    when = 0
    for row in proc.stdout.splitlines():
        if row.startswith("@"):
            when = int(row[1:])
        elif _SOURCE.match(row) and row not in seen:
            seen[row] = when
    sources = []
    for relpath, stamp in seen.items():
        snapshot = store.read(relpath)
        if snapshot.exists and snapshot.text:
            sources.append(Source(relpath, stamp, snapshot.text))
    return sources
