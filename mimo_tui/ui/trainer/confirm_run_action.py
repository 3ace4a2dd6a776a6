"""Asks before a run's version goes into the live skill (or before a run's proposal is discarded): what would
change, then y (or Enter on the button) does it, n / Escape does not."""

from __future__ import annotations

from rich.syntax import Syntax
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static


class ConfirmRunAction(ModalScreen[bool]):
    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="run_action.yes"),
        Binding("n", "answer(False)", "No", id="run_action.no"),
        Binding("escape", "answer(False)", "No", id="run_action.cancel"),
    ]
    DEFAULT_CSS = """
    ConfirmRunAction { align: center middle; }
    ConfirmRunAction #run-action { width: 96%; height: 92%; border: thick $warning; background: $surface; padding: 0 1; }
    ConfirmRunAction #run-action-body { height: 1fr; }
    """

    def __init__(self, question: str, detail: str) -> None:
        super().__init__()
        self.question, self.detail = question, detail

    def compose(self) -> ComposeResult:
        with Vertical(id="run-action"):
            yield Static(Text(f"{self.question}   y yes · n / Esc no", style="bold"), id="run-action-question")
            with VerticalScroll(id="run-action-body"):
                body = (Syntax(self.detail, "diff", theme="ansi_dark", word_wrap=True) if self.detail.startswith("---")
                        else Text(self.detail, style="dim"))
                yield Static(body, id="run-action-detail")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
