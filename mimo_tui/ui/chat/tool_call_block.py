"""A tool call in the conversation: collapsible, with arguments, result, duration and status."""

from __future__ import annotations

import json
from typing import Any

from rich.text import Text
from textual.widgets import Button, Collapsible, Static

RESULT_PREVIEW_LINES = 24
RESULT_PREVIEW_CHARS = 2_000
STATUS_ICONS = {"running": "…", "ok": "✓", "error": "✗", "denied": "⊘", "refused": "⊘", "cancelled": "■"}


def short_arguments(arguments: dict[str, Any], raw: str) -> str:
    """A one-line hint of what the call is about: its path, command, pattern or op."""
    for key in ("path", "command", "pattern", "op", "query", "name"):
        value = arguments.get(key)
        if isinstance(value, str) and value:
            first = value.splitlines()[0] if value.splitlines() else value
            return first[:70] + ("…" if len(first) > 70 else "")
    return raw[:70]


def preview_of(content: str) -> tuple[str, bool]:
    """The head of a long result and whether it was cut."""
    lines = content.splitlines()
    head = "\n".join(lines[:RESULT_PREVIEW_LINES])[:RESULT_PREVIEW_CHARS]
    return head, head != content


class ToolCallBlock(Collapsible):
    """Shows one tool call; long results are cut, with a button to show all of it."""

    DEFAULT_CSS = """
    ToolCallBlock {
        margin: 0 0 0 1;
        padding: 0;
        border-top: none;
        background: $surface;
    }
    ToolCallBlock.error CollapsibleTitle { color: $error; }
    ToolCallBlock.denied CollapsibleTitle, ToolCallBlock.refused CollapsibleTitle { color: $warning; }
    ToolCallBlock .tool-args { color: $text-muted; }
    ToolCallBlock .tool-result { margin-top: 1; }
    ToolCallBlock Button { min-width: 10; height: 1; border: none; margin-top: 1; }
    """

    def __init__(self, call_id: str, tool: str, arguments: dict[str, Any], raw_arguments: str) -> None:
        self.call_id = call_id
        self.tool = tool
        self.arguments = arguments
        self.raw_arguments = raw_arguments
        self.status = "running"
        self.duration_s = 0.0
        self.content = ""
        self._args = Static(Text(self._pretty_arguments()), classes="tool-args")
        self._result = Static("", classes="tool-result")
        self._show_all = Button("Show all", classes="show-all", compact=True)
        self._show_all.display = False
        super().__init__(self._args, self._result, self._show_all, title=self._title_text(), collapsed=True)

    def _pretty_arguments(self) -> str:
        if self.arguments:
            return json.dumps(self.arguments, indent=2, ensure_ascii=False)
        return self.raw_arguments or "(no arguments)"

    def _title_text(self) -> str:
        hint = short_arguments(self.arguments, self.raw_arguments)
        timing = "" if self.status == "running" else f" · {self.status} · {self.duration_s * 1000:.0f} ms"
        return f"{STATUS_ICONS.get(self.status, '?')} {self.tool} {hint}{timing}"

    def finish(self, content: str, status: str, duration_s: float) -> None:
        self.content = content
        self.status = status
        self.duration_s = duration_s
        self.add_class(status)
        head, cut = preview_of(content)
        total = len(content.splitlines())
        self._result.update(Text(head + (f"\n… ({total} lines in all)" if cut else "")))
        self._show_all.display = cut
        self.title = self._title_text()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button is self._show_all:
            event.stop()
            self._result.update(Text(self.content))
            self._show_all.display = False
