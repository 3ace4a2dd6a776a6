"""What the memory tool needs from the memory layer, and its implementation over MemorySurface."""

from __future__ import annotations

import time
from typing import Any, Protocol

from mimo_tui.store import VersionedStore, Writer

PROJECT_MEMORY = "MEMORY.md"


class MemoryAccess(Protocol):
    """Search, read, append to and take notes in memory (the memory layer's MemorySurface fills this role)."""

    def search(self, query: str, limit: int = 10) -> str: ...

    def read(self, relpath: str) -> str: ...

    def append(self, section: str, text: str) -> str: ...

    def note(self, text: str, turn: int) -> str: ...


class SurfaceMemoryAccess:
    """The memory tool's view of the memory layer's MemorySurface (search, sections, notes), for one session."""

    def __init__(self, surface: Any, store: VersionedStore, session_id: str) -> None:
        self.surface = surface
        self.store = store
        self.session_id = session_id
        self.writer = Writer("agent", session_id=session_id)

    def search(self, query: str, limit: int = 10) -> str:
        hits = self.surface.search(query, limit=limit)
        if not hits:
            return f"nothing in memory matches {query!r}"
        return "\n".join(f"{hit.relpath}:{hit.line} [{hit.heading}] {hit.marked()}" for hit in hits)

    def read(self, relpath: str) -> str:
        snapshot = self.store.read(relpath or PROJECT_MEMORY)
        if not snapshot.exists:
            return f"{relpath} does not exist in memory"
        return snapshot.text if snapshot.text is not None else f"{relpath} is not a text file"

    def append(self, section: str, text: str) -> str:
        heading = section.strip() or "Discovered durable knowledge"
        entry = f"- {text.strip()} (session {self.session_id}, {time.strftime('%Y-%m-%d')})"
        result = self.surface.append(heading, entry, self.writer)
        problems = f"; problems: {'; '.join(str(p) for p in result.problems)}" if result.problems else ""
        return f"appended to {result.relpath} under {heading}{problems}"

    def note(self, text: str, turn: int) -> str:
        result = self.surface.add_note(self.session_id, turn, text, self.writer)
        return f"noted in {result.relpath}"
