"""Token counts as people read them: 33000 -> '33.0K'."""

from __future__ import annotations


def format_tokens(count: int) -> str:
    """33000 -> '33.0K', 128000 -> '128K', 1200000 -> '1.2M'."""
    if count >= 1_000_000:
        return f"{count / 1_000_000:.1f}M"
    if count >= 100_000:
        return f"{count // 1000}K"
    if count >= 1000:
        return f"{count / 1000:.1f}K"
    return str(count)
