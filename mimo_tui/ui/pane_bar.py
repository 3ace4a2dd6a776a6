"""One line naming the four panes and their keys; the active one is highlighted, each is clickable."""

from __future__ import annotations

from rich.text import Text
from textual.events import Click
from textual.reactive import reactive
from textual.widgets import Static


class PaneBar(Static):
    """A tab bar drawn as a single line: cheaper to mount than a TabbedContent."""

    active: reactive[str] = reactive("chat")

    def __init__(self, panes: tuple[tuple[str, str, str], ...], id: str | None = None) -> None:
        super().__init__(id=id)
        self.panes = panes  # (pane id, title, key)
        self._spans: list[tuple[int, int, str]] = []

    def render(self) -> Text:
        text = Text()
        self._spans = []
        for pane_id, title, key in self.panes:
            start = len(text)
            text.append(f" {title} ", style="bold reverse" if pane_id == self.active else "bold")
            text.append(f"{key}", style="dim")
            self._spans.append((start, len(text), pane_id))
            text.append("   ")
        return text

    def on_click(self, event: Click) -> None:
        for start, end, pane_id in self._spans:
            if start <= event.x < end:
                self.app.call_later(self.app.action_show_pane, pane_id)
