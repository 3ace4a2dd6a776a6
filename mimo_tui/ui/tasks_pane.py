"""The task tree pane."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static


class TasksPane(Vertical):
    """The session's task tree (T1, T1.1 ...)."""

    DEFAULT_CLASSES = "project-pane"

    def compose(self) -> ComposeResult:
        yield Static(
            "No tasks yet. Tasks (T1, T1.1 …) appear here as the agent creates them in a session.",
            classes="empty-state",
        )
