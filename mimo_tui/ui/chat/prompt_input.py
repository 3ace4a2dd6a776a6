"""The prompt input, completing slash commands as you type."""

from __future__ import annotations

from collections.abc import Callable

from textual import events
from textual.suggester import Suggester

from mimo_tui.ui.chat import slash_commands
from mimo_tui.ui.quiet_input import QuietInput


class SlashSuggester(Suggester):
    """Completes slash commands, and the arguments some take (such as MCP server names), case-insensitively."""

    def __init__(self, arguments: Callable[[], list[str]] | None = None) -> None:
        super().__init__(use_cache=False, case_sensitive=True)
        self.arguments = arguments

    async def get_suggestion(self, value: str) -> str | None:
        if not value.startswith("/"):
            return None
        candidates = slash_commands.command_names()
        if " " in value and self.arguments is not None:
            candidates = self.arguments()
        lowered = value.lower()
        return next((candidate for candidate in candidates if candidate.lower().startswith(lowered)), None)


class PromptInput(QuietInput):
    """Where the user types; `/` commands complete inline (→ or End accepts)."""

    def __init__(self, arguments: Callable[[], list[str]] | None = None, **kwargs: object) -> None:
        super().__init__(
            placeholder="Ask the agent…  (/help for commands, Tab switches mode, Esc cancels)",
            suggester=SlashSuggester(arguments),
            **kwargs,  # type: ignore[arg-type]
        )
        self.key_typed: Callable[[], None] | None = None  # told of every key first (the stream draws after its echo)

    def _on_key(self, event: events.Key) -> None:
        # Textual calls each class's own handler in turn: Input's, which inserts the character, runs after this.
        if self.key_typed is not None and event.key != "enter":  # a request sent is no typing: its answer shows at once
            self.key_typed()

    def on_mount(self) -> None:
        # A blinking cursor makes headless screenshots differ from run to run.
        if self.app.is_headless:
            self.cursor_blink = False

    def _watch_value(self, value: str) -> None:
        # Only `/` commands complete: other text starts no suggestion worker per key.
        suggester = self.suggester
        if not value.startswith("/"):
            self.suggester = None
        try:
            super()._watch_value(value)
        finally:
            self.suggester = suggester
