"""The scrolling conversation, anchored to the bottom until the user scrolls away."""

from __future__ import annotations

from textual.containers import VerticalScroll


class Conversation(VerticalScroll):
    """Holds the message blocks of one session."""

    DEFAULT_CSS = """
    Conversation {
        height: 1fr;
        layout: stream;
        padding: 0 1 1 1;
        scrollbar-size-vertical: 1;
    }
    """

    def on_mount(self) -> None:
        self.anchor()
