"""Credit per accepted edit: for every accepted step of several edits, what leaving each edit out undid."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import Static

MAX_CHARS = 90


class CreditPanel(Static):
    """One line per edit of each accepted step: fixed and broke counts on validation (paired, each left out in turn)."""

    def show(self, credit_by_step: dict[int, list[dict[str, Any]]], pending: list[int]) -> None:
        text = Text("Credit per accepted edit", style="bold")
        if not credit_by_step and not pending:
            text.append("\n  no accepted step of several edits yet (a single edit's credit is its step's flips)", style="dim")
        for step in sorted(credit_by_step):
            text.append(f"\n step {step}", style="bold")
            for share in credit_by_step[step]:
                body = " ".join(str(share.get("text", "")).split())
                body = body if len(body) <= MAX_CHARS else body[: MAX_CHARS - 1] + "…"
                fixed, broke = share.get("fixed") or [], share.get("broke") or []
                text.append(f"\n   {share.get('op', '?')}: ", style="bold")
                text.append(body)
                text.append(f"  fixed {len(fixed)}, broke {len(broke)}", style="red" if broke else "green" if fixed else "dim")
                if fixed or broke:
                    text.append(f"  ({', '.join([*fixed[:3], *(f'-{b}' for b in broke[:3])])})", style="dim")
        for step in pending:
            if step not in credit_by_step:
                text.append(f"\n step {step}: credit pending (scored once the steps are done)", style="dim")
        self.update(text)
