"""What the run spent: provider calls, cache hits, tokens and dollars, against its caps."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import Static

from mimo_tui.ui.trainer.numbers import usd


class SpendPanel(Static):
    """Spend so far (from the latest budget event) with the share of any cap used."""

    def show(self, budget: dict[str, Any]) -> None:
        text = Text("Spend ", style="bold")
        if not budget:
            text.append("nothing yet", style="dim")
            self.update(text)
            return
        calls, max_calls = budget.get("calls") or 0, budget.get("max_calls")
        spent, max_usd = budget.get("usd") or 0.0, budget.get("max_usd")
        prompt, completion = budget.get("prompt_tokens") or 0, budget.get("completion_tokens") or 0
        text.append(f" {calls:,} calls")
        text.append(_cap(calls, max_calls, f"{max_calls:,}" if max_calls else ""))
        text.append(f" · {budget.get('cache_hits') or 0:,} cache hits · {prompt + completion:,} tokens "
                    f"({prompt:,} in, {completion:,} out) · {usd(spent)}")
        text.append(_cap(spent, max_usd, usd(max_usd)))
        warning = spend_warning(budget)
        if warning:
            text.append(f"\n ⚠ {warning}", style="bold red" if "80" in warning else "bold yellow")
        self.update(text)


def _cap(value: float, cap: float | None, shown: str) -> Text:
    if not cap:
        return Text(" (no cap)", style="dim")
    share = value / cap
    return Text(f" of {shown} ({share:.0%})", style="red" if share >= 0.8 else "yellow" if share >= 0.5 else "dim")


SPEND_MARKS = (0.8, 0.5)


def spend_mark(budget: dict[str, Any]) -> tuple[float, str] | None:
    """The highest of 50 % and 80 % reached by calls or dollars against their caps, with which cap it was."""
    best: tuple[float, str] | None = None
    for spent, cap, name in (("calls", "max_calls", "call cap"), ("usd", "max_usd", "dollar cap")):
        value, limit = budget.get(spent), budget.get(cap)
        if not isinstance(value, (int, float)) or not isinstance(limit, (int, float)) or limit <= 0:
            continue
        mark = next((m for m in SPEND_MARKS if value / limit >= m), None)
        if mark is not None and (best is None or mark > best[0]):
            best = (mark, name)
    return best


def spend_warning(budget: dict[str, Any]) -> str:
    found = spend_mark(budget)
    if found is None:
        return ""
    mark, name = found
    return f"{mark:.0%} of the {name} spent: the run stops when it reaches the cap"
