"""Records, events and errors of the versioned store."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass

ROLES = ("user", "agent", "subagent", "checkpoint-writer", "dream", "distill", "skillopt", "external")


@dataclass(frozen=True)
class Writer:
    """Who is writing; the role decides which paths of the memory repo it may touch."""

    role: str
    session_id: str | None = None
    task_id: str | None = None

    def allowed_patterns(self) -> tuple[str, ...]:
        if self.role in ("user", "external"):
            return ("*",)
        if self.role == "dream":  # memory files only: never skills, config, runs or anything outside .mimo/
            return ("MEMORY.md", "sessions/*")
        if self.role == "distill":
            return ("skills/*", "commands/*", "agents/*")
        if self.role == "checkpoint-writer":
            return (f"sessions/{self.session_id}/*",) if self.session_id else ()
        if self.role == "subagent":
            if self.session_id and self.task_id:
                return (f"sessions/{self.session_id}/tasks/{self.task_id}/*",)
            return ()
        if self.role == "skillopt":
            return ("skills/*", "runs/*")
        if self.role == "agent":
            return ("MEMORY.md", "sessions/*", "plans/*", "skills/*", "commands/*", "agents/*")
        return ()

    def may_write(self, relpath: str) -> bool:
        return any(fnmatch.fnmatchcase(relpath, pattern) for pattern in self.allowed_patterns())

    def may_add_lines_to(self, relpath: str) -> bool:
        """Files this role may only add lines to (see only_adds_lines): the checkpoint writer's durable facts."""
        return self.role == "checkpoint-writer" and bool(self.session_id) and relpath == "MEMORY.md"


DURABLE_HEADING = "## Discovered durable knowledge"


def only_adds_lines(before: str, after: str, section: str = DURABLE_HEADING) -> bool:
    """Whether `after` keeps every line of `before` in order and adds lines only inside `section` (a heading line)."""
    old = before.rstrip("\n").split("\n") if before.strip() else []
    new = after.rstrip("\n").split("\n")
    heading = ""
    at = 0
    for line in new:
        if at < len(old) and line == old[at]:
            at += 1
        elif heading.strip() != section and not (at == len(old) and (line == section or not line.strip())):
            return False
        if line.startswith("## "):
            heading = line
    return at == len(old)


USER = Writer("user")
EXTERNAL = Writer("external")


@dataclass(frozen=True)
class CommitInfo:
    """One commit of the memory repo."""

    sha: str
    author: str
    timestamp: int
    message: str

    @property
    def short(self) -> str:
        return self.sha[:8]


@dataclass(frozen=True)
class FileSnapshot:
    """A file as read from disk: its text (None when binary or not UTF-8) and a digest for conflict checks."""

    relpath: str
    text: str | None
    digest: str
    exists: bool
    size: int = 0

    @property
    def is_binary(self) -> bool:
        return self.exists and self.text is None


@dataclass(frozen=True)
class FileChanged:
    """Published after a commit touched a file of the memory repo."""

    relpath: str
    sha: str
    author: str
    message: str
    deleted: bool = False


class StoreError(Exception):
    """A store operation failed; the message is meant for the user."""


class ConflictError(StoreError):
    """The file changed on disk since it was read; the write was refused."""

    def __init__(self, relpath: str, current: FileSnapshot) -> None:
        super().__init__(f"{relpath} changed on disk since it was opened; the save was refused")
        self.relpath = relpath
        self.current = current


class SandboxError(StoreError):
    """A writer tried to write outside its role's sandbox."""


class RevertConflict(StoreError):
    """A revert overlapped later edits; it was aborted and the files left as they were."""


class RepoDamaged(StoreError):
    """The memory repo cannot be used as it is."""


class WriteFailed(StoreError):
    """A write could not be committed; the file was put back as it was, so disk and history agree."""
