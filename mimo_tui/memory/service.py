"""What the workbench asks of memory: search, find, problems and the context preview, in one place."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from mimo_tui.memory.context import ContextAssembler, ContextBlock, ContextSources
from mimo_tui.memory.finder import FinderEntry, NameFinder
from mimo_tui.memory.index import MemoryHit, MemoryIndex
from mimo_tui.memory.layers import GLOBAL_ROOT, PROJECT_ROOT
from mimo_tui.memory.roots import MemoryRoots, memory_roots
from mimo_tui.memory.validators import Problem, validate_repo
from mimo_tui.store import (
    USER,
    CommitInfo,
    ConflictError,
    FileChanged,
    FileSnapshot,
    RevertConflict,
    StoreError,
    Writer,
)

if TYPE_CHECKING:
    from mimo_tui.memory.project_files import ProjectFiles


class MemoryService:
    """The project's memory index, validators and context assembler, opened once and shared by panes and agent."""

    def __init__(self, project: ProjectFiles) -> None:
        self.project = project
        self._lock = threading.Lock()
        self._roots: MemoryRoots | None = None
        self._index: MemoryIndex | None = None
        self._assembler: ContextAssembler | None = None
        self._finder: NameFinder | None = None
        self._reconciled = False
        self._preparing = threading.Lock()
        self.sources = ContextSources()

    @property
    def roots(self) -> MemoryRoots:
        with self._lock:
            if self._roots is None:
                self._roots = memory_roots(self.project)
            return self._roots

    @property
    def index(self) -> MemoryIndex:
        roots = self.roots
        with self._lock:
            if self._index is None:
                self._index = MemoryIndex(self.project.workspace.index_db, roots.folders)
                self._index.follow(self.project.store, PROJECT_ROOT)
                if roots.global_store is not None:
                    self._index.follow(roots.global_store, GLOBAL_ROOT)
            return self._index

    @property
    def assembler(self) -> ContextAssembler:
        roots = self.roots
        with self._lock:
            if self._assembler is None:
                self._assembler = ContextAssembler(
                    self.project.workspace.mimo_dir, roots.folders.get(GLOBAL_ROOT), self.sources, self.project.root
                )
            return self._assembler

    def search(self, query: str, limit: int = 30, reconcile: bool = True) -> list[MemoryHit]:
        """Full-text search; `scope:global|project|session` and `type:memory|checkpoint|notes|...` words filter it."""
        words, filters = [], {"scope": None, "type": None}
        for word in query.split():
            name, _, value = word.partition(":")
            if name in filters and value:
                filters[name] = value
            else:
                words.append(word)
        return self.index.search(" ".join(words), scope=filters["scope"], type=filters["type"], limit=limit,
                                 reconcile=reconcile)

    @property
    def finder(self) -> NameFinder:
        index = self.index
        with self._lock:
            if self._finder is None:
                self._finder = NameFinder(index)
            return self._finder

    def find(self, query: str, limit: int = 8, reconcile: bool = True) -> list[FinderEntry]:
        if reconcile:
            self.index.reconcile()
        return self.finder.find(query, limit)

    def search_as_typed(self, query: str, names: int = 5, hits: int = 30) -> tuple[list[FinderEntry], list[MemoryHit]]:
        """What the pane shows per keystroke: names, then full-text hits.

        The files are compared with the index once per workbench; after that the index follows every commit
        (and the workbench commits outside edits as they land), so a keystroke never walks the tree again.
        """
        if not self._reconciled:
            self.prepare_search()
        return self.finder.find(query, names), self.search(query, hits, reconcile=False)

    def prepare_search(self) -> None:
        """What the first keystroke would otherwise pay for: compare the files with the index once and gather the
        file and heading names. The memory pane runs it off the UI thread as soon as it has a project; a keystroke
        arriving meanwhile waits for it instead of doing it again."""
        with self._preparing:
            if not self._reconciled:
                self.catch_up()
            self.finder.warm()

    @property
    def search_prepared(self) -> bool:
        """Whether prepare_search() has run (or a first keystroke did its work)."""
        return self._reconciled and self._finder is not None and self._finder.gathered

    def catch_up(self) -> None:
        """Compare the memory files with the index now (the pane does it when its search box gains focus,
        off the UI thread, so edits made while no watcher ran are found without a keystroke paying for it)."""
        self.index.reconcile()
        self._reconciled = True

    def problems(self) -> dict[str, list[Problem]]:
        """Problems of the project's memory files, by relative path."""
        return validate_repo(self.project.workspace.mimo_dir, PROJECT_ROOT)

    def preview(self, session_id: str, context_window: int | None = None) -> ContextBlock:
        """Exactly the memory block the agent would inject for this session now."""
        window = context_window or int(self.project.config.get("model.context_window", 128000))
        return self.assembler.build(session_id, window)

    # -- files and their history: what the memory pane shows and does -------------------------------
    def files(self) -> list[str]:
        """The memory repo's files (run folders and the cache left out), as paths relative to `.mimo/`."""
        return self.project.store.list_files()

    def read(self, relpath: str) -> FileSnapshot:
        return self.project.store.read(relpath)

    def history(self, relpath: str | None = None, limit: int = 200) -> list[CommitInfo]:
        """Commits touching `relpath` (or any file), newest first."""
        return self.project.store.log(relpath, limit=limit)

    def diff(self, sha: str, relpath: str | None = None) -> str:
        """What commit `sha` changed (in `relpath` only, when given), as a unified diff."""
        return self.project.store.diff(sha, relpath)

    def save(self, relpath: str, text: str, base_digest: str | None, writer: Writer = USER) -> CommitInfo | None:
        """Write and commit `relpath`; refused with ConflictError when the file changed since `base_digest` was read.

        None when the text is what the file already holds (nothing to commit).
        """
        return self.project.store.write(relpath, text, writer, message=f"memory: {writer.role} edited {relpath}",
                                        base_digest=base_digest)

    def revert(self, sha: str, writer: Writer = USER) -> CommitInfo:
        """Undo commit `sha` with a new commit; RevertConflict when later edits overlap it."""
        return self.project.store.revert(sha, writer)

    def subscribe(self, callback: Callable[[FileChanged], None]) -> Callable[[], None]:
        """Call `callback` after every commit to the memory repo, by anyone; returns the unsubscribe."""
        return self.project.store.subscribe(callback)

    @property
    def recovery_notes(self) -> list[str]:
        """What opening the memory repo had to repair, to tell the user."""
        return list(self.project.store.recovery_notes)

    def watch_external_edits(self, stop: threading.Event, on_error: Callable[[str], None]) -> None:
        """Commit edits made outside mimo as they land, until `stop` is set (blocks: run it in a worker)."""
        from mimo_tui.store.watcher import watch_external_edits

        watch_external_edits(self.project.store, stop, on_error)

    def close(self) -> None:
        with self._lock:
            if self._index is not None:
                self._index.close()
                self._index = None


__all__ = [
    "CommitInfo", "ConflictError", "FileChanged", "FileSnapshot", "MemoryService", "RevertConflict", "StoreError",
]
