"""The list of training runs: id, skill, status, best validation score and final test score."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from mimo_tui.skillopt.run_reader import RunStatus
from mimo_tui.ui.trainer.numbers import pct

STATUS_STYLE = {"running": "bold yellow", "finished": "green", "stopped": "red"}
DECISION_STYLE = {"adopted": "bold green", "discarded": "dim"}


# A listed run is the reader's RunStatus: running, finished or stopped, with a note when that is a guess.
RunRow = RunStatus


class RunList(OptionList):
    """Runs, newest first; highlighting one shows its dashboard."""

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self.rows: list[RunRow] = []

    def show_rows(self, rows: list[RunRow]) -> None:
        if rows == self.rows:
            return
        selected = self.selected_run
        self.rows = rows
        self.clear_options()
        self.add_options([Option(self._prompt(row), id=row.run_id) for row in rows])
        ids = [row.run_id for row in rows]
        if rows:
            self.highlighted = ids.index(selected) if selected in ids else 0

    def select_run(self, run_id: str) -> None:
        ids = [row.run_id for row in self.rows]
        if run_id in ids:
            self.highlighted = ids.index(run_id)

    @property
    def selected_run(self) -> str | None:
        if self.highlighted is None or not self.rows or self.highlighted >= len(self.rows):
            return None
        return self.rows[self.highlighted].run_id

    @staticmethod
    def _prompt(row: RunRow) -> Text:
        text = Text(row.run_id, style="bold")
        text.append(f"\n  {row.skill} · ")
        text.append(row.status + (" (process gone)" if row.note.startswith("process gone") else ""),
                    style=STATUS_STYLE.get(row.status, ""))
        if row.decision:
            text.append(f" · {row.decision}", style=DECISION_STYLE.get(row.decision.split()[0], ""))
        text.append(f"\n  best val {pct(row.best_val)} · test final {pct(row.final_test)}", style="dim")
        return text
