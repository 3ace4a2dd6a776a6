"""Markdown split into heading sections, with line numbers, for validators, the index and truncation."""

from __future__ import annotations

import re
from dataclasses import dataclass

HEADING = re.compile(r"^(#{1,6})[ \t]+(.*?)[ \t#]*$")
FENCE = re.compile(r"^\s*(```|~~~)")


@dataclass(frozen=True)
class Section:
    """A heading and the lines under it up to the next heading of any level; level 0 is the preamble."""

    level: int
    title: str
    line: int
    heading_line: str
    body: list[str]

    @property
    def body_text(self) -> str:
        return "\n".join(self.body)

    @property
    def text(self) -> str:
        return "\n".join(([self.heading_line] if self.level else []) + self.body)

    @property
    def body_start(self) -> int:
        return self.line + 1 if self.level else self.line


def split_sections(text: str, max_level: int = 6) -> list[Section]:
    """Sections of `text` in order; headings deeper than `max_level` stay in their parent's body."""
    sections: list[Section] = []
    level, title, start, heading_line = 0, "", 1, ""
    body: list[str] = []
    in_fence = False
    for number, line in enumerate(text.split("\n"), start=1):
        if FENCE.match(line):
            in_fence = not in_fence
        match = None if in_fence else HEADING.match(line)
        if match and len(match.group(1)) <= max_level:
            if level or body:
                sections.append(Section(level, title, start, heading_line, body))
            level, title, start, heading_line, body = len(match.group(1)), match.group(2).strip(), number, line, []
        else:
            body.append(line)
    if level or body:
        sections.append(Section(level, title, start, heading_line, body))
    return sections


def normalise_title(title: str) -> str:
    """A heading title compared loosely: lower case, single spaces, no trailing punctuation."""
    return re.sub(r"\s+", " ", title).strip().strip(":.").lower()
