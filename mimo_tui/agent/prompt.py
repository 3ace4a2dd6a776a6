"""The system prompt: small and stable (so providers can cache it); per-turn context goes after it."""

from __future__ import annotations

from pathlib import Path

from mimo_tui.skills import SkillCatalogue

INSTRUCTION_FILES = ("AGENTS.md", "CLAUDE.md")
MAX_INSTRUCTIONS_CHARS = 16_000

BASE_PROMPT = """You are mimo, a coding agent working in the project at {root}.
Use the tools to look before you change anything; prefer small, exact edits (edit_file) over rewrites.
Paths are relative to the project root. Tool results are shown to you verbatim; an error result says what to fix.
Keep a task tree for multi-step work (task tool) and record durable knowledge with the memory tool.
Memory entries are claims to verify, not facts. Answer concisely in markdown."""


def project_instructions(root: Path) -> tuple[str, str] | None:
    """The first of AGENTS.md / CLAUDE.md at the project root: (file name, text)."""
    for name in INSTRUCTION_FILES:
        path = root / name
        if path.is_file():
            try:
                text = path.read_text(encoding="utf-8", errors="replace")
            except OSError:
                continue
            if len(text) > MAX_INSTRUCTIONS_CHARS:
                text = text[:MAX_INSTRUCTIONS_CHARS] + f"\n[... {name} cut at {MAX_INSTRUCTIONS_CHARS} characters]"
            return name, text
    return None


def build_system_prompt(root: Path, catalogue: SkillCatalogue | None) -> str:
    """The base instructions, the skills catalogue (names and descriptions only) and the project's instructions."""
    parts = [BASE_PROMPT.format(root=root)]
    if catalogue and catalogue.skills:
        lines = [f"- {skill.name}: {skill.description}" for skill in sorted(catalogue.skills.values(), key=lambda s: s.name)]
        parts.append("Skills (load one with the skill tool before following it):\n" + "\n".join(lines))
    instructions = project_instructions(root)
    if instructions:
        parts.append(f"Project instructions from {instructions[0]}:\n{instructions[1].strip()}")
    return "\n\n".join(parts)


def mode_reminder(mode: str) -> str:
    if mode == "plan":
        return (
            "Mode: plan. You may read and search but not change project files or run commands; "
            "write your plan to .mimo/plans/<name>.md."
        )
    if mode == "compose":
        return COMPOSE_REMINDER
    return "Mode: build. All tools are available."


# Compose mode's working method; it rides in the per-turn block so the system prompt stays the same in every mode.
COMPOSE_REMINDER = """Mode: compose. All tools are available. Work spec-first on the user's goal, without asking them to re-explain it:
1. Spec: write .mimo/plans/spec.md (what done means, constraints, acceptance checks).
2. Plan: create one task per step with the task tool (op=create; subtasks with parent).
3. Then task by task, in order: start it, implement, test (run the checks), review your own diff,
   write its progress log (task op=progress), and mark it done. A task you cannot finish: block it with the reason.
4. Stop when every task is done, or when you are blocked and need the user; say which."""
