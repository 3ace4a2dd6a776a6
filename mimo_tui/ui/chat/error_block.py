"""A provider error in the conversation, with the provider's own message and a retry button."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Button, Static

from mimo_tui.ui.chat.messages import RetryRequested


class ErrorBlock(Vertical):
    """What the provider said when it failed; Retry asks the model again."""

    DEFAULT_CSS = """
    ErrorBlock {
        height: auto;
        margin: 1 0 0 0;
        padding: 0 1;
        border-left: thick $error;
        background: $error 10%;
    }
    ErrorBlock Button { height: 1; border: none; min-width: 9; margin-top: 1; }
    """

    def __init__(self, message: str, provider_message: str, status: int | None, retryable: bool = True) -> None:
        super().__init__()
        self.message = message
        self.provider_message = provider_message
        self.status = status
        self.retryable = retryable

    def compose(self) -> ComposeResult:
        head = "Model error" + (f" (HTTP {self.status})" if self.status else "")
        yield Static(Text.assemble((head, "bold"), "\n", self.provider_message or self.message))
        if self.retryable:
            yield Button("Retry", id="retry", compact=True, variant="warning")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        event.button.disabled = True
        self.post_message(RetryRequested())
