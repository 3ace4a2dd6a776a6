"""The `/mcp` block in the conversation: each MCP server's state, tools, errors and stderr tail."""

from __future__ import annotations

import re

from rich.text import Text
from textual.widgets import Static

STATE_STYLES = {"ready": "green", "starting": "yellow", "failed": "red", "stopped": "dim", "disabled": "dim"}


class McpStatusBlock(Static):
    """A snapshot of the MCP servers as plain text (the same text as `mimo mcp list`)."""

    DEFAULT_CSS = """
    McpStatusBlock {
        height: auto;
        margin: 1 0 0 0;
        padding: 0 1;
        border-left: thick $accent;
        background: $surface;
    }
    """

    def __init__(self, text: str, states: dict[str, str]) -> None:
        self.text = text
        rendered = Text(text)
        for name, state in states.items():
            rendered.highlight_regex(rf"(?m)^{re.escape(name)}(?=  )", "bold")
            rendered.highlight_regex(rf"(?m)(?<=^{re.escape(name)}  )\S+  {re.escape(state)}\b", STATE_STYLES.get(state, ""))
        super().__init__(rendered)
