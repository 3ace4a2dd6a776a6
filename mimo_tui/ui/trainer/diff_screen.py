"""The diff between two skill versions of a run, full screen, Escape closes."""

from __future__ import annotations

from rich.syntax import Syntax
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static


class VersionDiffScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape", "dismiss", "Close", id="version_diff.close")]
    DEFAULT_CSS = """
    VersionDiffScreen { align: center middle; }
    VersionDiffScreen #version-diff { width: 96%; height: 92%; border: thick $primary; background: $surface; padding: 0 1; }
    VersionDiffScreen #version-diff-body { height: 1fr; }
    """

    def __init__(self, title: str, diff: str) -> None:
        super().__init__()
        self.title_text, self.diff = title, diff

    def compose(self) -> ComposeResult:
        with Vertical(id="version-diff"):
            yield Static(Text(f"{self.title_text}   (Esc closes)", style="bold"))
            with VerticalScroll(id="version-diff-body"):
                body = (Syntax(self.diff, "diff", theme="ansi_dark", word_wrap=True) if self.diff.startswith("---")
                        else Text(self.diff, style="dim"))
                yield Static(body, id="version-diff-text")
