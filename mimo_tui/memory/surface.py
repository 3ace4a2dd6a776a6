"""The memory surface the agent calls: search, read a section, append to MEMORY.md, add a note; each write one commit."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from mimo_tui.memory.index import MemoryHit, MemoryIndex
from mimo_tui.memory.layers import GLOBAL_ROOT, PROJECT_ROOT, SessionLayout
from mimo_tui.memory.sections import normalise_title, split_sections
from mimo_tui.memory.templates import PROJECT_SECTIONS, notes_entry, notes_template
from mimo_tui.memory.validators import Problem, validate_file
from mimo_tui.store import CommitInfo, StoreError, VersionedStore, Writer

if TYPE_CHECKING:
    from mimo_tui.memory.project_files import ProjectFiles

_NUMBER = re.compile(r"^§\s*(\d+)\b")


@dataclass(frozen=True)
class SectionText:
    """A section read from a memory file: its heading, first line number and text."""

    relpath: str
    heading: str
    line: int
    text: str


@dataclass(frozen=True)
class WriteResult:
    """A memory write: its commit (None when nothing changed) and the file's problems after it."""

    commit: CommitInfo | None
    relpath: str
    problems: list[Problem]


def utc_now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def find_section(text: str, heading: str) -> tuple[int, int, str, int] | None:
    """(start row, end row, title, line) of the section named `heading` (title, '§N' or '§N Title'), or None."""
    wanted = normalise_title(heading.lstrip("#").strip())
    number = _NUMBER.match(wanted)
    sections = split_sections(text)
    for index, section in enumerate(sections):
        if not section.level:
            continue
        title = normalise_title(section.title)
        bare = _NUMBER.sub("", title).strip()
        if title == wanted or bare == wanted or (number and _NUMBER.match(title)
                                                  and _NUMBER.match(title).group(1) == number.group(1)):
            end = len(text.split("\n"))
            for later in sections[index + 1:]:
                if later.level and later.level <= section.level:
                    end = later.line - 1
                    break
            return section.line - 1, end, section.title, section.line
    return None


class MemorySurface:
    """What the agent may do with memory; writes go through the versioned store and are re-indexed on commit."""

    def __init__(self, project: ProjectFiles, global_store: VersionedStore | None = None, index: MemoryIndex | None = None) -> None:
        self.project = project
        self.global_store = global_store
        roots = {PROJECT_ROOT: project.workspace.mimo_dir}
        if global_store is not None:
            roots[GLOBAL_ROOT] = global_store.root
        self._unfollow = []
        if index is not None:
            self.index = index  # shared: whoever opened it keeps it following the stores
            return
        self.index = MemoryIndex(project.workspace.index_db, roots)
        self._unfollow.append(self.index.follow(project.store, PROJECT_ROOT))
        if global_store is not None:
            self._unfollow.append(self.index.follow(global_store, GLOBAL_ROOT))

    def close(self) -> None:
        for stop in self._unfollow:
            stop()

    def search(self, query: str, scope: str | None = None, limit: int = 10, type: str | None = None,
               session_id: str | None = None) -> list[MemoryHit]:
        """Memory hits for `query`, best first, after reconciling the index with the files on disk."""
        return self.index.search(query, scope=scope, type=type, limit=limit, session_id=session_id)

    def _store(self, relpath: str) -> tuple[VersionedStore, str]:
        if relpath.startswith("global:"):
            if self.global_store is None:
                raise StoreError(f"global memory is turned off; cannot read {relpath}")
            return self.global_store, relpath.removeprefix("global:")
        return self.project.store, relpath

    def read_section(self, relpath: str, heading: str) -> SectionText | None:
        """The section `heading` of a memory file (`global:MEMORY.md` for the global one), or None."""
        store, rel = self._store(relpath)
        snapshot = store.read(rel)
        if snapshot.text is None:
            return None
        found = find_section(snapshot.text, heading)
        if found is None:
            return None
        start, end, title, line = found
        return SectionText(relpath, title, line, "\n".join(snapshot.text.split("\n")[start:end]).rstrip())

    def append(self, section_heading: str, text: str, writer: Writer) -> WriteResult:
        """Append `text` at the end of a section of the project MEMORY.md (created from the template if missing)."""
        if not text.strip():
            raise StoreError("nothing to append: the text is empty")
        store = self.project.store
        with store.exclusive():  # re-read under the lock: appends from other processes are kept, never overwritten
            return self._append_locked(store, section_heading, text, writer)

    def _append_locked(self, store: VersionedStore, section_heading: str, text: str, writer: Writer) -> WriteResult:
        snapshot = store.read("MEMORY.md")
        current = snapshot.text if snapshot.text is not None else ""
        found = find_section(current, section_heading)
        lines = current.split("\n")
        if found is None:
            known = [spec.title for spec in PROJECT_SECTIONS]
            if normalise_title(section_heading) not in {normalise_title(t) for t in (*known, "Patterns", "Gotchas")}:
                raise StoreError(f"MEMORY.md has no section '{section_heading}'; sections: {', '.join(known)}")
            title = section_heading.strip().lstrip("#").strip()
            base = current.rstrip("\n")
            current = (base + "\n\n" if base else "") + f"## {title}\n"
            lines = current.split("\n")
            found = find_section(current, title)
            assert found is not None
        _, end, title, _ = found
        insert_at = end
        while insert_at > found[0] + 1 and not lines[insert_at - 1].strip():
            insert_at -= 1
        addition = text.rstrip("\n").split("\n")
        new_lines = lines[:insert_at] + addition + ([""] if insert_at < len(lines) else []) + lines[insert_at:]
        new_text = "\n".join(new_lines)
        new_text = re.sub(r"\n{3,}", "\n\n", new_text).rstrip("\n") + "\n"
        commit = store.write("MEMORY.md", new_text, writer, message=f"memory: {writer.role} appended to MEMORY.md § {title}",
                             base_digest=snapshot.digest)
        return WriteResult(commit, "MEMORY.md", validate_file("MEMORY.md", new_text))

    def add_note(self, session_id: str, turn: int, text: str, writer: Writer) -> WriteResult:
        """Add a turn-stamped entry to the session's notes.md (created from its template on first use)."""
        if not text.strip():
            raise StoreError("nothing to note: the text is empty")
        relpath = SessionLayout(session_id).notes
        store = self.project.store
        with store.exclusive():
            snapshot = store.read(relpath)
            current = snapshot.text if snapshot.text is not None else notes_template(session_id)
            new_text = current.rstrip("\n") + "\n\n" + notes_entry(turn, utc_now(), text)
            commit = store.write(relpath, new_text, writer, message=f"memory: {writer.role} noted turn {turn} in {relpath}",
                                 base_digest=snapshot.digest)
        return WriteResult(commit, relpath, validate_file(relpath, new_text))


