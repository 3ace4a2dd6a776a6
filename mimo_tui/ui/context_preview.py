"""Shows exactly the memory block the agent would inject now, with tokens per block against its cap."""

from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static, TextArea

from mimo_tui.memory.context import ContextBlock


class ContextPreview(ModalScreen[None]):
    """The assembled memory block of a session: a table of blocks and the full text."""

    BINDINGS = [Binding("escape,ctrl+t", "dismiss", "Close", id="context.close")]

    def __init__(self, block: ContextBlock, label: str) -> None:
        super().__init__()
        self.block = block
        self.label = label

    def compose(self) -> ComposeResult:
        table = Table(expand=True, box=None, padding=(0, 1))
        for column, justify in (("block", "left"), ("tokens", "right"), ("cap", "right"), ("cut", "right"), ("source", "left")):
            table.add_column(column, justify=justify)  # type: ignore[arg-type]
        for part in self.block.blocks:
            style = "dim" if part.empty else ("yellow" if part.cut_tokens else "")
            source = str(part.source) if part.source and not part.empty else ""
            table.add_row(part.title, str(part.tokens), str(part.cap), str(part.cut_tokens or ""), source, style=style)
        table.add_row("total", str(self.block.tokens), "", "", f"of a {self.block.context_window:,}-token window", style="bold")
        with Vertical(id="context-box"):
            yield Static(f"[b]Context preview[/b] · {self.label} · esc to close", id="context-title")
            yield Static(table, id="context-table")
            yield TextArea(self.block.text or "(nothing would be injected)", read_only=True, soft_wrap=True, id="context-text")
