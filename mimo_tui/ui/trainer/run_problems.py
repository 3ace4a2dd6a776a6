"""Problems with a run's files (corrupt lines, a missing summary) and the errors the run reported."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

MAX_LINES = 6


class RunProblems(Static):
    """Shown only when something is wrong; the dashboard keeps working around it."""

    def show(self, problems: list[str], errors: list[str]) -> None:
        self.display = bool(problems or errors)
        lines = [("⚠ " + p, "yellow") for p in problems[-MAX_LINES:]] + [("✖ " + e, "red") for e in errors[-MAX_LINES:]]
        text = Text()
        for i, (line, style) in enumerate(lines):
            text.append(("\n" if i else "") + line, style=style)
        hidden = len(problems) + len(errors) - len(lines)
        if hidden > 0:
            text.append(f"\n(+{hidden} more)", style="dim")
        self.update(text)
