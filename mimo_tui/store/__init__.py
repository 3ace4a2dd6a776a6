"""The versioned store: the one write path for memory and skill files.

The records and errors load with the package; the store itself (git, locks, repair) loads on first use, so a
module that only names `StoreError` or `CommitInfo` keeps them off the start-up path.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from mimo_tui.atomic_file import atomic_write
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

if TYPE_CHECKING:
    from mimo_tui.store.memory_repo import exclude_from_outer_repo, open_memory_repo
    from mimo_tui.store.repair import RepairReport, repair_memory_repo
    from mimo_tui.store.versioned_store import VersionedStore

_LAZY = {
    "exclude_from_outer_repo": "mimo_tui.store.memory_repo",
    "open_memory_repo": "mimo_tui.store.memory_repo",
    "RepairReport": "mimo_tui.store.repair",
    "repair_memory_repo": "mimo_tui.store.repair",
    "VersionedStore": "mimo_tui.store.versioned_store",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'mimo_tui.store' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "EXTERNAL", "USER", "CommitInfo", "ConflictError", "FileChanged", "FileSnapshot", "RepoDamaged",
    "RepairReport", "RevertConflict", "SandboxError", "StoreError", "VersionedStore", "WriteFailed", "Writer", "atomic_write",
    "exclude_from_outer_repo", "open_memory_repo", "repair_memory_repo",
]
