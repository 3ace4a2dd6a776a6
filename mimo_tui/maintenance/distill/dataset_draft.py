"""A starter dataset for a skill, drafted from the sessions its work came from, kept "pending review" until the user
approves each item into train, val or test (or drops it). Nothing reaches a split file without that approval.

The draft lives at `skills/<name>/eval/draft.jsonl` (committed by `distill`); approved items are appended to
`skills/<name>/eval/<split>.jsonl` in the trainer's format (`input` plus a `grader`)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from rapidfuzz import fuzz

from mimo_tui.maintenance.distill.engine import DISTILL
from mimo_tui.maintenance.distill.history import SUBAGENT_MODE
from mimo_tui.sessions import SessionStore
from mimo_tui.skills.front_matter import FrontMatterError, parse_skill_file
from mimo_tui.store import StoreError, VersionedStore

PENDING, APPROVED, DROPPED = "pending review", "approved", "dropped"
SPLITS = ("train", "val", "test")
SHORT_ANSWER = 80
# A user turn that starts like this rejected the answer before it: that answer is not one the user accepted.
_REJECTION = re.compile(r"^\s*(no\b|nope|wrong|that'?s (not|wrong)|this is wrong|incorrect|not what i)", re.I)


@dataclass(frozen=True)
class DraftItem:
    id: str
    input: str
    expected: str
    grader: dict[str, Any]
    session_id: str
    status: str = PENDING

    def as_json(self) -> str:
        return json.dumps({"id": self.id, "input": self.input, "expected": self.expected, "grader": self.grader,
                           "session": self.session_id, "status": self.status}, ensure_ascii=False)


def draft_path(name: str) -> str:
    return f"skills/{name}/eval/draft.jsonl"


def grader_for(answer: str) -> dict[str, Any]:
    """A suggestion the user reviews: exact-ish for a short answer, a judge with a rubric for a long one."""
    if len(answer) <= SHORT_ANSWER and "\n" not in answer:
        return {"type": "normalized", "reference": answer}
    return {"type": "llm_judge", "rubric": "The answer does what the accepted answer did: "
                                           f"{answer[:300].replace(chr(10), ' ')}"}


def _skill_examples(store: VersionedStore, name: str) -> list[str]:
    snapshot = store.read(f"skills/{name}/SKILL.md")
    if not snapshot.exists or not snapshot.text:
        raise StoreError(f"no skill {name!r} in the memory repo (.mimo/skills/{name}/SKILL.md)")
    try:
        parsed = parse_skill_file(snapshot.text)
    except FrontMatterError as exc:
        raise StoreError(f".mimo/skills/{name}/SKILL.md: {exc}") from exc
    examples = [line[2:].strip() for line in parsed.body.splitlines() if line.startswith("- ")]
    return examples + [parsed.fields.get("description", "")]


def accepted_pairs(sessions: SessionStore, limit: int = 1000) -> list[tuple[str, str, str]]:
    """(session, request, final answer) for every request whose answer the user did not reject next."""
    pairs: list[tuple[str, str, str]] = []
    for session in sessions.list(limit):
        if session.mode == SUBAGENT_MODE:
            continue
        request, answer = None, ""
        for message in sessions.messages(session.id):
            if message.role == "user":
                if request and answer and not _REJECTION.match(message.content):
                    pairs.append((session.id, request, answer))
                request, answer = message.content.strip(), ""
            elif message.role == "assistant" and message.content.strip() and message.status == "complete":
                answer = message.content.strip()
        if request and answer:
            pairs.append((session.id, request, answer))
    return pairs


def draft_dataset(store: VersionedStore, sessions: SessionStore, name: str, similarity: float = 80.0) -> list[DraftItem]:
    """Items from sessions whose requests read like the skill's examples; committed as the pending draft."""
    examples = [e.lower() for e in _skill_examples(store, name) if e]
    items: list[DraftItem] = []
    for n, (session_id, request, answer) in enumerate(accepted_pairs(sessions)):
        if request.startswith("/") or not any(fuzz.token_set_ratio(request.lower(), e) >= similarity for e in examples):
            continue
        items.append(DraftItem(f"draft-{len(items) + 1:03d}", request, answer, grader_for(answer), session_id))
    if items:
        text = "".join(item.as_json() + "\n" for item in items)
        store.write(draft_path(name), text, DISTILL,
                    message=f"distill: drafted {len(items)} dataset item(s) for skill {name}, pending review")
    return items


def read_draft(store: VersionedStore, name: str) -> list[DraftItem]:
    snapshot = store.read(draft_path(name))
    items = []
    for line in (snapshot.text or "").splitlines():
        if line.strip():
            data = json.loads(line)
            items.append(DraftItem(data["id"], data["input"], data["expected"], data["grader"], data.get("session", ""),
                                   data.get("status", PENDING)))
    return items


def review_item(store: VersionedStore, name: str, item_id: str, decision: str, *, input_text: str | None = None,
                expected: str | None = None) -> DraftItem:
    """Approve a pending item into `decision` (train, val or test), optionally edited, or drop it ("drop")."""
    if decision not in (*SPLITS, "drop"):
        raise StoreError(f"decide train, val, test or drop, not {decision!r}")
    with store.exclusive():
        items = read_draft(store, name)
        item = next((i for i in items if i.id == item_id), None)
        if item is None:
            raise StoreError(f"no item {item_id} in the draft of skill {name}")
        if item.status != PENDING:
            raise StoreError(f"{item_id} was already {item.status}")
        if decision == "drop":
            decided = DraftItem(item.id, item.input, item.expected, item.grader, item.session_id, DROPPED)
        else:
            answer = expected if expected is not None else item.expected
            grader = grader_for(answer) if expected is not None else item.grader
            decided = DraftItem(item.id, input_text or item.input, answer, grader, item.session_id, APPROVED)
            split_path = f"skills/{name}/eval/{decision}.jsonl"
            current = store.read(split_path).text or ""
            line = json.dumps({"id": f"{name}-{item.id}", "input": decided.input, "grader": decided.grader},
                              ensure_ascii=False)
            store.write(split_path, current + ("" if not current or current.endswith("\n") else "\n") + line + "\n",
                        DISTILL, message=f"distill: approved {item.id} of skill {name} into {decision}")
        text = "".join((decided if i.id == item_id else i).as_json() + "\n" for i in items)
        store.write(draft_path(name), text, DISTILL, message=f"distill: {item.id} of skill {name} {decided.status}")
    return decided
