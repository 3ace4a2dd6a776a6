"""What the memory tool needs from the memory layer, and a plain implementation over the memory files."""

from __future__ import annotations

import re
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


class MemoryFiles:
    """Memory through the versioned store alone: word search over the markdown files, appends as commits."""

    def __init__(self, store: VersionedStore, session_id: str) -> None:
        self.store = store
        self.session_id = session_id
        self.writer = Writer("agent", session_id=session_id)

    def _files(self) -> list[str]:
        root = self.store.root
        return sorted(
            path.relative_to(root).as_posix()
            for path in root.rglob("*.md")
            if ".git" not in path.relative_to(root).parts and not path.relative_to(root).parts[0] in ("runs", "cache")
        )

    def search(self, query: str, limit: int = 10) -> str:
        words = [w.lower() for w in re.findall(r"\w+", query) if len(w) > 1]
        if not words:
            return "give some words to search for"
        hits: list[tuple[int, str]] = []
        for rel in self._files():
            text = self.store.read(rel).text or ""
            for number, line in enumerate(text.splitlines(), start=1):
                lowered = line.lower()
                score = sum(lowered.count(w) for w in words)
                if score and not line.startswith("#"):
                    hits.append((score, f"{rel}:{number}: {line.strip()[:300]}"))
        hits.sort(key=lambda hit: -hit[0])
        if not hits:
            return f"nothing in memory matches {query!r}"
        return "\n".join(line for _, line in hits[:limit])

    def read(self, relpath: str) -> str:
        snapshot = self.store.read(relpath or PROJECT_MEMORY)
        if not snapshot.exists:
            return f"{relpath} does not exist in memory (files: {', '.join(self._files()) or 'none'})"
        return snapshot.text if snapshot.text is not None else f"{relpath} is not a text file"

    def append(self, section: str, text: str) -> str:
        current = self.store.read(PROJECT_MEMORY)
        body = current.text or "# Project memory\n"
        entry = f"- {text.strip()} (session {self.session_id}, {time.strftime('%Y-%m-%d')})\n"
        heading = f"## {section.strip()}" if section.strip() else "## Discovered durable knowledge"
        lines = body.splitlines(keepends=True)
        index = next((i for i, line in enumerate(lines) if line.strip().lower() == heading.lower()), None)
        if index is None:
            updated = body.rstrip("\n") + f"\n\n{heading}\n\n{entry}"
        else:
            end = next((j for j in range(index + 1, len(lines)) if lines[j].startswith("## ")), len(lines))
            insert_at = end
            while insert_at > index + 1 and not lines[insert_at - 1].strip():
                insert_at -= 1
            block = ("\n" if insert_at == index + 1 else "") + entry
            updated = "".join(lines[:insert_at]) + block + ("\n" if end < len(lines) else "") + "".join(lines[end:])
        self.store.write(PROJECT_MEMORY, updated, self.writer, message=f"memory: agent appended to {heading[3:]}",
                         base_digest=current.digest)
        return f"appended to {PROJECT_MEMORY} under {heading[3:]}"

    def note(self, text: str, turn: int) -> str:
        relpath = f"sessions/{self.session_id}/notes.md"
        current = self.store.read(relpath)
        body = current.text or f"# Notes of session {self.session_id}\n"
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S")
        updated = body.rstrip("\n") + f"\n\n## [turn {turn} · {stamp}]\n\n{text.strip()}\n"
        self.store.write(relpath, updated, self.writer, message=f"memory: agent noted in {relpath}", base_digest=current.digest)
        return f"noted in {relpath}"


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
