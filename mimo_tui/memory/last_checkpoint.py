"""What a new session inherits from the project's last checkpoint: the parts that outlive a session."""

from __future__ import annotations

import re
from pathlib import Path

from mimo_tui.memory.sections import split_sections

# §1 intent, §2 next action, §3 directives, §5 current work, §6 files, §7 knowledge, §8 errors, §10 decisions.
# The task tree, live resources and open notes belonged to that session only.
CARRIED_SECTIONS = (1, 2, 3, 5, 6, 7, 8, 10)
_NUMBER = re.compile(r"^§\s*(\d+)\b")


def latest_other_checkpoint(memory_dir: Path, session_id: str) -> Path | None:
    """The most recently written checkpoint.md of another session of this project."""
    best: tuple[int, Path] | None = None
    for path in (memory_dir / "sessions").glob("*/checkpoint.md"):
        if path.parent.name == session_id:
            continue
        try:
            mtime = path.stat().st_mtime_ns
        except OSError:
            continue
        if best is None or mtime > best[0]:
            best = (mtime, path)
    return best[1] if best else None


def last_checkpoint_excerpt(memory_dir: Path, session_id: str) -> str:
    """The carried sections of the last other session's checkpoint, headed with where they come from."""
    path = latest_other_checkpoint(memory_dir, session_id)
    if path is None:
        return ""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""
    kept: list[str] = []
    for section in split_sections(text, max_level=2):
        match = _NUMBER.match(section.title) if section.level == 2 else None
        if match and int(match.group(1)) in CARRIED_SECTIONS and section.body_text.strip():
            kept.append(section.text.strip())
    if not kept:
        return ""
    head = (f"# From the last checkpoint of session {path.parent.name} (an earlier session of this project; "
            "verify before relying on it)")
    return "\n\n".join([head, *kept])


__all__ = ["last_checkpoint_excerpt", "latest_other_checkpoint"]
