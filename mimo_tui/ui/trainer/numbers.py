"""How the trainer pane writes scores, model names and money."""

from __future__ import annotations

from typing import Any


def pct(value: Any) -> str:
    """A score in [0, 1] as a percentage; a dash when there is none."""
    return f"{100 * value:.1f}%" if isinstance(value, (int, float)) and not isinstance(value, bool) else "—"


def model_label(name: str) -> str:
    """A model name, marked "(offline)" when it is one of the offline models."""
    if "(offline)" in name or not name.startswith("offline/"):
        return name
    return f"{name} (offline)"


def usd(value: Any) -> str:
    return f"${value:.4f}" if isinstance(value, (int, float)) else "—"
