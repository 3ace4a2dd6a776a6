"""One checkpoint writer per session across processes: an `flock` on a lock file of the session.

A TUI and a headless `mimo run` (or two TUIs) may work on the same session; only the one holding the lease
runs the session's checkpoint writer, the other is told who does. The kernel drops an `flock` when its
process dies, so the lease of a killed process is free at once (the file stays, holding a dead pid, and is
simply locked again). The file lives under `.mimo/cache/locks/`, not in the session's folder: that folder is
tracked by git and watched for external edits, and `cache/` is ignored by both.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path


def lease_path(mimo_dir: Path, session_id: str) -> Path:
    return mimo_dir / "cache" / "locks" / f"checkpoint-writer-{session_id}.lock"


class WriterLease:
    """Try to hold the session's writer lease without waiting; `holder()` names the process that has it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def try_acquire(self) -> bool:
        """Take the lease if no other holder has it (another process, or another writer of this process)."""
        if self._fd is not None:
            return True
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError:
            # A read-only .mimo cannot hold a lease, and cannot take a checkpoint either: the write says why.
            return True
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return True

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def holder(self) -> str:
        """Who holds the lease, for a message: "process 1234", or "another writer" when unknown."""
        try:
            pid = self.path.read_text(encoding="utf-8").strip()
        except OSError:
            pid = ""
        if pid.isdigit() and int(pid) != os.getpid():
            return f"process {pid}"
        return "another writer in this process" if pid.isdigit() else "another mimo process"
