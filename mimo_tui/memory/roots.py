"""The memory repos of an opened project: its `.mimo/` and, unless turned off, the user's global memory."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from mimo_tui.memory.index import MemoryIndex
from mimo_tui.memory.layers import GLOBAL_ROOT, PROJECT_ROOT, open_global_memory
from mimo_tui.store import StoreError, VersionedStore

if TYPE_CHECKING:
    from mimo_tui.memory.project_files import ProjectFiles


@dataclass
class MemoryRoots:
    """Folders of the memory repos by root name, the global store when it opened, and why it did not."""

    folders: dict[str, Path]
    global_store: VersionedStore | None = None
    notes: list[str] = field(default_factory=list)


def memory_roots(project: ProjectFiles) -> MemoryRoots:
    """The project's memory repos; a global repo that cannot be opened is skipped with a note."""
    roots = MemoryRoots({PROJECT_ROOT: project.workspace.mimo_dir})
    if not project.config.get("memory.global", True):
        return roots
    try:
        roots.global_store = open_global_memory()
    except StoreError as exc:
        roots.notes.append(f"global memory skipped: {exc}")
        return roots
    roots.folders[GLOBAL_ROOT] = roots.global_store.root
    return roots


def open_memory_index(project: ProjectFiles, roots: MemoryRoots | None = None) -> MemoryIndex:
    """The project's FTS5 index over all its memory repos."""
    roots = roots or memory_roots(project)
    return MemoryIndex(project.workspace.index_db, roots.folders)
