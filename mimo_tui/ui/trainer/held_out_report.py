"""The test split report: the starting, best-on-validation and final skills."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import Static

from mimo_tui.ui.trainer.numbers import pct

LABELS = ("baseline", "best", "final")


class HeldOutReport(Static):
    """Baseline / best / final scores on the held-out test split, when the run got that far."""

    def show(self, test: dict[str, dict[str, Any]]) -> None:
        text = Text("Test  ", style="bold")
        if not test:
            text.append("not scored yet (scored when the run finishes)", style="dim")
            self.update(text)
            return
        for i, label in enumerate(LABELS):
            entry = test.get(label) or {}
            text.append(" · " if i else "")
            text.append(f"{label} ")
            text.append(pct(entry.get("score")), style="bold")
            if entry.get("version"):
                text.append(f" (v{int(entry['version']):04d})", style="dim")
            elif entry.get("note"):
                text.append(f" ({entry['note']})", style="dim")
        self.update(text)
