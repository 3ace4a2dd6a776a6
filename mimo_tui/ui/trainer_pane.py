"""The trainer dashboard pane."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static


class TrainerPane(Vertical):
    """Training runs: epochs, steps, scores and edits."""

    DEFAULT_CLASSES = "project-pane"

    def compose(self) -> ComposeResult:
        yield Static("No training runs yet: `mimo skill train <skill>`", classes="empty-state")
