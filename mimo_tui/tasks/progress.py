"""A task's progress.md: the template it starts with, the log an agent writes, and whether it was written.

The five sections and their instruction lines come from memory/templates.py, the same table `mimo memory
check` validates against, so a file mimo creates always passes the check.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from mimo_tui.memory.sections import normalise_title, split_sections
from mimo_tui.memory.templates import PROGRESS_SECTIONS

IDENTITY, INTENT, FILES, COMMANDS, OUTCOME = (spec.title for spec in PROGRESS_SECTIONS)


def now_iso() -> str:
    """The `written-at` stamp: an ISO-8601 time with its UTC offset."""
    return datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds")


@dataclass(frozen=True)
class ProgressLog:
    """What a task's agent reports: the five sections' bodies (identity is filled in from the task)."""

    intent: str = ""
    files: str = ""
    commands: str = ""
    outcome: str = ""

    def bodies(self) -> dict[str, str]:
        return {INTENT: self.intent, FILES: self.files, COMMANDS: self.commands, OUTCOME: self.outcome}


def render_progress(task_id: str, title: str, log: ProgressLog | None = None, *, parent: str | None = None,
                    author: str = "", written_at: str | None = None) -> str:
    """A progress.md: front matter, a title, and the five sections, each with its instruction line."""
    identity = f"{task_id}: {title}" + (f" (subtask of {parent})" if parent else "")
    if author:
        identity += f"\nWritten by: {author}"
    bodies = {IDENTITY: identity, **(log or ProgressLog()).bodies()}
    parts = [f"---\nwritten-at: {written_at or now_iso()}\n---", f"# {task_id} {title}".rstrip(), ""]
    for spec in PROGRESS_SECTIONS:
        body = bodies[spec.title].strip()
        parts += [f"## {spec.title}", f"_{spec.instruction}_", ""] + ([body, ""] if body else [])
    return "\n".join(parts)


def progress_template(task_id: str, title: str, parent: str | None = None) -> str:
    """A fresh progress.md: the task's identity filled in, the other four sections waiting for the agent."""
    return render_progress(task_id, title, parent=parent)


def section_bodies(text: str) -> dict[str, str]:
    """Each section's body without its italic instruction line, by normalised title."""
    found: dict[str, str] = {}
    for section in split_sections(text, max_level=2):
        if section.level != 2:
            continue
        lines = [line for line in section.body if line.strip()]
        if lines and lines[0].strip().startswith("_") and lines[0].strip().endswith("_"):
            lines = lines[1:]
        found[normalise_title(section.title)] = "\n".join(lines).strip()
    return found


def unwritten_sections(text: str | None) -> list[str]:
    """The sections a finished task's log still lacks: its outcome, and what it was for (empty when written)."""
    bodies = section_bodies(text or "")
    return [title for title in (INTENT, OUTCOME) if not bodies.get(normalise_title(title))]
