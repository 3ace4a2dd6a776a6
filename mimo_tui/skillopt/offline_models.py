"""Offline simulated target and optimizer for the shipped date-normalising demo (both labelled offline).

The target reads the rules the skill text actually states and applies only those; where a rule is
missing it makes the characteristic mistake of a naive reader (US month-first dates, 19xx for
two-digit years, unpadded numbers, chatty answers). The optimizer sees only what a real optimizer
sees (skill, inputs, outputs, feedback) and turns recurring feedback into general rules.
"""

from __future__ import annotations

import json
import re

from mimo_tui.llm import OfflineReply, register_offline_model
from mimo_tui.skillopt.prompts import REFLECT_MARK, SLOW_MARK

MONTHS = {name: number for number, names in enumerate(
    [("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",), ("june", "jun"),
     ("july", "jul"), ("august", "aug"), ("september", "sep", "sept"), ("october", "oct"), ("november", "nov"),
     ("december", "dec")], start=1) for name in names}
_MONTH_WORD = "|".join(sorted(MONTHS, key=len, reverse=True))

# What the simulated target recognises in a skill, as (rule, pattern over the skill text).
RULE_PATTERNS = {
    "iso": r"yyyy-mm-dd|year-month-day",
    "pad": r"two digits|leading zero|zero-pad",
    "day_first": r"day first|day comes first|day/month/year|give the day first",
    "dots": r"dots?\b.{0,60}\b(numeric|same as|like) ",
    "century": r"two-digit year.{0,80}(2000s|20\d\d|twenty-first)",
    "only_date": r"only the date|date only|nothing else|no other words",
}


def skill_rules(skill_text: str) -> set[str]:
    """The rules a skill states, as far as the simulated target can read them."""
    lowered = skill_text.lower()
    return {rule for rule, pattern in RULE_PATTERNS.items() if re.search(pattern, lowered, re.S)}


def _extract(text: str, rules: set[str]) -> tuple[int, int, int] | str | None:
    """(year, month, day) read from text under the rules, the raw date when it cannot be read, or None."""
    lowered = text.lower()
    iso = re.search(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b", lowered)
    if iso:
        return int(iso.group(1)), int(iso.group(2)), int(iso.group(3))
    named = re.search(rf"\b({_MONTH_WORD})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})\b", lowered)
    if named:
        return int(named.group(3)), MONTHS[named.group(1)], int(named.group(2))
    named = re.search(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?({_MONTH_WORD})\.?,?\s+(\d{{4}})\b", lowered)
    if named:
        return int(named.group(3)), MONTHS[named.group(2)], int(named.group(1))
    numeric = re.search(r"\b(\d{1,2})([/.])(\d{1,2})\2(\d{2}|\d{4})\b", lowered)
    if not numeric:
        return None
    if numeric.group(2) == "." and "dots" not in rules:
        return numeric.group(0)
    first, second, year = int(numeric.group(1)), int(numeric.group(3)), int(numeric.group(4))
    day, month = (first, second) if "day_first" in rules else (second, first)
    if year < 100:
        year += 2000 if "century" in rules else 1900
    return year, month, day


def simulate_target(skill_text: str, task: str) -> str:
    """The target's answer: only the rules stated in the skill are applied."""
    rules = skill_rules(skill_text)
    found = _extract(task, rules)
    if found is None:
        return "I could not find a date in the text."
    if isinstance(found, str):
        answer = found
    else:
        year, month, day = found
        if "iso" in rules:
            answer = f"{year:04d}-{month:02d}-{day:02d}" if "pad" in rules else f"{year}-{month}-{day}"
        else:
            answer = f"{month}/{day}/{year}"
    if "?" in task and "only_date" not in rules:
        return f"The date is {answer}."
    return answer


def _target(messages: list[dict], tools: list[dict] | None, params: dict) -> OfflineReply:
    system = next((m.get("content", "") for m in messages if m.get("role") == "system"), "")
    match = re.search(r"<skill>\n(.*)\n</skill>", system, re.S)
    task = next((m.get("content", "") for m in reversed(messages) if m.get("role") == "user"), "")
    return OfflineReply(text=simulate_target(match.group(1) if match else "", str(task)))


# Feedback phrase -> (rule id, rule text, where to put it: a phrase of the skill to insert after or replace).
LESSONS = [
    ("month and day are swapped", "day_first",
     "Numeric dates written with slashes give the day first, then the month, then the year.", ("replace", "month first")),
    ("two digits", "pad",
     "Always write the month and the day with two digits, adding a leading zero when needed.", ("insert_after", "YYYY-MM-DD")),
    ("century", "century",
     "A two-digit year means a year in the 2000s: add 2000 to it.", ("append", "")),
    ("put the year first", "dots",
     "Dates written with dots are numeric dates like those with slashes, in the same order.", ("append", "")),
    ("only the date", "only_date",
     "Answer with the date only and nothing else, even when the text asks a question.", ("append", "")),
]


def _skill_line(skill: str, phrase: str) -> str | None:
    return next((line for line in skill.splitlines() if phrase.lower() in line.lower() and line.strip()), None)


def propose_edits(prompt: str) -> list[dict[str, str]]:
    """Edits derived only from the feedback in the prompt, skipping rules already stated or rejected."""
    skill_match = re.search(r"<skill>\n(.*?)\n</skill>", prompt, re.S)
    skill = skill_match.group(1) if skill_match else ""
    rejected = prompt.split("REJECTED EDITS THIS EPOCH", 1)[1] if "REJECTED EDITS THIS EPOCH" in prompt else ""
    feedback_lines = [line.lower() for line in re.findall(r"^FEEDBACK: (.*)$", prompt, re.M)]
    feedback = " ".join(feedback_lines)
    stated = skill_rules(skill)
    edits = []
    for phrase, rule, text, (op, anchor) in LESSONS:
        if phrase not in feedback or rule in stated or text in rejected:
            continue
        line = _skill_line(skill, anchor) if anchor else None
        seen = sum(phrase in line for line in feedback_lines)
        rationale = f"feedback says '{phrase}' on {seen} task{'s' if seen != 1 else ''}"
        if op != "append" and line is not None:
            edits.append({"op": op, "target": line, "text": text, "rationale": rationale})
        else:
            edits.append({"op": "append", "text": text, "rationale": rationale})
    return edits


def write_guidance(prompt: str) -> str:
    """Epoch guidance from the before/after comparison: what improved, and the open problems."""
    rows = re.findall(r"^- (\w+): INPUT: .*? \| FEEDBACK NOW: (.*)$", prompt, re.M)
    improved = sum(1 for flip, _ in rows if flip == "improved")
    regressed = sum(1 for flip, _ in rows if flip == "regressed")
    problems = sorted({fb.strip() for flip, fb in rows if flip in ("still_failing", "regressed") and fb.strip() != "correct"})
    lines = [f"Review of the last epoch: {improved} of {len(rows)} sampled tasks improved and {regressed} regressed; "
             "keep the rules above, they are what fixed them."]
    if problems:
        lines.append("Problems still seen in training: " + "; ".join(problems[:4]) + ".")
    return " ".join(lines)


def _optimizer(messages: list[dict], tools: list[dict] | None, params: dict) -> OfflineReply:
    system = next((m.get("content", "") for m in messages if m.get("role") == "system"), "")
    prompt = "\n".join(str(m.get("content", "")) for m in messages if m.get("role") == "user")
    if SLOW_MARK in system:
        return OfflineReply(text=json.dumps({"guidance": write_guidance(prompt)}))
    if REFLECT_MARK in system:
        return OfflineReply(text=json.dumps({"edits": propose_edits(prompt)}))
    return OfflineReply(text=json.dumps({"edits": []}))


def register_demo_models() -> None:
    """Register `offline/target` and `offline/optimizer` (cheap: no litellm import)."""
    register_offline_model("target", _target)
    register_offline_model("optimizer", _optimizer)
