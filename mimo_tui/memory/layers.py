"""Where each memory layer lives, what scope and type a memory file has, and the user's global memory repo."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from mimo_tui.memory.templates import GLOBAL_MEMORY
from mimo_tui.store import VersionedStore, open_memory_repo
from mimo_tui.workspace import user_data_dir

PROJECT_ROOT = "project"
GLOBAL_ROOT = "global"
SCOPES = ("global", "project", "session")
TYPES = ("memory", "checkpoint", "notes", "progress", "skill", "plan", "command", "agent", "other")
# Folders of the memory repo that hold no memory text: trainer runs and derived caches.
SKIPPED_FOLDERS = frozenset({".git", "runs", "cache"})
_CHECKPOINT = re.compile(r"^sessions/([^/]+)/checkpoint(-[A-Za-z0-9_.-]+)?\.md$")
_NOTES = re.compile(r"^sessions/([^/]+)/notes\.md$")
_PROGRESS = re.compile(r"^sessions/([^/]+)/tasks/([^/]+)/progress\.md$")
_SESSION = re.compile(r"^sessions/([^/]+)/")


@dataclass(frozen=True)
class SessionLayout:
    """Relative paths (inside the memory repo) of one session's memory files."""

    session_id: str

    @property
    def folder(self) -> str:
        return f"sessions/{self.session_id}"

    @property
    def checkpoint(self) -> str:
        return f"{self.folder}/checkpoint.md"

    @property
    def notes(self) -> str:
        return f"{self.folder}/notes.md"

    def spill(self, topic: str) -> str:
        return f"{self.folder}/checkpoint-{topic}.md"

    def progress(self, task_id: str) -> str:
        return f"{self.folder}/tasks/{task_id}/progress.md"


@dataclass(frozen=True)
class FileKind:
    """The scope, type and session of a memory file, read from its path."""

    scope: str
    type: str
    session_id: str | None = None


def classify(root: str, relpath: str) -> FileKind:
    """Scope and type of `relpath` in the memory repo named `root` (project or global)."""
    if root == GLOBAL_ROOT:
        return FileKind("global", "memory" if relpath == "MEMORY.md" else _type_by_folder(relpath))
    if relpath == "MEMORY.md":
        return FileKind("project", "memory")
    for pattern, kind in ((_CHECKPOINT, "checkpoint"), (_NOTES, "notes"), (_PROGRESS, "progress")):
        match = pattern.match(relpath)
        if match:
            return FileKind("session", kind, match.group(1))
    session = _SESSION.match(relpath)
    if session:
        return FileKind("session", "other", session.group(1))
    return FileKind("project", _type_by_folder(relpath))


def _type_by_folder(relpath: str) -> str:
    head = relpath.split("/", 1)[0]
    return {"skills": "skill", "plans": "plan", "commands": "command", "agents": "agent"}.get(head, "other")


def memory_files(folder: Path) -> dict[str, os.stat_result]:
    """Every markdown file of a memory repo (relpath -> stat), leaving out git data, runs and caches."""
    found: dict[str, os.stat_result] = {}
    if not folder.is_dir():
        return found
    stack = [(str(folder), "")]
    while stack:
        path, prefix = stack.pop()
        try:
            entries = os.scandir(path)
        except OSError:
            continue
        with entries:
            for entry in entries:
                name = entry.name
                if name.startswith("."):
                    continue
                try:
                    if entry.is_dir(follow_symlinks=False):
                        if not (prefix == "" and name in SKIPPED_FOLDERS):
                            stack.append((entry.path, f"{prefix}{name}/"))
                    elif name.endswith(".md") and entry.is_file(follow_symlinks=False):
                        found[prefix + name] = entry.stat(follow_symlinks=False)
                except OSError:
                    continue
    return found


def global_memory_dir() -> Path:
    """The user-level global memory repo, in the user data dir."""
    return user_data_dir() / "memory"


def open_global_memory() -> VersionedStore:
    """Open the user's global memory repo, creating it with its MEMORY.md template on first use."""
    return open_memory_repo(global_memory_dir(), {"MEMORY.md": GLOBAL_MEMORY})
