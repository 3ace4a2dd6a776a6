"""Validation score of the current skill over the steps: a label and a sparkline."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Sparkline, Static

from mimo_tui.ui.trainer.numbers import pct
from mimo_tui.ui.trainer.run_view import RunView


class ScoreChart(Vertical):
    """The incumbent's validation score at the start and after each step."""

    def compose(self) -> ComposeResult:
        yield Static("", classes="trainer-chart-label")
        yield Sparkline([], summary_function=max, classes="trainer-sparkline")

    def show(self, view: RunView) -> None:
        series = view.val_series
        label = self.query_one(".trainer-chart-label", Static)
        if not series:
            label.update("validation: no score yet")
        else:
            path = " → ".join(pct(v) for v in _changes(series))
            label.update(f"validation over {len(series) - 1} step(s): {path}  (best v{view.best_version:04d})")
        self.query_one(Sparkline).data = series if len(series) > 1 else series * 2


def _changes(series: list[float]) -> list[float]:
    """The series with repeats dropped, so the label names only the moves."""
    kept: list[float] = []
    for value in series:
        if not kept or value != kept[-1]:
            kept.append(value)
    return kept
