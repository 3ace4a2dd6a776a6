"""Records of the task tree: tasks, their statuses and change events."""

from __future__ import annotations

from dataclasses import dataclass

OPEN = "open"
IN_PROGRESS = "in_progress"
BLOCKED = "blocked"
DONE = "done"
ABANDONED = "abandoned"
STATUSES = (OPEN, IN_PROGRESS, BLOCKED, DONE, ABANDONED)
TERMINAL = (DONE, ABANDONED)
STATUS_ICONS = {OPEN: "○", IN_PROGRESS: "◐", BLOCKED: "⊘", DONE: "●", ABANDONED: "✕"}


class TaskError(Exception):
    """A task operation was refused; the message says why and what to do instead."""


@dataclass(frozen=True)
class Task:
    """One task of a session's tree; ids are T1, T2 and T1.1 for subtasks."""

    session_id: str
    id: str
    title: str
    status: str
    parent: str | None
    focus: bool
    note: str
    created_at: float
    updated_at: float

    @property
    def depth(self) -> int:
        return self.id.count(".")

    @property
    def icon(self) -> str:
        return STATUS_ICONS.get(self.status, "?")

    def line(self) -> str:
        """One line for listings: `◐ T1.2 title [in_progress, focus]`."""
        flags = self.status + (", focus" if self.focus else "")
        note = f" — {self.note}" if self.note else ""
        return f"{'  ' * self.depth}{self.icon} {self.id} {self.title} [{flags}]{note}"


@dataclass(frozen=True)
class TaskChanged:
    """Published after a task was created or changed."""

    session_id: str
    task_id: str
    operation: str
