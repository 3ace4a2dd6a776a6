"""The dashboard's header: skill, models, status, stop reason, epoch and step progress."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from mimo_tui.ui.trainer.numbers import model_label
from mimo_tui.ui.trainer.run_list import DECISION_STYLE, STATUS_STYLE
from mimo_tui.ui.trainer.run_view import RunView


class RunHeader(Static):
    """Who trains what, where the run is, and why it stopped."""

    def show(self, view: RunView, status: str, decision: str = "") -> None:
        text = Text.assemble((view.skill, "bold"), "  ", (status, STATUS_STYLE.get(status, "")))
        if view.stop_reason and view.stop_reason != "finished":
            text.append(f" · {view.stop_reason}", style="red")
        if decision:
            text.append(f" · {decision}", style=DECISION_STYLE.get(decision.split()[0], ""))
        if view.segments > 1:
            text.append(f" · resumed {view.segments - 1}x", style="dim")
        text.append(f"   {view.run_id}", style="dim")
        if view.events_seen == 0:
            text.append("\nwaiting for the run's first events…", style="dim")
            self.update(text)
            return
        text.append(f"\ntarget {model_label(view.target)} · optimizer {model_label(view.optimizer)}")
        progress = f"\nepoch {view.epoch}/{view.epochs or '?'} · step {view.step}"
        if view.batch_size:
            progress += f" (batch {view.batch_size}, edit budget {view.edit_budget})"
        progress += f" · {len(view.steps)} step(s) finished"
        text.append(progress)
        if view.stage and status == "running":
            stage, done, total, errors = view.stage
            filled = int(16 * done / max(1, total))
            text.append(f"\n{stage:<14} [{'#' * filled:<16}] {done}/{total}" + (f" ({errors} errors)" if errors else ""), style="cyan")
        self.update(text)
