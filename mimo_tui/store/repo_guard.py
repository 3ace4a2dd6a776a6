"""Makes sure a memory repo's `.git` is its own folder, so git never acts on another repository.

A `.git` that is a gitfile (`gitdir: ...`) or a symlink makes git follow it wherever it points (the
user's project repo, for one), and a `.git` that git does not accept as a repository lets a command
without an explicit git dir fall through to a parent's. Both are refused before any git command runs.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from pathlib import Path

from mimo_tui.store.records import RepoDamaged

_OBJECT_ID = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")
_SYMBOLIC_REF = re.compile(r"^ref: refs/[^\s]+$")
REPAIR_HINT = (
    "Your memory files are untouched. Run `mimo memory repair`: it rebuilds what can be rebuilt in place, "
    "else keeps the damaged history aside and starts a fresh one from the current files."
)


def git_dir_problem(work_tree: Path) -> str | None:
    """Why `work_tree/.git` is not this repo's own usable git folder, or None when it is."""
    git_dir = work_tree / ".git"
    try:
        info = git_dir.lstat()
    except FileNotFoundError:
        return "missing"
    except OSError as exc:
        return f"unreadable ({exc.strerror or exc})"
    if stat.S_ISLNK(info.st_mode):
        return f"a symlink to {os.readlink(git_dir)}, not a folder of its own"
    if stat.S_ISREG(info.st_mode):
        return f"a file ({_first_line(git_dir)}), not a folder of its own"
    if not stat.S_ISDIR(info.st_mode):
        return "not a folder"
    try:
        if git_dir.resolve().parent != work_tree.resolve():
            return f"resolving outside {work_tree} (to {git_dir.resolve()})"
    except OSError as exc:
        return f"unreadable ({exc.strerror or exc})"
    return _core_problem(git_dir)


def _core_problem(git_dir: Path) -> str | None:
    """What git needs to accept a folder as a repository: a valid HEAD, objects/ and refs/."""
    for folder in ("objects", "refs"):
        if not (git_dir / folder).is_dir():
            return f"missing its {folder}/ folder"
    try:
        head = (git_dir / "HEAD").read_bytes().decode("ascii").strip()
    except FileNotFoundError:
        return "missing its HEAD file"
    except (OSError, UnicodeDecodeError):
        return "holding an unreadable HEAD file"
    if not (_SYMBOLIC_REF.match(head) or _OBJECT_ID.match(head)):
        return f"holding a corrupt HEAD ({head[:40]!r})"
    return None


def _first_line(path: Path) -> str:
    try:
        with path.open("rb") as handle:
            return handle.readline(200).decode("utf-8", "replace").strip() or "empty"
    except OSError:
        return "unreadable"


def damaged(work_tree: Path, reason: str) -> RepoDamaged:
    """The error every damaged-repo path raises: what is wrong, that nothing was touched, and the way out."""
    return RepoDamaged(
        f"the memory repo's git folder {work_tree / '.git'} is {reason}; mimo will not run git there. {REPAIR_HINT}"
    )


def ensure_own_git_dir(work_tree: Path) -> None:
    """Raise RepoDamaged unless `work_tree/.git` is the repo's own, usable git folder."""
    problem = git_dir_problem(work_tree)
    if problem is not None:
        raise damaged(work_tree, problem)


def index_problem(git_dir: Path) -> str | None:
    """Why `git_dir/index` is corrupt (bad header or checksum), or None when it is sound or absent.

    Git itself reads some truncated indexes without complaint and would commit what it made of them.
    """
    try:
        data = (git_dir / "index").read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        return f"its index is unreadable ({exc.strerror or exc})"
    if len(data) < 32 or data[:4] != b"DIRC" or int.from_bytes(data[4:8], "big") not in (2, 3, 4):
        return "holding a corrupt index (bad header)"
    for size, digest in ((20, hashlib.sha1), (32, hashlib.sha256)):
        trailer = data[-size:]
        if trailer == digest(data[:-size]).digest() or trailer == bytes(size):  # zeros: index.skipHash
            return None
    return "holding a corrupt index (checksum mismatch)"
