"""Where stored messages are also sent for full-text history search (the memory layer's history index)."""

from __future__ import annotations

from typing import Protocol

# Kinds of history entries the index knows.
USER_TEXT = "user"
ASSISTANT_TEXT = "assistant"
TOOL_INPUT = "tool_input"
TOOL_OUTPUT = "tool_output"
ERROR_TEXT = "error"


class HistorySink(Protocol):
    """Receives every stored piece of conversation; `mimo_tui.memory.history_index.HistoryIndex` is one."""

    def add(self, session_id: str, message_id: int, role: str, kind: str, text: str) -> None: ...
