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
        self.hidden: dict[str, list[str]] = {}

    def show_entries(self, entries: list[SkillEntry]) -> None:
        """One row per skill name: the entry that wins (highest precedence, listed first), marked when it hides others."""
        winners: dict[str, SkillEntry] = {}
        hidden: dict[str, list[str]] = {}
        for entry in entries:
            if entry.name in winners:
                hidden.setdefault(entry.name, []).append(entry.origin)
            else:
                winners[entry.name] = entry
        shown = list(winners.values())
        if shown == self.entries and hidden == self.hidden:
            return  # nothing changed on disk: keep the highlight where the user put it
        highlighted = self.highlighted_skill
        self.entries, self.hidden = shown, hidden
        self.clear_options()
        self.add_options([Option(self._prompt(entry, hidden.get(entry.name, [])), id=f"{entry.origin}:{entry.name}")
                          for entry in shown])
        names = [entry.name for entry in shown]
        if shown:
            self.highlighted = names.index(highlighted) if highlighted in names else 0

    @property
    def highlighted_skill(self) -> str | None:
        if self.highlighted is None or not self.entries or self.highlighted >= len(self.entries):
            return None
        return self.entries[self.highlighted].name

    @staticmethod
    def _prompt(entry: SkillEntry, hides: list[str] | None = None) -> Text:
        text = Text(entry.name, style="bold" if entry.eval_dir else "dim")
        text.append(f"  {entry.origin}", style="dim")
        if hides:
            text.append(f"  ✓ wins over {', '.join(hides)}", style="green")
        if not entry.eval_dir:
            text.append("  no eval set", style="yellow")
        return text
