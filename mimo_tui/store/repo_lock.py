"""The write lock of a memory repo, shared by every thread and every mimo process that writes there.

Held around read-modify-write-and-commit (and revert, external-edit commits, recovery and repair),
so no mimo process can overwrite another's write or collide on git's `index.lock`. It is an OS file
lock (`flock`), so the kernel releases it when its process dies: it is never stale.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from mimo_tui.store.records import StoreError

LOCK_NAME = ".mimo-write.lock"
DEFAULT_WAIT_S = 60.0

_registry: dict[Path, RepoLock] = {}
_registry_guard = threading.Lock()


class RepoLock:
    """One memory repo's write lock: a re-entrant thread lock wrapped around an inter-process file lock."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.path = root / LOCK_NAME
        self._threads = threading.RLock()
        self._file = FileLock(str(self.path), thread_local=False)

    @contextmanager
    def hold(self, wait_s: float = DEFAULT_WAIT_S) -> Iterator[None]:
        """Hold the lock for the block; StoreError when another process keeps it longer than `wait_s`."""
        with self._threads:
            try:
                self._file.acquire(timeout=wait_s)
            except Timeout as exc:
                raise StoreError(
                    f"another mimo process kept the memory repo {self.root} busy for {wait_s:.0f} s; "
                    "nothing was written, try again"
                ) from exc
            except PermissionError as exc:
                raise StoreError(f"cannot write to {self.root}: permission denied (is the folder read-only?)") from exc
            except OSError as exc:
                raise StoreError(f"cannot lock the memory repo {self.root}: {exc.strerror or exc}") from exc
            try:
                yield
            finally:
                self._file.release()


def lock_for(root: Path) -> RepoLock:
    """The process-wide lock object of the repo at `root` (every store of one repo shares it)."""
    key = root.resolve()
    with _registry_guard:
        lock = _registry.get(key)
        if lock is None:
            lock = _registry[key] = RepoLock(root)
        return lock
