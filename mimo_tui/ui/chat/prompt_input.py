"""The prompt input, completing slash commands as you type."""

from __future__ import annotations

from textual.suggester import SuggestFromList
from textual.widgets import Input

SLASH_COMMANDS = {
    "/help": "list the commands",
    "/mode": "switch mode: /mode build | /mode plan (or press Tab)",
    "/model": "use another model: /model openai/gpt-4o-mini",
    "/new": "start a new session",
    "/sessions": "pick a session to resume",
    "/memory": "open the memory pane",
    "/task": "add a task: /task TITLE (or open the task pane)",
}


class PromptInput(Input):
    """Where the user types; `/` commands complete inline (→ or End accepts)."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(
            placeholder="Ask the agent…  (/help for commands, Tab switches mode, Esc cancels)",
            suggester=SuggestFromList(list(SLASH_COMMANDS), case_sensitive=False),
            **kwargs,  # type: ignore[arg-type]
        )

    def on_mount(self) -> None:
        # A blinking cursor makes headless screenshots differ from run to run.
        if self.app.is_headless:
            self.cursor_blink = False
