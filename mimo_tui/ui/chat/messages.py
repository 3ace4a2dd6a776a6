"""Messages the chat widgets post to the chat pane."""

from __future__ import annotations

from textual.message import Message


class RetryRequested(Message):
    """The user asked to retry the turn after a provider error."""


class PermissionAnswered(Message):
    """The user answered a permission prompt (once, always or reject)."""

    def __init__(self, answer: str) -> None:
        super().__init__()
        self.answer = answer


class SessionChosen(Message):
    """A session was picked to resume."""

    def __init__(self, session_id: str) -> None:
        super().__init__()
        self.session_id = session_id


class SessionSwitched(Message, bubble=False):
    """The chat now runs another session; panes showing per-session data follow it."""

    def __init__(self, session_id: str) -> None:
        super().__init__()
        self.session_id = session_id
