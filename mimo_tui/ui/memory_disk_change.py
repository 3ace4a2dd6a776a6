"""A bar over the memory editor when the open file changed on disk while the user edits it: reload, keep mine, diff."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Static


class DiskChangeBar(Vertical):
    """Says who changed the file; its buttons answer with Chosen("reload" | "keep" | "diff")."""

    DEFAULT_CSS = """
    DiskChangeBar { height: auto; background: $warning 20%; padding: 0 1; display: none; }
    DiskChangeBar #memory-disk-change-text { height: auto; }
    DiskChangeBar Horizontal { height: 1; }
    DiskChangeBar Button { margin-right: 2; min-width: 10; }
    """

    class Chosen(Message):
        def __init__(self, choice: str) -> None:
            super().__init__()
            self.choice = choice

    def compose(self) -> ComposeResult:
        yield Static(id="memory-disk-change-text")
        with Horizontal():
            yield Button("Reload", id="disk-reload", compact=True)
            yield Button("Keep mine", id="disk-keep", compact=True)
            yield Button("Diff", id="disk-diff", compact=True)

    def announce(self, relpath: str, author: str) -> None:
        text = Text.assemble((relpath, "bold"), f" changed on disk ({author}) while you edit it.")
        self.query_one("#memory-disk-change-text", Static).update(text)
        self.display = True

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        choice = (event.button.id or "").removeprefix("disk-")
        if choice != "diff":
            self.display = False
        self.post_message(self.Chosen(choice))
