"""The skills that can be trained (the catalogue): name, origin and whether an eval set exists."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from mimo_tui.skillopt.catalogue import SkillEntry


class SkillCatalogue(OptionList):
    """Skills found in the project, peers' folders and the shipped set; `t` trains the highlighted one."""

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self.entries: list[SkillEntry] = []

    def show_entries(self, entries: list[SkillEntry]) -> None:
        highlighted = self.highlighted_skill
        self.entries = entries
        self.clear_options()
        self.add_options([Option(self._prompt(entry), id=f"{entry.origin}:{entry.name}") for entry in entries])
        names = [entry.name for entry in entries]
        if entries:
            self.highlighted = names.index(highlighted) if highlighted in names else 0

    @property
    def highlighted_skill(self) -> str | None:
        if self.highlighted is None or not self.entries or self.highlighted >= len(self.entries):
            return None
        return self.entries[self.highlighted].name

    @staticmethod
    def _prompt(entry: SkillEntry) -> Text:
        text = Text(entry.name, style="bold" if entry.eval_dir else "dim")
        text.append(f"  {entry.origin}", style="dim")
        if not entry.eval_dir:
            text.append("  no eval set", style="yellow")
        return text
