"""Asks before a run's version goes into the live skill, with its numbered edits to choose from: space toggles an
edit, y adopts the whole version when every edit is chosen or only the chosen edits otherwise, n / Escape does not."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import SelectionList, Static
from textual.widgets.selection_list import Selection

from mimo_tui.ui.trainer.confirm_run_action import ConfirmRunAction



def edit_prompt(edit: dict[str, Any]) -> Text:
    """One edit as the list shows it: number, where, what, and the validation items it fixed and broke."""
    text = Text(f"{edit['n']:>2}. ", style="bold")
    text.append(f"v{int(edit.get('version') or 0):04d} {edit.get('op') or '?'} in {edit.get('file') or 'SKILL.md'}: ",
                style="cyan")
    body = " ".join(str(edit.get("text") or "").split())
    text.append(body if len(body) <= 90 else body[:89] + "…")
    credit = edit.get("credit")
    if credit:
        text.append(f"  fixed {len(credit.get('fixed') or [])}, broke {len(credit.get('broke') or [])}",
                    style="green" if not credit.get("broke") else "yellow")
    return text


class AdoptScreen(ConfirmRunAction):
    DEFAULT_CSS = """
    AdoptScreen { align: center middle; }
    AdoptScreen #run-action { width: 96%; height: 92%; border: thick $warning; background: $surface; padding: 0 1; }
    AdoptScreen #adopt-edits { height: auto; max-height: 12; }
    AdoptScreen #run-action-body { height: 1fr; }
    """

    def __init__(self, question: str, detail: str, edits: list[dict[str, Any]]) -> None:
        super().__init__(question, detail)
        self.edits = edits

    def compose(self) -> ComposeResult:
        if not self.edits:
            yield from super().compose()
            return
        from rich.syntax import Syntax

        with Vertical(id="run-action"):
            yield Static(Text(f"{self.question}   space toggles an edit · y adopt the chosen · n / Esc no", style="bold"),
                         id="run-action-question")
            yield SelectionList[int](*[Selection(edit_prompt(e), int(e["n"]), True) for e in self.edits], id="adopt-edits")
            with VerticalScroll(id="run-action-body"):
                body = (Syntax(self.detail, "diff", theme="ansi_dark", word_wrap=True) if self.detail.startswith("---")
                        else Text(self.detail, style="dim"))
                yield Static(body, id="run-action-detail")

    def on_mount(self) -> None:
        if self.edits:
            self.query_one(SelectionList).focus()

    @property
    def chosen(self) -> list[int]:
        return sorted(self.query_one(SelectionList).selected) if self.edits else []

    def action_answer(self, yes: bool) -> None:
        if not yes:
            self.dismiss(None)
            return
        if not self.edits or len(self.chosen) == len(self.edits):
            self.dismiss("all")
            return
        if not self.chosen:
            self.notify("no edit chosen: space toggles one, or n / Esc to adopt nothing", severity="warning")
            return
        self.dismiss(self.chosen)
