"""The latest accepted and the latest rejected edits, with their score change, and why the latest step without an
edit made none."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import Static

from mimo_tui.ui.trainer.numbers import pct
from mimo_tui.ui.trainer.run_view import EditsSeen, StepRow

MAX_EDITS = 4
MAX_CHARS = 110


class EditsPanel(Static):
    """What the optimizer changed last, and what the gate turned down."""

    def show(self, accepted: EditsSeen | None, rejected: EditsSeen | None, no_edit: StepRow | None = None) -> None:
        text = Text()
        if accepted is None:
            text.append("Latest accepted: none yet", style="bold")
        else:
            text.append(f"Latest accepted: step {accepted.step} → v{accepted.version or 0:04d}", style="bold green")
            text.append(f"  val {pct(accepted.val_before)} → {pct(accepted.val_after)}")
            if accepted.commit:
                text.append(f"  commit {accepted.commit}", style="dim")
            _edits(text, accepted.edits, "+", "green", accepted.credit)
        text.append("\n")
        if rejected is None:
            text.append("Latest rejected: none yet", style="bold")
        else:
            delta = rejected.val_after
            text.append(f"Latest rejected: step {rejected.step}", style="bold red")
            if delta is not None:
                text.append(f"  Δ val {100 * delta:+.1f} points")
            _edits(text, rejected.edits, "−", "red")
        if no_edit is not None and no_edit.reason:
            text.append(f"\nLatest step without an edit: step {no_edit.step}", style="bold")
            text.append(f"\n   {no_edit.reason}", style="dim")
        self.update(text)


def _edits(text: Text, edits: list[dict[str, Any]], mark: str, style: str,
           credit: list[dict[str, Any]] | None = None) -> None:
    by_edit = {(c.get("op"), c.get("text")): c for c in credit or []}
    for edit in edits[:MAX_EDITS]:
        body = str(edit.get("text", "")).replace("\n", " ")
        if len(body) > MAX_CHARS:
            body = body[: MAX_CHARS - 1] + "…"
        text.append(f"\n {mark} ", style=style)
        text.append(f"{edit.get('op', '?')}: ", style="bold")
        text.append(body)
        share = by_edit.get((edit.get("op"), edit.get("text")))
        if share is not None:  # what leaving this edit out undid (paired, on validation)
            text.append(f"  [fixed {len(share.get('fixed', []))}, broke {len(share.get('broke', []))}]",
                        style="red" if share.get("broke") else "dim")
    if len(edits) > MAX_EDITS:
        text.append(f"\n   (+{len(edits) - MAX_EDITS} more)", style="dim")
