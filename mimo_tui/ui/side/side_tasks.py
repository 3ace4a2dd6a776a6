"""The session's tasks in the side column: one line each, the task in progress marked; F3 opens the full pane."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.events import Click
from textual.message import Message
from textual.widgets import Static

from mimo_tui.ui.tasks.session_follow import FollowsSessionTasks
from mimo_tui.ui.worker_results import ShowsWorkerFailures, deliver

if TYPE_CHECKING:
    from mimo_tui.services import Services

STATUS_STYLE = {"in_progress": "bold", "blocked": "yellow", "done": "dim", "abandoned": "dim strike"}


class SideTasksChanged(Message, bubble=False):
    """The task store changed."""


class SideTasks(FollowsSessionTasks, ShowsWorkerFailures, VerticalScroll):
    """Read-only list of the chat session's tasks; a click opens the tasks pane."""

    DEFAULT_CLASSES = "project-pane"
    DEFAULT_CSS = """
    SideTasks { padding: 0 1; }
    SideTasks #side-tasks-list { width: 1fr; }
    """

    def __init__(self, services: Services, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.can_focus = False
        self.services = services
        self.session_id: str | None = None
        self._loads = 0

    def compose(self) -> ComposeResult:
        # Nothing is said about the session's tasks before they are read (a resumed session has some).
        yield Static(Text("loading tasks…", style="dim"), id="side-tasks-list")

    def tasks_changed(self) -> Message:
        return SideTasksChanged()

    def session_followed(self) -> None:
        self.query_one("#side-tasks-list", Static).update(Text("loading tasks…", style="dim"))
        self.reload()

    def on_side_tasks_changed(self, message: SideTasksChanged) -> None:
        self.reload()

    def reload(self) -> None:
        if self.session_id is not None:
            self._loads += 1
            self._load(self._loads, self.services, self.session_id)

    @work(thread=True, exit_on_error=False, group="side-tasks")
    def _load(self, load: int, services: Any, session_id: str) -> None:
        deliver(self, self._show, load, services.tasks.list(session_id))

    def _show(self, load: int, tasks: list[Any]) -> None:
        if load != self._loads:
            return  # a newer read, maybe of another session, is on its way
        text = Text()
        for task in tasks:
            depth = task.id.count(".")
            style = STATUS_STYLE.get(task.status, "")
            text.append("  " * depth + f"{task.icon} ", style=style)
            text.append(task.id, style="bold")
            text.append(f" {task.title}", style=style)
            if task.focus:
                text.append(" ◀", style="italic")
            text.append("\n")
        if not tasks:
            text = Text("No tasks in this session yet.\nF3 opens the tasks pane (a adds one).", style="dim")
        text.rstrip()
        self.query_one("#side-tasks-list", Static).update(text)

    def on_click(self, event: Click) -> None:
        self.app.call_later(self.app.action_show_pane, "tasks")
