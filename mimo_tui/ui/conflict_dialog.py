"""Asks what to do when a save would overwrite a file that changed on disk."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static


class ConflictDialog(ModalScreen[str]):
    """Reload from disk, overwrite it, view the diff, or cancel; answers with that word."""

    BINDINGS = [
        Binding("r", "answer('reload')", "Reload", id="conflict.reload"),
        Binding("o", "answer('overwrite')", "Overwrite", id="conflict.overwrite"),
        Binding("d", "answer('diff')", "View diff", id="conflict.diff"),
        Binding("escape", "answer('cancel')", "Cancel", id="conflict.cancel"),
    ]

    def __init__(self, relpath: str) -> None:
        super().__init__()
        self.relpath = relpath

    def compose(self) -> ComposeResult:
        with Vertical(id="conflict-box"):
            yield Static(f"[b]{self.relpath} changed on disk[/b] since you opened it. Your text is kept in the editor.")
            with Horizontal(id="conflict-buttons"):
                yield Button("Reload (r)", id="reload")
                yield Button("Overwrite (o)", id="overwrite", variant="warning")
                yield Button("View diff (d)", id="diff")
                yield Button("Cancel (esc)", id="cancel")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id or "cancel")

    def action_answer(self, answer: str) -> None:
        self.dismiss(answer)
