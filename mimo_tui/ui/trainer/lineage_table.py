"""The run's candidates: each version with its parent, step, fate and validation score; turned-down candidates too."""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable

from mimo_tui.ui.trainer.numbers import pct
from mimo_tui.ui.trainer.run_view import Candidate

STATUS_STYLE = {"accepted": "green", "baseline": "bold", "rejected": "red", "undecided": "yellow", "slow update": "cyan",
                "slow update rejected": "red", "slow update undecided": "yellow"}
COLUMNS = ("candidate", "parent", "step", "fate", "val", "by")


class LineageTable(DataTable):
    """Enter diffs a version against its parent; m marks a version, d diffs the marked one against the highlighted."""

    BINDINGS = [
        Binding("m", "mark", "Mark version", id="trainer.lineage.mark"),
        Binding("d", "diff_marked", "Diff marked → this", id="trainer.lineage.diff"),
    ]

    class DiffAsked(Message):
        def __init__(self, old: int, new: int) -> None:
            super().__init__()
            self.old, self.new = old, new

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.shown: list[Candidate] = []
        self.marked: int | None = None

    def on_mount(self) -> None:
        self.add_columns(*COLUMNS)

    def show(self, lineage: list[Candidate]) -> None:
        rows = [Candidate(**vars(c)) for c in lineage]
        if rows == self.shown:
            return
        self.shown = rows
        self._fill()

    def _fill(self) -> None:
        cursor = self.cursor_row
        self.clear()
        for number, candidate in enumerate(self.shown):
            label = candidate.label + (" *" if candidate.version is not None and candidate.version == self.marked else "")
            self.add_row(label, "—" if candidate.parent is None else f"v{candidate.parent:04d}",
                         str(candidate.step) if candidate.step else "—",
                         Text(candidate.status, style=STATUS_STYLE.get(candidate.status, "")), pct(candidate.score),
                         Text("by hand" + (f" ({candidate.by_hand})" if candidate.by_hand else ""), style="magenta")
                         if candidate.by_hand else "optimizer" if candidate.step else "", key=str(number))
        if self.row_count:
            self.move_cursor(row=min(cursor, self.row_count - 1))

    @property
    def highlighted(self) -> Candidate | None:
        return self.shown[self.cursor_row] if 0 <= self.cursor_row < len(self.shown) else None

    def action_mark(self) -> None:
        candidate = self.highlighted
        if candidate is None or candidate.version is None:
            self.notify("only a version (vNNNN) can be marked: a turned-down candidate has no file", severity="warning")
            return
        self.marked = candidate.version
        self._fill()
        self.notify(f"marked v{candidate.version:04d}: highlight another version and press d")

    def action_diff_marked(self) -> None:
        candidate = self.highlighted
        if self.marked is None:
            self.notify("mark a version with m first (Enter diffs a version against its parent)", severity="warning")
        elif candidate is None or candidate.version is None:
            self.notify("highlight a version (vNNNN) to diff against", severity="warning")
        else:
            self.post_message(self.DiffAsked(self.marked, candidate.version))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        candidate = self.highlighted
        if candidate is None or candidate.version is None:
            self.notify("a turned-down candidate has no version file: its edits are under the step", severity="warning")
        elif candidate.parent is None:
            self.notify("v0001 is the starting skill: it has no parent (m marks it, d diffs it against another)")
        else:
            self.post_message(self.DiffAsked(candidate.parent, candidate.version))
