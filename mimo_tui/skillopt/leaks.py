"""The leak policy of proposed edits: nothing from validation or test items, no hidden grader field, and no
hard-coded training example (a training item's input together with its answer)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from mimo_tui.skillopt.dataset import Splits
from mimo_tui.skillopt.graders import hidden_strings, shown_strings

MIN_SECRET = 4  # shorter hidden values (yes, no, 42) occur in any text
MIN_INPUT = 10  # shorter inputs are words a general rule may use
INPUT_SHARE = 0.6  # copying this much of an input, in one piece, counts as copying it


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().casefold()


def copies_input(task_input: str, text: str) -> bool:
    """Whether `text` holds `task_input`, or one unbroken piece of at least 60 % of it."""
    needle, haystack = _norm(task_input), _norm(text)
    if len(needle) < MIN_INPUT:
        return False
    if needle in haystack:
        return True
    match = SequenceMatcher(None, needle, haystack, autojunk=False).find_longest_match(0, len(needle), 0, len(haystack))
    return match.size >= max(MIN_INPUT, INPUT_SHARE * len(needle))


@dataclass(frozen=True)
class _Item:
    split: str
    id: str
    input: str
    secrets: tuple[str, ...]  # never to be copied
    answers: tuple[str, ...] = ()  # shown as training signal: refused only together with the input


@dataclass
class LeakGuard:
    """Checks one proposed text against every item of a dataset; `check` returns why it is refused, or None."""

    items: list[_Item] = field(default_factory=list)

    @classmethod
    def from_splits(cls, splits: Splits) -> LeakGuard:
        items = []
        for split in ("train", "val", "test"):
            for task in splits.split(split):
                training = split == "train"
                secrets = tuple(s for s in hidden_strings(task.grader, training) if len(s.strip()) >= MIN_SECRET)
                answers = tuple(s for s in shown_strings(task.grader) if len(s.strip()) >= MIN_SECRET) if training else ()
                items.append(_Item(split, task.id, task.input, secrets, answers))
        return cls(items)

    def check(self, text: str, skill_text: str = "") -> str | None:
        """Why `text` (an edit's new text) may not enter the skill; what the skill already says is not a new leak."""
        haystack, already = _norm(text), _norm(skill_text)
        if not haystack:
            return None

        def new_copy(value: str) -> bool:
            value = _norm(value)
            return value in haystack and value not in already

        for item in self.items:
            held_out = item.split != "train"
            name = {"val": "validation", "test": "test", "train": "training"}[item.split]
            if held_out and copies_input(item.input, text) and not copies_input(item.input, skill_text):
                return f"copies the input of {name} item {item.id}"
            for secret in item.secrets:
                if new_copy(secret):
                    what = "the reference or a hidden grader field" if held_out else "a hidden grader field"
                    return f"copies {what} of {name} item {item.id}"
            if item.answers and any(new_copy(a) for a in item.answers) and copies_input(item.input, text):
                return f"hard-codes training item {item.id}: copies its input and its answer"
        return None
