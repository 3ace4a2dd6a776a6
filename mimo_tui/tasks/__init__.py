"""The task tree (T1, T1.1 ...) of a session and its store."""

from mimo_tui.tasks.records import (
    ABANDONED, BLOCKED, DONE, IN_PROGRESS, OPEN, STATUS_ICONS, STATUSES, Task, TaskChanged, TaskError,
)
from mimo_tui.tasks.progress import ProgressLog
from mimo_tui.tasks.store import TaskStore

__all__ = [
    "ABANDONED", "BLOCKED", "DONE", "IN_PROGRESS", "OPEN", "STATUS_ICONS", "STATUSES", "Task", "TaskChanged",
    "ProgressLog", "TaskError", "TaskStore",
]
