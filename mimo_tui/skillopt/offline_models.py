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
from mimo_tui.skillopt.prompts import MANAGED_NOTE, OTHERS_HEADING, REFLECT_MARK, SLOW_MARK

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
    # A skill that says to run one of its scripts: the target runs it with the task as input and answers with what
    # it printed (when it ran cleanly), as an agent following the skill would.
    script = re.search(r"\b(scripts/[\w./-]+\.(?:py|sh))\b", match.group(1)) if match and tools else None
    answers = [m for m in messages if m.get("role") == "tool"]
    if script and not answers:
        return OfflineReply(tool_calls=[("run_script", {"path": script.group(1), "stdin": str(task)})])
    if answers and str(answers[-1].get("content", "")).startswith("exit 0\n"):
        return OfflineReply(text=str(answers[-1]["content"]).split("\n", 1)[1].strip())
    # What the agent was shown of the skill's other files counts as much as SKILL.md itself.
    shown = re.findall(r'<file path="[^"]*">\n(.*?)\n</file>', system, re.S)
    # A naive reader also takes in the rules the other skills' descriptions state (what the noise test measures).
    others = system.split(OTHERS_HEADING, 1)[1] if OTHERS_HEADING in system else ""
    return OfflineReply(text=simulate_target("\n".join([match.group(1) if match else "", *shown, others]), str(task)))


# What the simulated optimizer can teach: rule id -> (general rule text, where it goes: replace/insert after a line
# holding a phrase, or append). Which rules to propose is inferred from the trajectories it is shown, never scripted.
RULE_TEXTS = {
    "iso": ("Write the result as YYYY-MM-DD: the four-digit year, then the month, then the day, joined by dashes.",
            ("append", "")),
    "day_first": ("Numeric dates written with slashes give the day first, then the month, then the year.",
                  ("replace", "month first")),
    "pad": ("Always write the month and the day with two digits, adding a leading zero when needed.",
            ("insert_after", "YYYY-MM-DD")),
    "century": ("A two-digit year means a year in the 2000s: add 2000 to it.", ("append", "")),
    "dots": ("Dates written with dots are numeric dates like those with slashes, in the same order.", ("append", "")),
    "only_date": ("Answer with the date only and nothing else, even when the text asks a question.", ("append", "")),
}
# Words of a grader's feedback that name a kind of mistake (for graders that explain instead of showing the answer).
FEEDBACK_WORDS = [
    (r"month and day are swapped|day and month are swapped", "day_first"),
    (r"two digits|leading zero", "pad"),
    (r"century", "century"),
    (r"only the date|no other words|nothing else", "only_date"),
    (r"year first|year-month-day", "year_first"),
]
_EXPECTED_GOT = re.compile(r"""expected (?P<q1>['"])(?P<expected>.*?)(?P=q1), got (?P<q2>['"])(?P<got>.*?)(?P=q2)""")
_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_NUMERIC = re.compile(r"\b(\d{1,2})([/.])(\d{1,2})\2(\d{2}|\d{4})\b")


def _input_style(task: str) -> str | None:
    """How the input writes its date: 'slash', 'dot', 'iso', 'named' or None."""
    numeric = _NUMERIC.search(task)
    if numeric:
        return "dot" if numeric.group(2) == "." else "slash"
    if _ISO.search(task):
        return "iso"
    return "named" if re.search(rf"\b({_MONTH_WORD})\b", task.lower()) else None


def compare_answers(task: str, expected: str, got: str) -> set[str]:
    """The conventions that explain why `got` is not `expected` (empty when nothing general explains it)."""
    want = _ISO.fullmatch(expected.strip())
    if want is None:  # the expected answer is not a date in a form this optimizer understands
        return set()
    ey, em, ed = (int(part) for part in want.groups())
    found: set[str] = set()
    answer = got.strip()
    iso = _ISO.search(answer)
    numeric = _NUMERIC.search(answer)
    date_text = iso.group(0) if iso else numeric.group(0) if numeric else None
    if date_text is not None and answer.rstrip(".") != date_text:
        found.add("only_date")
    if iso is None:
        if numeric is None:
            return found
        if numeric.group(2) == "." and _input_style(task) == "dot" and numeric.group(0) in task:
            found.add("dots")  # the date was copied as it stood: dotted dates were not read at all
            return found
        found.add("iso")
        first, second, year = int(numeric.group(1)), int(numeric.group(3)), int(numeric.group(4))
        candidates = [(year, first, second), (year, second, first)]
        gy, gm, gd = next(((y, m, d) for y, m, d in candidates if (m, d) == (em, ed)), candidates[0])
        padded = True
    else:
        gy, gm, gd = (int(part) for part in iso.groups())
        padded = len(iso.group(2)) == 2 and len(iso.group(3)) == 2
    if gy != ey and gy % 100 == ey % 100:
        found.add("century")
    if (gm, gd) == (ed, em) and em != ed and _input_style(task) in ("slash", "dot"):
        found.add("day_first")
    if not padded and gy % 100 == ey % 100 and (gm, gd) in ((em, ed), (ed, em)) and (em < 10 or ed < 10):
        found.add("pad")
    return found


def read_feedback(task: str, output: str, feedback: str) -> set[str]:
    """The conventions one failed trajectory points at: from an expected-vs-given comparison when the feedback
    shows both, else from the words of the feedback and the shape of the output."""
    shown = _EXPECTED_GOT.search(feedback)
    if shown:
        return compare_answers(task, shown.group("expected"), shown.group("got"))
    lowered = feedback.lower()
    found = {rule for pattern, rule in FEEDBACK_WORDS if re.search(pattern, lowered)}
    if "year_first" in found:
        found.discard("year_first")
        dotted = _NUMERIC.search(output)
        if dotted and dotted.group(2) == "." and dotted.group(0) in task:
            found.add("dots")
        else:
            found.add("iso")
    if "day_first" in found and _input_style(task) not in ("slash", "dot"):
        found.discard("day_first")
    return found


def _trajectories(prompt: str) -> list[tuple[str, str, str, str]]:
    """(verdict, input, output, feedback) of each trajectory in a reflection prompt."""
    found = re.findall(r"^--- \d+ \((\w+), score [\d.]+\)\nINPUT: (.*?)\nOUTPUT: (.*?)\nFEEDBACK: (.*?)$", prompt, re.M | re.S)
    return [(verdict, task, output, feedback) for verdict, task, output, feedback in found]


def _skill_line(skill: str, phrase: str) -> str | None:
    return next((line for line in skill.splitlines() if phrase.lower() in line.lower() and line.strip()), None)


def infer_rules(prompt: str) -> dict[str, int]:
    """Rule id -> how many failed trajectories of the prompt it explains."""
    support: dict[str, int] = {}
    for verdict, task, output, feedback in _trajectories(prompt):
        if verdict != "FAILED":
            continue
        for rule in read_feedback(task, output, feedback):
            support[rule] = support.get(rule, 0) + 1
    return support


def propose_edits(prompt: str, append_only: bool = False) -> list[dict[str, str]]:
    """General edits for the conventions the failed trajectories point at, skipping rules the skill already states
    and edits rejected this epoch; never a value taken from one task. `append_only` when only the managed region
    may be edited (the user's lines cannot be replaced)."""
    skill_match = re.search(r"<skill>\n(.*?)\n</skill>", prompt, re.S)
    skill = skill_match.group(1) if skill_match else ""
    rejected = prompt.split("REJECTED EDITS THIS EPOCH", 1)[1] if "REJECTED EDITS THIS EPOCH" in prompt else ""
    stated = skill_rules(skill)
    edits = []
    for rule, seen in sorted(infer_rules(prompt).items(), key=lambda item: -item[1]):
        text, (op, anchor) = RULE_TEXTS[rule]
        if rule in stated or text in rejected:
            continue
        line = _skill_line(skill, anchor) if anchor else None
        rationale = f"{seen} failed task{'s' if seen != 1 else ''} show this convention"
        if op != "append" and line is not None and not append_only:
            edits.append({"op": op, "target": line, "text": text, "rationale": rationale})
        else:
            edits.append({"op": "append", "text": text, "rationale": rationale})
    return edits


def write_guidance(prompt: str) -> str:
    """Epoch guidance from the before/after comparison: what improved, and the open problems in general terms."""
    rows = re.findall(r"^- (\w+): INPUT: (.*?) \| FEEDBACK NOW: (.*)$", prompt, re.M)
    improved = sum(1 for flip, _, _ in rows if flip == "improved")
    regressed = sum(1 for flip, _, _ in rows if flip == "regressed")
    open_rows = [(task, fb) for flip, task, fb in rows if flip in ("still_failing", "regressed") and fb.strip() != "correct"]
    lines = [f"Review of the last epoch: {improved} of {len(rows)} sampled tasks improved and {regressed} regressed; "
             "keep the rules above, they are what fixed them."]
    if open_rows:
        rules = sorted({rule for task, fb in open_rows for rule in read_feedback(task, "", fb)})
        named = "; ".join(RULE_TEXTS[rule][0].rstrip(".") for rule in rules)
        lines.append(f"{len(open_rows)} sampled tasks still fail" + (f"; they point at: {named}." if named else
                     ", for reasons no general rule explains yet."))
    return " ".join(lines)


def _optimizer(messages: list[dict], tools: list[dict] | None, params: dict) -> OfflineReply:
    system = next((m.get("content", "") for m in messages if m.get("role") == "system"), "")
    prompt = "\n".join(str(m.get("content", "")) for m in messages if m.get("role") == "user")
    if SLOW_MARK in system:
        return OfflineReply(text=json.dumps({"guidance": write_guidance(prompt)}))
    if REFLECT_MARK in system:
        return OfflineReply(text=json.dumps({"edits": propose_edits(prompt, append_only=MANAGED_NOTE in system)}))
    return OfflineReply(text=json.dumps({"edits": []}))


def register_demo_models() -> None:
    """Register `offline/target` and `offline/optimizer` (cheap: no litellm import)."""
    register_offline_model("target", _target)
    register_offline_model("optimizer", _optimizer)
