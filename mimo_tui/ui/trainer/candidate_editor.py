"""Give a run a candidate by hand: the incumbent SKILL.md to edit, or a box for feedback to the optimizer.
Ctrl+S gives it to the run (its inbox; the trainer takes it at the next step boundary), Escape cancels."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static, TextArea


@dataclass(frozen=True)
class GivenCandidate:
    kind: str  # "edited" or "feedback"
    text: str


class CandidateEditor(ModalScreen[GivenCandidate | None]):
    BINDINGS = [
        Binding("ctrl+s", "give", "Give to the run", id="candidate.give", priority=True),
        Binding("escape", "cancel", "Cancel", id="candidate.cancel"),
    ]
    DEFAULT_CSS = """
    CandidateEditor { align: center middle; }
    CandidateEditor #candidate { width: 96%; height: 92%; border: thick $primary; background: $surface; padding: 0 1; }
    CandidateEditor #candidate-title { height: auto; }
    CandidateEditor TextArea { height: 1fr; }
    """

    def __init__(self, run_id: str, kind: str, text: str, base: str) -> None:
        super().__init__()
        self.run_id, self.kind, self.text, self.base = run_id, kind, text, base

    def compose(self) -> ComposeResult:
        with Vertical(id="candidate"):
            title = Text(f"{self.run_id}: ", style="bold")
            if self.kind == "edited":
                title.append(f"edit the skill ({self.base}) as a candidate", style="bold")
            else:
                title.append("feedback for the optimizer: it proposes edits from it and the last step's trajectories",
                             style="bold")
            title.append("\nCtrl+S gives it to the run: it is scored on validation and goes through the same gate at the "
                         "next step boundary · Esc cancels", style="dim")
            yield Static(title, id="candidate-title")
            yield TextArea(self.text, id="candidate-text", soft_wrap=True,
                           language="markdown" if self.kind == "edited" else None)

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()

    def action_give(self) -> None:
        text = self.query_one(TextArea).text
        if not text.strip():
            self.notify("nothing to give: the text is empty", severity="warning")
            return
        if self.kind == "edited" and text == self.text:
            self.notify("the skill is unchanged: edit it first (or Esc)", severity="warning")
            return
        self.dismiss(GivenCandidate(self.kind, text))

    def action_cancel(self) -> None:
        self.dismiss(None)
