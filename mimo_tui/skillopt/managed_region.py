"""The managed region of a SKILL.md: where machine-written text lives, apart from the user's hand-written rules.

In managed mode (the default) the optimizer's edits apply only inside it; it is created at the end of the file by the
first edit, so every byte before it stays as the user wrote it.
"""

from __future__ import annotations

MANAGED_START = "<!-- mimo:managed -->"
MANAGED_END = "<!-- /mimo:managed -->"
OUTSIDE_MANAGED = "target lies outside the managed region of SKILL.md (train with --edit-whole to edit the user's rules)"


def managed_span(text: str) -> tuple[int, int] | None:
    """The start and end offsets of the inside of the managed region of a SKILL.md text (markers excluded)."""
    start = text.find(MANAGED_START)
    if start < 0:
        return None
    inner = start + len(MANAGED_START)
    end = text.find(MANAGED_END, inner)
    return (inner, end if end >= 0 else len(text))


def with_managed_region(text: str, inside: str = "") -> str:
    """`text` with a managed region holding `inside` added at its end; every byte of `text` stays as it was."""
    gap = "\n" if text.endswith("\n") else ("\n\n" if text else "")
    body = f"{inside.strip(chr(10))}\n" if inside.strip() else ""
    return f"{text}{gap}{MANAGED_START}\n{body}{MANAGED_END}\n"


def strip_managed_region(text: str) -> str:
    """The user's text of a SKILL.md: the managed region (markers and the separator before it) removed."""
    start = text.find(MANAGED_START)
    if start < 0:
        return text
    end = text.find(MANAGED_END, start)
    end = len(text) if end < 0 else end + len(MANAGED_END) + (1 if text[end + len(MANAGED_END) : end + len(MANAGED_END) + 1] == "\n" else 0)
    head = text[:start]
    head = head[:-1] if head.endswith("\n\n") else head
    return head + text[end:]
