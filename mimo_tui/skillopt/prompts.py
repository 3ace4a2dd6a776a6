"""Prompts of the target, the optimizer's reflection and slow update, and parsing of the optimizer's replies."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from mimo_tui.skillopt.edits import EDIT_OPS, Edit, edit_from_dict
from mimo_tui.skillopt.managed_region import MANAGED_END, MANAGED_START
from mimo_tui.skillopt.skill_files import render_for_target, unpack

REFLECT_MARK = "[skillopt:reflect]"
OTHERS_HEADING = "Other skills installed (load one with the skill tool before following it):"
# Told to the optimizer when only the managed region of SKILL.md is editable (the default).
MANAGED_NOTE = (f"Only the text between {MANAGED_START} and {MANAGED_END} in SKILL.md is editable (it is created when "
                "absent); the rules outside it are the user's: add new rules with append, and target only text inside it.")
FILES_NOTE = ("The skill has other files, shown in <!-- mimo:file PATH --> sections: an edit may name one with "
              '"file": "PATH" (default SKILL.md); its target must then be text of that file.')
SLOW_MARK = "[skillopt:slow-update]"


def rollout_messages(skill_text: str, task_input: str, others: str = "") -> list[dict[str, str]]:
    """The target sees the skill in its system prompt and the task as the user message; `others` (the noise test)
    lists the other installed skills as the agent's catalogue shows them (names and descriptions)."""
    system = f"Use this skill to do the user's task.\n\n{render_for_target(skill_text, task_input)}"
    if others:
        system += f"\n\n{OTHERS_HEADING}\n{others}"
    return [{"role": "system", "content": system}, {"role": "user", "content": task_input}]


@dataclass(frozen=True)
class Trajectory:
    """What the optimizer may see of one rollout: input, output, score and feedback (no grader, no reference)."""

    task_id: str
    input: str
    output: str
    score: float
    passed: bool
    feedback: str


def reflection_messages(skill_text: str, trajectories: list[Trajectory], rejected: list[dict[str, Any]],
                        managed: bool = False) -> list[dict[str, str]]:
    """Ask the optimizer for general edits from one group of trajectories."""
    system = (
        f"{REFLECT_MARK} You improve a skill file that a model follows. Read the tasks it failed and passed, "
        "find patterns, and propose a few general edits; never task-specific values or answers. "
        f"Operations: {', '.join(EDIT_OPS)}. `target` must be text copied exactly from the skill "
        "(not inside the <!-- SLOW_UPDATE --> block). Reply with JSON only: "
        '{"edits": [{"op": "append|insert_after|replace|delete", "target": "...", "text": "...", "rationale": "..."}]}'
    )
    if managed:
        system += " " + MANAGED_NOTE
    if len(unpack(skill_text)) > 1:
        system += " " + FILES_NOTE
    parts = [f"CURRENT SKILL:\n<skill>\n{skill_text.strip()}\n</skill>", "TRAJECTORIES:"]
    for number, item in enumerate(trajectories, start=1):
        verdict = "PASSED" if item.passed else "FAILED"
        parts.append(
            f"--- {number} ({verdict}, score {item.score:.2f})\nINPUT: {item.input}\nOUTPUT: {item.output}\nFEEDBACK: {item.feedback}"
        )
    if rejected:
        parts.append("REJECTED EDITS THIS EPOCH (do not propose them again):")
        for entry in rejected:
            delta = entry.get("delta")
            change = f"{delta:+.3f}" if isinstance(delta, (int, float)) else "undecided"
            parts.append(f"- {entry.get('op')}: {entry.get('text') or entry.get('target')} (validation change {change})")
    return [{"role": "system", "content": system}, {"role": "user", "content": "\n".join(parts)}]


def slow_update_messages(skill_text: str, comparison: list[dict[str, Any]], previous_guidance: str) -> list[dict[str, str]]:
    """Ask the optimizer for epoch-level guidance from a before/after comparison on the same tasks."""
    system = (
        f"{SLOW_MARK} You maintain a short guidance block of a skill file. Compare how the skill did on the same "
        "tasks at the start and the end of this epoch and write 2-6 sentences of general guidance. "
        'Reply with JSON only: {"guidance": "..."}'
    )
    lines = [f"SKILL:\n<skill>\n{skill_text.strip()}\n</skill>", f"PREVIOUS GUIDANCE:\n{previous_guidance or '(none)'}", "COMPARISON:"]
    for row in comparison:
        lines.append(f"- {row['flip']}: INPUT: {row['input']} | FEEDBACK NOW: {row['feedback']}")
    return [{"role": "system", "content": system}, {"role": "user", "content": "\n".join(lines)}]


class ReplyError(ValueError):
    """The optimizer's reply could not be used."""


def _json_object(text: str) -> Any:
    fence = re.search(r"```(?:json)?\s*(.*?)```", text, re.S)
    candidate = fence.group(1) if fence else text
    start = candidate.find("{")
    end = candidate.rfind("}")
    if start < 0 or end < start:
        raise ReplyError("the reply holds no JSON object")
    try:
        return json.loads(candidate[start : end + 1])
    except json.JSONDecodeError as exc:
        raise ReplyError(f"the reply is not valid JSON ({exc.msg} at column {exc.colno})") from exc


def parse_edits(text: str) -> tuple[list[Edit], list[str]]:
    """Edits of a reflection reply, plus problems with single edits (those are skipped, not fatal)."""
    data = _json_object(text)
    raw = data.get("edits") if isinstance(data, dict) else None
    if not isinstance(raw, list):
        raise ReplyError("the reply has no 'edits' list")
    edits: list[Edit] = []
    problems: list[str] = []
    for index, item in enumerate(raw, start=1):
        try:
            edits.append(edit_from_dict(item))
        except ValueError as exc:
            problems.append(f"edit {index}: {exc}")
    return edits, problems


def parse_guidance(text: str) -> str:
    data = _json_object(text)
    guidance = data.get("guidance") if isinstance(data, dict) else None
    if not isinstance(guidance, str) or not guidance.strip():
        raise ReplyError("the reply has no 'guidance' text")
    return guidance.strip()
