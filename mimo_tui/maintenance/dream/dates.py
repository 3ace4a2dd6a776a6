"""Relative dates ("today", "yesterday", "last week") made absolute from the day the line was committed."""

from __future__ import annotations

import datetime as dt
import re

_WORDS = {
    "today": 0, "this morning": 0, "this afternoon": 0, "tonight": 0,
    "yesterday": 1, "the day before yesterday": 2,
    "last week": 7, "a week ago": 7, "two weeks ago": 14, "last month": 30,
}
_DAYS_AGO = re.compile(r"\b(\d{1,3}) days? ago\b", re.IGNORECASE)
_WORD = re.compile(r"\b(" + "|".join(sorted((re.escape(w) for w in _WORDS), key=len, reverse=True)) + r")\b",
                   re.IGNORECASE)


def _day(when: int, days_back: int) -> str:
    return (dt.datetime.fromtimestamp(when).date() - dt.timedelta(days=days_back)).isoformat()


def absolute_dates(body: str, when: int) -> str:
    """`body` with each relative date replaced by an ISO date counted back from `when` ("last week" -> "the week of")."""
    if not when:
        return body

    def word(match: re.Match[str]) -> str:
        phrase = match.group(1).lower()
        back = _WORDS[phrase]
        if phrase in ("last week", "a week ago", "two weeks ago"):
            return f"the week of {_day(when, back)}"
        if phrase == "last month":
            return f"the month before {_day(when, 0)}"
        if _preceded_by_on(match):
            return _day(when, back)
        return f"{'On' if match.start() == 0 else 'on'} {_day(when, back)}"

    text = _DAYS_AGO.sub(lambda m: f"on {_day(when, int(m.group(1)))}", body)
    return _WORD.sub(word, text)


def _preceded_by_on(match: re.Match[str]) -> bool:
    return match.string[: match.start()].rstrip().lower().endswith(" on")
