"""Git's own `index.lock` in a memory repo: who holds it, and when it is safe to call it stale.

Every mimo process commits only while holding the repo's write lock (repo_lock.py), so while we hold
it an `index.lock` belongs to someone else: a git run by hand or by a tool in the repo (alive: wait
for it), or a process that died mid-commit (gone: the lock is stale and may be removed). On Linux the
owner is looked for in /proc: any process with the lock file open, or any `git` process whose working
folder is the memory repo or its project, or whose command line names the memory repo. Elsewhere,
without /proc, a lock untouched for STALE_WITHOUT_PROC_S seconds is taken as stale.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

STALE_WITHOUT_PROC_S = 10.0
_PROC = Path("/proc")


def index_lock_path(git_dir: Path) -> Path:
    return git_dir / "index.lock"


def is_index_lock_busy(git_stderr: str) -> bool:
    """Whether a failed git command failed because `index.lock` already existed."""
    return "index.lock" in git_stderr and ("File exists" in git_stderr or "Unable to create" in git_stderr)


def live_owner(work_tree: Path) -> str | None:
    """A short description of a live process that may hold `work_tree/.git/index.lock`, or None if none is alive."""
    root = work_tree.resolve()
    lock = index_lock_path(root / ".git")
    if not _PROC.is_dir():
        try:
            age = time.time() - lock.stat().st_mtime
        except FileNotFoundError:
            return None
        return None if age > STALE_WITHOUT_PROC_S else f"a process that took {lock.name} {age:.0f} s ago"
    near = (root, root.parent)
    me = os.getpid()
    for entry in _PROC.iterdir():
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        try:
            if _holds_open(entry, lock) or _is_git_near(entry, near, root):
                command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace").strip()
                return f"pid {entry.name}: {command[:80] or 'unknown command'}"
        except OSError:
            continue  # the process ended meanwhile, or is not ours to inspect
    return None


def _holds_open(proc: Path, lock: Path) -> bool:
    target = str(lock)
    try:
        fds = list((proc / "fd").iterdir())
    except OSError:
        return False
    for fd in fds:
        try:
            if os.readlink(fd) == target:
                return True
        except OSError:
            continue
    return False


def _is_git_near(proc: Path, near: tuple[Path, ...], root: Path) -> bool:
    argv = (proc / "cmdline").read_bytes().split(b"\0")
    if not argv or not os.path.basename(argv[0].decode("utf-8", "replace")).startswith("git"):
        return False
    cwd = Path(os.readlink(proc / "cwd"))
    if cwd in near or root in cwd.parents:
        return True
    named = str(root).encode()
    return any(named in arg or b".mimo/.git" in arg for arg in argv[1:])


def remove_if_stale(work_tree: Path) -> bool:
    """Remove `index.lock` when no live process may own it; True when one was removed. Call it holding the repo lock."""
    lock = index_lock_path(work_tree / ".git")
    if not lock.exists() or live_owner(work_tree) is not None:
        return False
    lock.unlink(missing_ok=True)
    return True
