"""The checkpoint document: the writer's reply read into the eleven sections, laid out with budgets and spill-over.

The model writes the prose; everything that must be exact is done here, not asked of the model: the task
tree comes from the task store, notes entries are folded in byte for byte, a section over its budget moves
whole to `checkpoint-<topic>.md` with an index line left behind.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from mimo_tui.agent.checkpoint_spills import POINTER, PreviousSpill, merged_body
from mimo_tui.memory.sections import normalise_title, split_sections
from mimo_tui.memory.templates import CHECKPOINT_SECTIONS, notes_template, spill_line
from mimo_tui.memory.tokens import count_tokens

TASK_SECTION = 4
NOTES_SECTION = 11
DURABLE_TITLE = "durable facts"
_NUMBERED = re.compile(r"^§\s*(\d+)\s*(.*)$")
_NOTES_ENTRY = re.compile(r"^## \[turn \d+ · [^\]]+\]\s*$")
_TITLES = {normalise_title(spec.title): number for number, spec in enumerate(CHECKPOINT_SECTIONS, 1)}


@dataclass
class WriterReply:
    """What the checkpoint writer's answer holds: section bodies by number, durable facts, and what it lacked."""

    sections: dict[int, str] = field(default_factory=dict)
    durable: list[str] = field(default_factory=list)
    # The section the answer ended in when the model stopped at its output limit: that body is cut mid-way.
    cut_in: int | None = None

    @property
    def usable(self) -> bool:
        """A reply with none of the eleven sections is not a checkpoint (a failed run, counted as one)."""
        return any(body.strip() for number, body in self.sections.items() if number != TASK_SECTION)


def read_reply(text: str, cut_off: bool = False) -> WriterReply:
    """The sections of a writer's markdown answer, by `## §N Title` or by title alone; instruction lines dropped.

    `cut_off`: the model stopped at its output limit (finish_reason "length"), so the last section is incomplete.
    """
    reply = WriterReply()
    last: int | None = None
    for section in split_sections(text, max_level=2):
        if section.level != 2:
            continue
        title = section.title
        match = _NUMBERED.match(title)
        number = int(match.group(1)) if match else _TITLES.get(normalise_title(title))
        if match and not 1 <= number <= len(CHECKPOINT_SECTIONS):
            number = None
        body = _without_instruction(section.body)
        last = number
        if number is not None:
            reply.sections[number] = body
        elif normalise_title(title) == DURABLE_TITLE:
            reply.durable = [line.strip()[2:].strip() for line in section.body if line.strip().startswith(("- ", "* "))]
    reply.cut_in = last if cut_off else None
    return reply


def _without_instruction(lines: list[str]) -> str:
    rows = list(lines)
    while rows and not rows[0].strip():
        rows.pop(0)
    if rows and re.fullmatch(r"_[^_].*_", rows[0].strip()):
        rows.pop(0)
    return "\n".join(rows).strip()


def for_writer(previous: str, spills: Mapping[int, PreviousSpill] | None = None) -> str:
    """The previous checkpoint as its next writer needs it: the sections and their bodies byte for byte, without
    what the writer has elsewhere or never uses (the file's title and timestamp line, each section's instruction
    line, which its system prompt already gives, and §4, which the app fills in from the task store it is sent).
    A spilled section is shown with its spilled body from `spills` (within their bound), not its pointer line."""
    sections = split_sections(previous, max_level=2)
    if not any(_NUMBERED.match(s.title) for s in sections if s.level == 2):
        return previous  # not the layout mimo writes (edited by hand?): the writer gets it as it is
    parts: list[str] = []
    for section in sections:
        if section.level < 2:
            # The title and its generated-at line; anything else before the first section stays.
            kept = [line for line in section.body if line.strip() and not re.fullmatch(r"_[^_].*_", line.strip())]
            if kept:
                parts.append("\n".join(kept).strip())
            continue
        match = _NUMBERED.match(section.title)
        body = _without_instruction(section.body)
        if match and int(match.group(1)) == TASK_SECTION:
            body = "(filled in by the app from the task store)"
        elif match and spills and int(match.group(1)) in spills:
            body = spills[int(match.group(1))].for_writer
        parts.append(f"{section.heading_line}\n{body}" if body else section.heading_line)
    return "\n\n".join(parts)


CUT_OFF_NOTE = "(above: kept from the previous checkpoint; below: the writer's new text, cut off at its output limit)"


def previous_bodies(previous: str) -> dict[int, str]:
    """The section bodies of a checkpoint mimo wrote, by number, without their instruction lines (§4 left out)."""
    bodies: dict[int, str] = {}
    for section in split_sections(previous, max_level=2):
        match = _NUMBERED.match(section.title) if section.level == 2 else None
        if match and 1 <= int(match.group(1)) <= len(CHECKPOINT_SECTIONS) and int(match.group(1)) != TASK_SECTION:
            body = _without_instruction(section.body)
            bodies[int(match.group(1))] = "" if body == "(nothing yet)" else body
    return bodies


def notes_entries(text: str) -> list[str]:
    """The `## [turn N · timestamp]` entries of a notes file, each with its body, byte for byte."""
    entries: list[list[str]] = []
    for line in text.split("\n"):
        if _NOTES_ENTRY.match(line):
            entries.append([line])
        elif entries:
            entries[-1].append(line)
    return ["\n".join(entry).strip() for entry in entries]


def topic_of(number: int) -> str:
    return re.sub(r"[^a-z0-9]+", "-", CHECKPOINT_SECTIONS[number - 1].title.lower()).strip("-")


@dataclass(frozen=True)
class CheckpointFiles:
    """The files one writer run commits: checkpoint.md and its spill-over files (relpath -> text)."""

    checkpoint: str
    spills: dict[str, str]


def compose(session_id: str, reply: WriterReply, task_tree: str, notes: list[str], written_at: str,
            folder: str, previous_spills: Mapping[int, PreviousSpill] | None = None,
            existing_files: frozenset[str] | None = None, previous: str = "") -> CheckpointFiles:
    """checkpoint.md from the reply: §4 from the task store, notes folded into §11, over-budget sections spilled.

    A section that was spilled before is merged with its spilled body (`merged_body`), so what the writer was not
    shown, or left out by answering with the pointer line, is kept; an unchanged spilled body keeps its file as is.
    A pointer line copied from the answer that names none of `existing_files` (the session folder's checkpoint-*.md)
    is dropped, so checkpoint.md never points to a missing file. A section the answer lacks altogether (cut off at
    the writer's output limit) keeps its body from the `previous` checkpoint, and the section it was cut in keeps
    its previous body with the new, incomplete part after it."""
    previous_spills = previous_spills or {}
    kept_bodies = previous_bodies(previous)
    parts = [f"# Checkpoint of session {session_id}", "",
             f"_Generated by the checkpoint writer at {written_at}; literal values are copied byte for byte._", ""]
    spills: dict[str, str] = {}
    for number, spec in enumerate(CHECKPOINT_SECTIONS, 1):
        if number == TASK_SECTION:
            body = task_tree.strip() or "(no tasks in the task store)"
        else:
            answer = reply.sections[number] if number in reply.sections else kept_bodies.get(number, "")
            if number == reply.cut_in and kept_bodies.get(number):
                # A body cut mid-way may have dropped what the previous one held: keep that, then the new part.
                answer = f"{kept_bodies[number]}\n\n{CUT_OFF_NOTE}\n{answer}".strip()
            body = merged_body(answer, previous_spills.get(number))
        if number == NOTES_SECTION and notes:
            body = "\n\n".join([body, *(entry.replace("## [turn", "[turn", 1) for entry in notes)]).strip()
        if existing_files is not None and POINTER.search(body):
            body = "\n".join(line for line in body.split("\n")
                             if not (match := POINTER.search(line)) or match.group(1) in existing_files).strip()
        # The validator counts the instruction line with the body.
        if spec.budget is not None and count_tokens(f"_{spec.instruction}_\n\n{body}") > spec.budget:
            topic = topic_of(number)
            kept = previous_spills.get(number)
            if kept is None or kept.body != body or kept.filename != f"checkpoint-{topic}.md":
                spills[f"{folder}/checkpoint-{topic}.md"] = (
                    f"# §{number} {spec.title} (session {session_id})\n\n"
                    f"_Spilled from checkpoint.md at {written_at}._\n\n{body}\n")
            first = next((line.strip() for line in body.splitlines() if line.strip()), "")
            body = spill_line(topic, f"{count_tokens(body)} tokens; starts: {first[:160]}")
        parts += [f"## §{number} {spec.title}", f"_{spec.instruction}_", "", body or "(nothing yet)", ""]
    return CheckpointFiles("\n".join(parts), spills)


def memory_with_facts(memory_text: str, facts: list[str], session_id: str, date: str,
                      max_bytes: int) -> tuple[str, list[str]]:
    """MEMORY.md with new durable facts appended under "Discovered durable knowledge"; also the facts added.

    A fact already present is skipped; facts that would push the file over `max_bytes` are left for dream.
    """
    added: list[str] = []
    lines = memory_text.rstrip("\n").split("\n") if memory_text.strip() else []
    heading = next((i for i, line in enumerate(lines)
                    if line.startswith("## ") and normalise_title(line[3:]) == "discovered durable knowledge"), None)
    if heading is None:
        lines += ["", "## Discovered durable knowledge"]
        heading = len(lines) - 1
    end = next((i for i in range(heading + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    insert_at = end
    while insert_at > heading + 1 and not lines[insert_at - 1].strip():
        insert_at -= 1
    for fact in facts:
        fact = " ".join(fact.split())
        if not fact or fact in memory_text:
            continue
        line = f"- {fact} (session {session_id}, {date})"
        if len("\n".join(lines).encode()) + len(line.encode()) + 2 > max_bytes:
            break
        lines.insert(insert_at, line)
        insert_at += 1
        added.append(fact)
    return "\n".join(lines) + "\n", added


def reset_notes(session_id: str) -> str:
    return notes_template(session_id)


__all__ = ["CheckpointFiles", "WriterReply", "compose", "for_writer", "memory_with_facts", "notes_entries",
           "previous_bodies", "read_reply"]
