"""MEMORY.md as a list of lines, each either structure (headings, instructions, blanks) or an entry (a fact)."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

HEADING = re.compile(r"^#{1,6}\s")
BULLET = re.compile(r"^(\s*)([-*+]|\d+[.)])\s+(.*)$")
INSTRUCTION = re.compile(r"^_[^_].*_\s*$")


@dataclass(frozen=True)
class Line:
    """One line of MEMORY.md, where it sits, and when it was last committed (unix time, 0 when unknown)."""

    number: int
    text: str
    section: str
    when: int = 0

    @property
    def is_entry(self) -> bool:
        """A fact dream may merge, date, verify or prune: a list item (or a loose sentence) under a heading."""
        stripped = self.text.strip()
        if not stripped or HEADING.match(stripped) or not self.section:
            return False
        if INSTRUCTION.match(stripped) or stripped.startswith(("```", "~~~", "<!--", "|")):
            return False
        return True

    @property
    def body(self) -> str:
        """The entry without its list marker."""
        match = BULLET.match(self.text)
        return match.group(3) if match else self.text.strip()

    def with_body(self, body: str) -> Line:
        match = BULLET.match(self.text)
        prefix = f"{match.group(1)}{match.group(2)} " if match else ""
        return replace(self, text=f"{prefix}{body}")


def parse_lines(text: str, dates: list[int] | None = None) -> list[Line]:
    """Every line of `text` with its section title; lines inside code fences are structure, never entries."""
    lines: list[Line] = []
    section = ""
    in_fence = False
    for number, raw in enumerate(text.split("\n"), start=1):
        when = dates[number - 1] if dates and number - 1 < len(dates) else 0
        stripped = raw.strip()
        if stripped.startswith(("```", "~~~")):
            in_fence = not in_fence
            lines.append(Line(number, raw, "", when))
            continue
        if in_fence:
            lines.append(Line(number, raw, "", when))
            continue
        if HEADING.match(stripped):
            section = stripped.lstrip("#").strip() if stripped.startswith("## ") else ("" if stripped.startswith("# ") else section)
        lines.append(Line(number, raw, section, when))
    return lines


def render(lines: list[Line]) -> str:
    return "\n".join(line.text for line in lines)
