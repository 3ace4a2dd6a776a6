"""The simulated world of bench/skill_learning.py: tasks with hidden conventions, a target that follows a
convention only when the skill states it (with slips), and an optimizer that learns only from the feedback
it is shown. Nothing here is imported by the app.

Tasks normalise one value of a kind (a date, an amount, a company, a time, a phone number, a currency or a
plain word). Six kinds have a hidden convention; plain words have none. The target writes the naive form of
a value unless the skill states its convention. The optimizer may phrase a convention too broadly (like the
"remove all spaces" rule that was seen): the broad rule fixes its kind and breaks another one. It can also
add a harmless-looking filler rule, which changes nothing but the noise.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import threading
from collections import Counter
from dataclasses import dataclass

KINDS = ("date", "amount", "company", "time", "phone", "currency", "word")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")
COMPANIES = ("Acme Corp", "Blue Harbor Ltd", "Northwind Traders", "Zephyr Labs", "Granite Peak Inc", "Kestrel Works",
             "Orchid Systems", "Silver Fern Co", "Tundra Foods", "Velvet Lane Studio", "Copper Kettle", "Ironbark Mills")
CURRENCIES = {"euros": "EUR", "dollars": "USD", "pounds": "GBP", "yen": "JPY", "francs": "CHF", "kronor": "SEK"}
WORDS = ("otter", "heron", "walrus", "lynx", "bison", "marten", "ibex", "gecko", "tapir", "okapi", "quokka", "puffin")


@dataclass(frozen=True)
class Convention:
    kind: str
    precise: str  # the rule as a careful optimizer states it
    broad: str  # the same lesson over-generalised
    breaks: str  # the kind the broad rule breaks


CONVENTIONS = {
    "date": Convention("date", "Write dates as YYYY-MM-DD.", "Write every answer with digits and dashes only.", "phone"),
    "amount": Convention("amount", "Write amounts with two decimals and no thousands separator.",
                         "Write every number with two decimals.", "time"),
    "company": Convention("company", "Write company names in capital letters.",
                          "Write the whole answer in capital letters.", "word"),
    "time": Convention("time", "Write times in 24-hour form as HH:MM.",
                       "Write times as HH:MM and remove all spaces from the answer.", "company"),
    "phone": Convention("phone", "Write phone numbers as a plus sign, the country code and the digits only.",
                        "Remove every character that is not a digit or a plus sign.", "amount"),
    "currency": Convention("currency", "Write currencies as their three-letter ISO code.",
                           "Abbreviate every word to three capital letters.", "word"),
}
FILLERS = ("Read the task carefully before answering.", "Keep answers short and precise.",
           "Double-check the value before you write it.")


def _has(skill: str, rule: str) -> bool:
    return rule.lower().rstrip(".") in skill.lower()


def stated(skill: str) -> tuple[set[str], set[str]]:
    """The conventions a skill states (precisely or broadly) and the kinds its broad rules break."""
    follows, broken = set(), set()
    for kind, conv in CONVENTIONS.items():
        if _has(skill, conv.precise):
            follows.add(kind)
        if _has(skill, conv.broad):
            follows.add(kind)
            broken.add(conv.breaks)
    return follows, broken


def passes(skill: str, kind: str) -> bool:
    """Whether the target, not slipping, gets an item of this kind right under this skill."""
    follows, broken = stated(skill)
    return kind not in broken and (kind == "word" or kind in follows)


@dataclass(frozen=True)
class Item:
    id: str
    kind: str
    input: str
    answer: str
    naive: str


def make_item(rng: random.Random, kind: str, item_id: str) -> Item:
    if kind == "date":
        y, m, d = rng.randint(2020, 2030), rng.randint(1, 12), rng.randint(1, 28)
        return Item(item_id, kind, f"the date {MONTHS[m - 1]} {d}, {y}", f"{y:04d}-{m:02d}-{d:02d}", f"{MONTHS[m - 1]} {d}, {y}")
    if kind == "amount":
        cents = rng.randint(100_000, 9_999_999)
        whole, frac = divmod(cents, 100)
        naive = f"{whole:,}.{frac:02d}".rstrip("0").rstrip(".")
        return Item(item_id, kind, f"the amount {naive}", f"{whole}.{frac:02d}", naive)
    if kind == "company":
        name = rng.choice(COMPANIES)
        return Item(item_id, kind, f"the company {name}", name.upper(), name)
    if kind == "time":
        h, mi = rng.randint(0, 23), rng.randint(0, 59)
        naive = f"{(h % 12) or 12}:{mi:02d} {'AM' if h < 12 else 'PM'}"
        return Item(item_id, kind, f"the time {naive}", f"{h:02d}:{mi:02d}", naive)
    if kind == "phone":
        cc, a, b, c = rng.choice((1, 44, 49, 33)), rng.randint(200, 999), rng.randint(100, 999), rng.randint(1000, 9999)
        naive = f"+{cc} ({a}) {b}-{c}"
        return Item(item_id, kind, f"the phone number {naive}", f"+{cc}{a}{b}{c}", naive)
    if kind == "currency":
        word = rng.choice(sorted(CURRENCIES))
        return Item(item_id, kind, f"the currency {word}", CURRENCIES[word], word)
    word = rng.choice(WORDS)
    return Item(item_id, kind, f"the word {word}", word, word)


def make_items(rng: random.Random, prefix: str, count: int) -> list[Item]:
    kinds = [KINDS[i % len(KINDS)] for i in range(count)]
    rng.shuffle(kinds)
    return [make_item(rng, kind, f"{prefix}-{n:03d}") for n, kind in enumerate(kinds, start=1)]


def task_text(item: Item) -> str:
    return f"Record {item.id}: normalise {item.input}."


def _unit(*parts: object) -> float:
    digest = hashlib.sha256("\x00".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _corrupt(answer: str, kind_broken_by: str) -> str:
    """What a broad rule does to an answer of the kind it breaks (a visible symptom in the feedback)."""
    return {"phone": lambda a: a.replace("+", "").lstrip("0"),
            "time": lambda a: a.replace(":", ".00:") + ".00",
            "word": str.upper,
            "company": lambda a: a.replace(" ", ""),
            "amount": lambda a: a.replace(".", "")}[kind_broken_by](answer)


class Target:
    """The simulated target. At temperature 0 a given prompt always gets the same answer (slips depend on the
    prompt, as a real model's sensitivity to wording does); above 0 every call is a fresh draw."""

    def __init__(self, seed: int, items: dict[str, Item], slip: float) -> None:
        self.seed = seed
        self.by_input = {task_text(i): i for i in items.values()}
        self.slip = slip
        self._seen: Counter[str] = Counter()
        self._lock = threading.Lock()

    def answer(self, skill: str, task: str, temperature: float) -> str:
        item = self.by_input.get(task.strip())
        if item is None:
            return "I cannot tell what to normalise."
        key = skill + "\x00" + task
        draw = 0
        if temperature > 0:
            with self._lock:
                draw = self._seen[key]
                self._seen[key] += 1
        follows, broken = stated(skill)
        if item.kind in broken:
            return _corrupt(item.answer, item.kind)
        if item.kind != "word" and item.kind not in follows:
            return item.naive
        if _unit(self.seed, "slip", key, draw) < self.slip:
            return item.answer + "."
        return item.answer


FEEDBACK = re.compile(r"expected '(.*?)', got '(.*?)'")


def _infer(expected: str, got: str, skill: str) -> tuple[str, str] | None:
    """From one wrong answer: ("learn", kind) for a convention, ("repair", kind) for a broad rule in the skill
    that did this, or None (a slip, or nothing recognisable). Uses only the expected and the given answer."""
    if got.rstrip(".") == expected:
        return None
    for kind, conv in CONVENTIONS.items():
        if _has(skill, conv.broad) and got == _corrupt(expected, conv.breaks):
            return ("repair", kind)
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", expected):
        return ("learn", "date")
    if re.fullmatch(r"\d{2}:\d{2}", expected) and re.search(r"[AP]M", got):
        return ("learn", "time")
    if re.fullmatch(r"\+\d{8,}", expected):
        return ("learn", "phone")
    if re.fullmatch(r"\d+\.\d{2}", expected) and ("," in got or not re.fullmatch(r"\d+\.\d{2}", got)):
        return ("learn", "amount")
    if re.fullmatch(r"[A-Z]{3}", expected) and got.isalpha() and got.lower() == got:
        return ("learn", "currency")
    if expected == got.upper() and expected != got:
        return ("learn", "company")
    return None


class Optimizer:
    """The simulated optimizer: reads the feedback lines of a reflection prompt and proposes rules for the
    conventions they show; a seeded share of its rules is over-broad, and it sometimes adds a filler rule."""

    def __init__(self, seed: int, broad_rate: float = 0.3, filler_rate: float = 0.4) -> None:
        self.seed = seed
        self.broad_rate = broad_rate
        self.filler_rate = filler_rate

    def reflect(self, prompt: str) -> str:
        skill_match = re.search(r"<skill>\n(.*?)\n</skill>", prompt, re.S)
        skill = skill_match.group(1) if skill_match else ""
        rejected = prompt.split("REJECTED EDITS THIS EPOCH", 1)[1] if "REJECTED EDITS THIS EPOCH" in prompt else ""
        seen: Counter[tuple[str, str]] = Counter()
        for line in re.findall(r"^FEEDBACK: (.*)$", prompt, re.M):
            match = FEEDBACK.search(line)
            if match:
                found = _infer(match.group(1), match.group(2), skill)
                if found:
                    seen[found] += 1
        edits: list[dict[str, str]] = []
        for (action, kind), count in sorted(seen.items()):
            conv = CONVENTIONS[kind]
            if action == "repair":
                line = next((ln for ln in skill.splitlines() if _has(ln, conv.broad)), None)
                if line is not None:
                    edits.append({"op": "replace", "target": line, "text": conv.precise,
                                  "rationale": f"the broad rule broke {count} answer(s)"})
                continue
            if _has(skill, conv.precise) or _has(skill, conv.broad):
                continue
            broad = _unit(self.seed, "broad", kind, prompt) < self.broad_rate
            text = conv.broad if broad and conv.broad not in rejected else conv.precise
            if text in rejected:
                continue
            edits.append({"op": "append", "text": text, "rationale": f"{count} answer(s) show this convention"})
        if _unit(self.seed, "filler", prompt) < self.filler_rate:
            filler = FILLERS[int(_unit(self.seed, "which", prompt) * len(FILLERS))]
            if not _has(skill, filler) and filler not in rejected:
                edits.append({"op": "append", "text": filler, "rationale": "be careful"})
        return json.dumps({"edits": edits})


def true_score(skill: str, items: list[Item], slip: float) -> float:
    """The expected score of a skill on items (the slip rate is the only noise)."""
    return sum((1.0 - slip) if passes(skill, i.kind) else 0.0 for i in items) / len(items)


def reference_skill(base: str) -> str:
    """The seed skill plus every convention, stated precisely."""
    return base.rstrip("\n") + "\n\n" + "\n".join(c.precise for c in CONVENTIONS.values()) + "\n"
