"""The scrolling conversation, anchored to the bottom until the user scrolls away."""

from __future__ import annotations

from textual import events
from textual.containers import VerticalScroll


class Conversation(VerticalScroll):
    """Holds the message blocks of one session; clicking a block leaves the keyboard with the prompt."""

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

    def on_focus(self, event: events.Focus) -> None:
        self._give_focus_back()

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        from mimo_tui.ui.chat.permission_prompt import PermissionPrompt

        # A permission prompt asks the user a question: it keeps the keyboard until answered.
        if not any(isinstance(node, PermissionPrompt) for node in event.widget.ancestors_with_self):
            self._give_focus_back()

    def _give_focus_back(self) -> None:
        prompt = self.screen.query("#prompt")
        if prompt:
            # After the click is handled, so a collapsible title still toggles.
            self.call_after_refresh(prompt.first().focus)
