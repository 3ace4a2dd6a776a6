"""The trainer in the side column: the newest run's skill, status, step, scores and spend, refreshed every second."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import work
from textual.containers import VerticalScroll
from textual.events import Click
from textual.widgets import Static

from mimo_tui.ui.messages import ProjectOpened
from mimo_tui.ui.trainer.numbers import pct
from mimo_tui.ui.worker_results import ShowsWorkerFailures, deliver

if TYPE_CHECKING:
    from mimo_tui.services import Services

REFRESH_S = 1.0
STATUS_STYLE = {"running": "bold yellow", "finished": "green", "stopped": "red"}


class SideTrainer(ShowsWorkerFailures, VerticalScroll):
    """A summary of the latest training run; a click opens the trainer pane."""

    DEFAULT_CLASSES = "project-pane"
    DEFAULT_CSS = """
    SideTrainer { padding: 0 1; }
    """

    def __init__(self, services: Services, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.can_focus = False
        self.services = services
        self.project: Any = None

    def compose(self):
        yield Static(Text("No training runs yet.", style="dim"), id="side-trainer-summary")

    def on_project_opened(self, message: ProjectOpened) -> None:
        self.project = message.project
        self.reload()
        self.set_interval(REFRESH_S, self.reload)

    @work(thread=True, exit_on_error=False, exclusive=True, group="side-trainer")
    def reload(self) -> None:
        from mimo_tui.skillopt.catalogue import find_skills

        runs = self.services.run_statuses(set())
        skills = [entry.name for entry in find_skills(self.project.root, self.project.workspace.mimo_dir) if entry.eval_dir]
        deliver(self, self._show, runs[:3], skills)

    def _show(self, runs: list[Any], skills: list[str]) -> None:
        text = Text()
        for n, run in enumerate(runs):
            text.append(run.skill, style="bold" if n == 0 else "")
            text.append(" · ")
            text.append(run.status + (" (process gone)" if run.note.startswith("process gone") else ""),
                        style=STATUS_STYLE.get(run.status, ""))
            text.append(f"\n  {run.run_id}", style="dim")
            text.append(f"\n  best val {pct(run.best_val)}")
            if run.final_test is not None:
                text.append(f" · test {pct(run.final_test)}")
            if run.note:
                text.append(f"\n  {run.note}", style="yellow")
            text.append("\n\n")
        if not runs:
            text.append("No training runs yet.\n\n", style="dim")
        if skills:
            text.append("Trainable skills: ", style="dim")
            text.append(", ".join(skills))
            text.append("\nF4 opens the trainer (t trains).", style="dim")
        summary = self.query_one("#side-trainer-summary", Static)
        # update() re-lays out the whole screen (a long chat included): only when the summary changed.
        if summary.content != text:
            summary.update(text)

    def on_click(self, event: Click) -> None:
        self.app.call_later(self.app.action_show_pane, "trainer")
