"""Dream's check of MEMORY.md against what was said later, and its deterministic fold of checkpoints' durable facts.

An entry stating a value ("the API listens on port 8080") that a later session message restates with another value
("the API listens on port 9090 now") is marked with the session that contradicts it, for the user or the model
pass to settle; dream never guesses which one is right. Facts under a "Durable facts" heading of a gathered
checkpoint or notes file are added under "Discovered durable knowledge" with their session, unless already there.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path

from rapidfuzz import fuzz

from mimo_tui.maintenance.dream.dedupe import are_duplicates, literal_words, normalise
from mimo_tui.maintenance.dream.entries import BULLET, HEADING, Line
from mimo_tui.maintenance.dream.gather import Source
from mimo_tui.maintenance.dream.review import Change, DreamReview

CONTRADICTED = "[contradicted"
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
_DURABLE_HEADINGS = ("durable facts", "durable knowledge", "discovered durable knowledge")
FOLD_SECTION = "Discovered durable knowledge"
# The rest of two statements (their values set aside) must read alike at least this much to be the same claim.
SAME_CLAIM = 90.0
MIN_CLAIM_WORDS = 3


@dataclass(frozen=True)
class Said:
    """One sentence of a session message, when it was said and in which session."""

    session_id: str
    when: float
    text: str


def load_history(state_db: Path, since_days: int, limit: int = 500) -> list[Said]:
    """Sentences of user and assistant messages of the last `since_days` days (read-only use of the store)."""
    from mimo_tui.sessions import SessionStore

    if not state_db.exists():
        return []
    since = time.time() - since_days * 86400
    sessions = SessionStore(state_db)
    said: list[Said] = []
    try:
        for session in sessions.list(limit):
            if session.updated_at < since:
                continue
            for message in sessions.messages(session.id):
                if message.role in ("user", "assistant") and message.content.strip():
                    said += [Said(session.id, message.created_at, part.strip())
                             for part in _SENTENCE.split(message.content) if part.strip()]
    finally:
        sessions.close()
    return said


def _claim(text: str) -> tuple[str, frozenset[str]]:
    values = literal_words(text)
    words = [w for w in normalise(text).split() if w not in values]
    return " ".join(words), frozenset(values)


def check_against_history(lines: list[Line], review: DreamReview, history: list[Said]) -> list[Line]:
    """Mark each dated entry that a later message restates with other values, naming that session."""
    claims = [(said, *_claim(said.text)) for said in history]
    claims = [c for c in claims if c[2]]
    out = []
    for line in lines:
        if not line.is_entry or not line.when or CONTRADICTED in line.body:
            out.append(line)
            continue
        words, values = _claim(line.body)
        if not values or len(words.split()) < MIN_CLAIM_WORDS:
            out.append(line)
            continue
        later = [(said, other) for said, other_words, other in claims
                 if said.when > line.when and other != values and not other <= values
                 and fuzz.token_set_ratio(words, other_words) >= SAME_CLAIM
                 and len(other_words.split()) >= MIN_CLAIM_WORDS]
        if later:
            said, _ = max(later, key=lambda pair: pair[0].when)
            day = time.strftime("%Y-%m-%d", time.localtime(said.when))
            new = line.with_body(f"{line.body.rstrip()} {CONTRADICTED} by session {said.session_id} on {day}: "
                                 f"\"{said.text[:160]}\"]")
            review.updated.append(Change(line.text.strip(), new.text.strip(),
                                         f"session {said.session_id} said otherwise later"))
            line = new
        out.append(line)
    return out


def durable_facts(source: Source) -> list[str]:
    """The `- ` lines under a "Durable facts"-type heading of a checkpoint or notes file."""
    facts: list[str] = []
    inside = False
    for raw in source.text.splitlines():
        stripped = raw.strip()
        if HEADING.match(stripped):
            title = re.sub(r"^§\d+\s*", "", stripped.lstrip("#").strip()).lower()
            inside = title in _DURABLE_HEADINGS
            continue
        match = BULLET.match(raw)
        if inside and match and match.group(3).strip():
            facts.append(" ".join(match.group(3).split()))
    return facts


def _session_of(relpath: str) -> str:
    parts = relpath.split("/")
    return parts[1] if len(parts) > 2 and parts[0] == "sessions" else relpath


def fold_durable_facts(lines: list[Line], review: DreamReview, sources: list[Source], threshold: float) -> list[Line]:
    """Add checkpoints' durable facts under "Discovered durable knowledge", deduped against every entry there is."""
    entries = [line.body for line in lines if line.is_entry]
    new: list[Line] = []
    number = max((line.number for line in lines), default=0) + 1_000_000
    for source in sorted(sources, key=lambda s: s.when):
        for fact in durable_facts(source):
            if any(fact in body or are_duplicates(fact, body, threshold) for body in entries):
                continue
            day = time.strftime("%Y-%m-%d", time.localtime(source.when)) if source.when else ""
            text = f"- {fact} (session {_session_of(source.relpath)}{', ' + day if day else ''})"
            new.append(Line(number, text, FOLD_SECTION, source.when))
            number += 1
            entries.append(fact)
            review.updated.append(Change("", text, f"folded in from {source.relpath}"))
    if not new:
        return lines
    heading = next((i for i, line in enumerate(lines) if line.text.strip() == f"## {FOLD_SECTION}"), None)
    if heading is None:
        tail = [Line(number, "", "", 0), Line(number + 1, f"## {FOLD_SECTION}", FOLD_SECTION, 0)]
        return [*lines, *tail, *new]
    end = next((i for i in range(heading + 1, len(lines)) if lines[i].text.startswith("## ")), len(lines))
    while end > heading + 1 and not lines[end - 1].text.strip():
        end -= 1
    return [*lines[:end], *new, *lines[end:]]
