"""One row per finished step: action (or why no edit was made), validation before and after, flips, edits and time."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from mimo_tui.ui.trainer.numbers import pct
from mimo_tui.ui.trainer.run_view import StepRow

ACTION_STYLE = {"accept": "green", "reject": "red", "undecided": "yellow", "no_edits": "dim"}
COLUMNS = ("step", "ep", "action", "val before → after", "flips +/−", "edits a/s/r", "sec")


class StepTable(DataTable):
    """The per-step records of the run (the same as steps/step_NNNN/record.json)."""

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.rows_shown: list[StepRow] = []

    def on_mount(self) -> None:
        self.add_columns(*COLUMNS)

    def show(self, rows: list[StepRow]) -> None:
        if rows == self.rows_shown:
            return
        self.rows_shown = rows
        self.clear()
        for row in rows:
            after = pct(row.val_after) if row.val_after is not None else "—"
            self.add_row(
                str(row.step), str(row.epoch), Text(row.label, style=ACTION_STYLE.get(row.action, "")),
                f"{pct(row.val_before)} → {after}", f"+{row.improved} / −{row.regressed}",
                f"{row.applied}/{row.skipped}/{row.refused}", "—" if row.seconds is None else f"{row.seconds:.1f}",
                key=str(row.step),
            )
