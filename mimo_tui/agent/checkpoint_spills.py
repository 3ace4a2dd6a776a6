"""Spilled checkpoint sections across writer calls: what the next writer is shown of them, and how its answer is merged.

checkpoint.md keeps only a pointer line for a section that went over its budget; the body lives in
`checkpoint-<topic>.md`. A writer shown only that line would rewrite the section from nothing, so it is shown the
spilled body (within a bound), and whatever it was not shown is carried over after what it writes. An empty answer,
or one that copies the pointer line, keeps the spilled body as it is.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from mimo_tui.memory.sections import split_sections
from mimo_tui.memory.templates import CHECKPOINT_SECTIONS, SPILL_LINE_PREFIX
from mimo_tui.memory.tokens import count_tokens

TASK_SECTION = 4  # rebuilt from the task store on every call: never carried over
POINTER = re.compile(re.escape(SPILL_LINE_PREFIX) + r"(checkpoint-[A-Za-z0-9_.-]+\.md)")
_NUMBERED = re.compile(r"^§\s*(\d+)\s*(.*)$")
_NOT_SHOWN = re.compile(r"^\[… \d+ more lines? \(\d+ tokens\) of this section not shown")
_EMPTY_ANSWERS = {"", "(nothing yet)", "(unchanged)", "nothing of note.", "unchanged"}


@dataclass(frozen=True)
class PreviousSpill:
    """A section of the previous checkpoint that lives in a spill file: its whole body and the part the writer sees."""

    number: int
    filename: str
    body: str
    shown: str
    unseen: str

    @property
    def for_writer(self) -> str:
        if not self.unseen:
            return self.shown
        lines = self.unseen.count("\n") + 1
        return (f"{self.shown}\n[… {lines} more line{'s' if lines > 1 else ''} ({count_tokens(self.unseen)} tokens) "
                f"of this section not shown; the app keeps them after what you write here ({self.filename})]")


def spilled_body(file_text: str) -> str:
    """The section body of a spill file, without its `# §N …` title and `_Spilled from …_` line."""
    lines = file_text.strip().split("\n")
    for header in (re.compile(r"# §\d+ .*"), re.compile(r"_Spilled from .*_")):
        if lines and header.fullmatch(lines[0].strip()):
            lines.pop(0)
            while lines and not lines[0].strip():
                lines.pop(0)
    return "\n".join(lines).strip()


def _split_by_tokens(body: str, bound: int) -> tuple[str, str]:
    """The whole lines of `body` that fit in `bound` tokens, and the rest."""
    lines = body.split("\n")
    used = 0
    for index, line in enumerate(lines):
        used += count_tokens(line) + 1
        if used > bound:
            return "\n".join(lines[:index]).rstrip(), "\n".join(lines[index:]).strip()
    return body, ""


def load_previous_spills(previous: str, read: Callable[[str], str | None], folder: str,
                         bound_tokens: int) -> dict[int, PreviousSpill]:
    """The spilled sections of checkpoint text `previous`, read with `read(relpath)`; each is shown up to twice its
    budget, all of them together up to `bound_tokens`, in section order."""
    spills: dict[int, PreviousSpill] = {}
    left = bound_tokens
    for section in split_sections(previous, max_level=2):
        match = _NUMBERED.match(section.title) if section.level == 2 else None
        if not match or not 1 <= int(match.group(1)) <= len(CHECKPOINT_SECTIONS):
            continue
        number = int(match.group(1))
        pointer = next((POINTER.search(line) for line in section.body if POINTER.search(line)), None)
        if number == TASK_SECTION or pointer is None:
            continue
        text = read(f"{folder}/{pointer.group(1)}")
        if text is None:
            continue  # a dangling pointer: the writer sees the line as it is; nothing to carry over
        body = spilled_body(text)
        budget = CHECKPOINT_SECTIONS[number - 1].budget or 1000
        shown, unseen = _split_by_tokens(body, max(0, min(2 * budget, left)))
        left -= count_tokens(shown)
        spills[number] = PreviousSpill(number, pointer.group(1), body, shown, unseen)
    return spills


def merged_body(answer: str, spill: PreviousSpill | None) -> str:
    """The body of a section from the writer's `answer`, never losing what `spill` held that the writer did not see.

    An empty answer or a bare pointer line keeps the spilled body; a pointer line among new lines stands for the
    whole spilled body there; otherwise the answer is the section, followed by the part the writer was not shown.
    """
    answer = answer.strip()
    if spill is None:
        return answer
    rows = [line for line in answer.split("\n") if not _NOT_SHOWN.match(line.strip())]
    if all(not line.strip() or POINTER.search(line) for line in rows) or answer.lower() in _EMPTY_ANSWERS:
        return spill.body
    if any(POINTER.search(line) for line in rows):
        return "\n".join(spill.body if POINTER.search(line) else line for line in rows).strip()
    return "\n".join([*rows, spill.unseen]).strip() if spill.unseen else "\n".join(rows).strip()


def stale_spills(checkpoint: str, on_disk: Mapping[int, str]) -> list[str]:
    """Of the section spill files `on_disk` (number -> relpath), those checkpoint text no longer points to."""
    named = set(POINTER.findall(checkpoint))
    return [rel for rel in on_disk.values() if rel.rsplit("/", 1)[-1] not in named]


__all__ = ["POINTER", "PreviousSpill", "load_previous_spills", "merged_body", "spilled_body", "stale_spills"]
