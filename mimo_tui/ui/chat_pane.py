"""The chat pane: the conversation with the agent."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input, Static


class ChatPane(Vertical):
    """Conversation and prompt; the agent loop arrives with the agent issue."""

    DEFAULT_CLASSES = "project-pane"

    def compose(self) -> ComposeResult:
        yield Static(
            "Chat with the agent. The agent loop is not built yet: what you type here is not sent anywhere.",
            id="chat-empty",
            classes="empty-state",
        )
        yield Input(placeholder="Ask the agent…", id="prompt")
