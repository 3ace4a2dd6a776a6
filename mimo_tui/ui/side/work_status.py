"""One line under every pane: the chat session's current task and any training run in progress."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import work
from textual.widgets import Static

from mimo_tui.ui.worker_results import ShowsWorkerFailures, deliver

if TYPE_CHECKING:
    from mimo_tui.services import Services

REFRESH_S = 1.0


class WorkStatus(ShowsWorkerFailures, Static):
    """`task T2 ◐ write the docs · training date-normalizer (running, step 3)`; hidden when there is neither."""

    DEFAULT_CSS = """
    WorkStatus { height: 1; padding: 0 1; background: $panel; color: $text-muted; display: none; }
    """

    def on_mount(self) -> None:
        self.set_interval(REFRESH_S, self.reload)

    def __init__(self, services: Services, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.services = services

    def reload(self) -> None:
        if self.services.project is not None:
            self._load(self.services.project, self.services.session_id if self.services.ready else None)

    @work(thread=True, exit_on_error=False, exclusive=True, group="work-status")
    def _load(self, project: Any, session_id: str | None) -> None:
        task = None
        if session_id is not None:
            tasks = self.services.tasks.list(session_id)
            task = next((t for t in tasks if t.focus), None) or next((t for t in tasks if t.status == "in_progress"), None)
        running = [run for run in self.services.run_statuses(set())[:5] if run.status == "running"]
        deliver(self, self._show, task, running)

    def _show(self, task: Any, running: list[Any]) -> None:
        text = Text()
        if task is not None:
            text.append("task ", style="dim")
            text.append(f"{task.icon} {task.id} ", style="bold")
            text.append(task.title)
        for run in running:
            if text:
                text.append("  ·  ")
            text.append("training ", style="dim")
            text.append(run.skill, style="bold")
            text.append(" (running, F4)")
        self.display = bool(text)
        # update() re-lays out the whole screen (a long chat included): only when the line changed.
        if self.content != text:
            self.update(text)
