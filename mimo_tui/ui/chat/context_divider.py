"""The divider a context rebuild leaves in the chat: it opens the memory block the model was given."""

from __future__ import annotations

from textual.widgets import Collapsible, Static

from mimo_tui.token_figures import format_tokens


def divider_title(from_checkpoint: bool, before: int, after: int) -> str:
    source = "checkpoint" if from_checkpoint else "a summary (no checkpoint yet)"
    return f"context rebuilt from {source} · {format_tokens(before)} → {format_tokens(after)} tokens"


class ContextDivider(Collapsible):
    """Collapsed: one line saying the context was rebuilt; opened: the injected block, as sent."""

    DEFAULT_CSS = """
    ContextDivider { margin: 1 0; border-top: heavy $accent; border-bottom: none; background: transparent; }
    ContextDivider > Contents { padding: 0 1; color: $text-muted; }
    """

    def __init__(self, from_checkpoint: bool, before: int, after: int, injected: str, title: str = "") -> None:
        super().__init__(Static(injected, markup=False, classes="injected-block"),
                         title=title or divider_title(from_checkpoint, before, after), collapsed=True)
        self.add_class("context-divider")

    @classmethod
    def resumed(cls, from_checkpoint: bool, tokens: int, injected: str) -> ContextDivider:
        """In a resumed transcript, where the context the model is sent starts (the messages above are not sent)."""
        source = "checkpoint" if from_checkpoint else "a summary (no checkpoint yet)"
        title = f"context rebuilt from {source} · {format_tokens(tokens)} tokens sent from here"
        return cls(from_checkpoint, 0, tokens, injected, title)
