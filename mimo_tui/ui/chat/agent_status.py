"""One status line under the chat: model (marked offline), mode, context meter and session cost."""

from __future__ import annotations

import time

from rich.text import Text
from textual.widgets import Static

from mimo_tui.token_figures import format_tokens


def checkpoint_label(running: bool, last_at: float, stopped: bool = False) -> str:
    """What the status line says about the checkpoint writer: writing now, stopped, or when it last wrote."""
    if running:
        return "✎ writing checkpoint"
    if stopped:
        return ""  # the context note says it
    if last_at:
        return "checkpoint " + time.strftime("%H:%M", time.localtime(last_at))
    return ""


def context_meter(used: int, window: int) -> str:
    """Like `33.0K/128K (26%)`."""
    share = round(100 * used / window) if window else 0
    return f"{format_tokens(used)}/{format_tokens(window)} ({share}%)"


def status_line(project: str, model_label: str, mode: str, used: int, window: int, cost_usd: float,
                busy: bool = False, context_note: str = "", checkpoint: str = "", subagents: int = 0) -> Text:
    """`context_note` warns beside the meter (from the first threshold on, and always past 100 %); `subagents`
    counts the children running (their spend is in the cost)."""
    if not context_note and window and used > window:
        context_note = "over the window"
    return Text.assemble(
        ("● " if busy else "○ ", "bold"),
        (f"{project}  ·  " if project else ""),
        (model_label, "bold"),
        "  ·  mode ", (mode, "bold"), " (Tab)",
        "  ·  ", (context_meter(used, window), "bold yellow" if context_note else ""),
        (f" {context_note}" if context_note else "", "yellow"),
        (f"  ·  {checkpoint}" if checkpoint else ""),
        (f"  ·  ⧉ {subagents} subagent{'s' if subagents > 1 else ''} running" if subagents else ""),
        "  ·  ", f"${cost_usd:.4f}",
    )


class AgentStatus(Static):
    """Under every pane: the project, the model the agent runs on (marked offline), its mode, context and cost."""

    project_name = ""

    DEFAULT_CSS = """
    AgentStatus { height: 1; padding: 0 1; background: $panel; color: $text-muted; }
    """

    def show(self, model_label: str, mode: str, used: int, window: int, cost_usd: float, busy: bool = False,
             context_note: str = "", checkpoint: str = "", subagents: int = 0) -> None:
        self.update(status_line(self.project_name, model_label, mode, used, window, cost_usd, busy, context_note,
                                checkpoint, subagents))

    def show_project(self, name: str, model_label: str, mode: str) -> None:
        """Before a session is open: what the agent will run on."""
        self.project_name = name
        self.update(Text.assemble("○ ", f"{name}  ·  ", (model_label, "bold"), "  ·  mode ", (mode, "bold")))
