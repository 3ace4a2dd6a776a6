"""The session's tasks in the side column: one line each, the task in progress marked; F3 opens the full pane."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.events import Click
from textual.message import Message
from textual.widgets import Static

from mimo_tui.ui.chat.messages import SessionSwitched
from mimo_tui.ui.worker_results import deliver

STATUS_STYLE = {"in_progress": "bold", "blocked": "yellow", "done": "dim", "abandoned": "dim strike"}


class SideTasksChanged(Message, bubble=False):
    """The task store changed."""


class SideTasks(VerticalScroll):
    """Read-only list of the chat session's tasks; a click opens the tasks pane."""

    DEFAULT_CLASSES = "project-pane"
    DEFAULT_CSS = """
    SideTasks { padding: 0 1; }
    SideTasks #side-tasks-list { width: 1fr; }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.can_focus = False
        self.services: Any = None
        self.session_id: str | None = None
        self._unsubscribe: Any = None
        self._loads = 0

    def compose(self) -> ComposeResult:
        yield Static(Text("No tasks in this session yet.", style="dim"), id="side-tasks-list")

    def on_mount(self) -> None:
        chat = self.app.query("#chat-pane")
        current = chat.first().current_session() if chat else None
        if current is not None:
            self._follow(*current)

    def on_unmount(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()

    def on_session_switched(self, message: SessionSwitched) -> None:
        self._follow(message.services, message.session_id)

    def _follow(self, services: Any, session_id: str) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
        self.services, self.session_id = services, session_id
        self._unsubscribe = services.tasks.subscribe(lambda change: self.post_message(SideTasksChanged()))
        self.query_one("#side-tasks-list", Static).update(Text("loading tasks…", style="dim"))
        self.reload()

    def on_side_tasks_changed(self, message: SideTasksChanged) -> None:
        self.reload()

    def reload(self) -> None:
        if self.services is not None and self.session_id is not None:
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
        self.query_one("#side-tasks-list", Static).update(text.rstrip() if tasks else text)

    def on_click(self, event: Click) -> None:
        self.app.call_later(self.app.action_show_pane, "tasks")
