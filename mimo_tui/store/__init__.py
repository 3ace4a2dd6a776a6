"""The versioned store: the one write path for memory and skill files."""

from mimo_tui.store.memory_repo import exclude_from_outer_repo, open_memory_repo
from mimo_tui.store.records import (
    EXTERNAL,
    USER,
    CommitInfo,
    ConflictError,
    FileChanged,
    FileSnapshot,
    RepoDamaged,
    RevertConflict,
    SandboxError,
    StoreError,
    Writer,
    WriteFailed,
)
from mimo_tui.store.repair import RepairReport, repair_memory_repo
from mimo_tui.atomic_file import atomic_write
from mimo_tui.store.versioned_store import VersionedStore

__all__ = [
    "EXTERNAL", "USER", "CommitInfo", "ConflictError", "FileChanged", "FileSnapshot", "RepoDamaged",
    "RepairReport", "RevertConflict", "SandboxError", "StoreError", "VersionedStore", "WriteFailed", "Writer", "atomic_write",
    "exclude_from_outer_repo", "open_memory_repo", "repair_memory_repo",
]
