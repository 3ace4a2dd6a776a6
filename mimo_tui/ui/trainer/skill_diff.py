"""The diff between the starting skill and the current best version."""

from __future__ import annotations

from rich.syntax import Syntax
from rich.text import Text
from textual.widgets import Static


class SkillDiff(Static):
    """Unified diff, v0001 against the best version so far, coloured as a diff."""

    def __init__(self, id: str | None = None) -> None:
        super().__init__("", id=id)
        self.diff_text = ""

    def show(self, diff: str, best_version: int) -> None:
        if diff == self.diff_text and diff:
            return
        self.diff_text = diff
        if best_version <= 1 or not diff:
            self.update(Text("Skill: no accepted change yet (the best is still v0001)", style="dim"))
            return
        self.update(Syntax(diff, "diff", theme="ansi_dark", word_wrap=True))
