"""Grader of the date-normalizer demo: exact ISO date, with feedback that names the kind of mistake, never the answer."""

from __future__ import annotations

import re
from typing import Any

_DATE = re.compile(r"(\d{1,4})[-/.](\d{1,2})[-/.](\d{1,4})")


def check(output: str, task: dict[str, Any]) -> tuple[float, str]:
    """Score 1 for exactly the reference date; otherwise 0 and every mistake found, in general terms."""
    reference = str(task["reference"])
    answer = output.strip()
    if answer == reference:
        return 1.0, "correct"
    ry, rm, rd = (int(part) for part in reference.split("-"))
    found = _DATE.search(answer)
    if found is None:
        return 0.0, "no date found; the answer should be a date written as year-month-day"
    problems = []
    if found.group(0) != answer:
        problems.append("the answer should contain only the date, with no other words")
    first, second, third = found.group(1), found.group(2), found.group(3)
    if len(first) != 4:
        problems.append("the answer should put the year first, as year-month-day with dashes")
        return 0.0, "; ".join(problems)
    year, month, day = int(first), int(second), int(third)
    if year != ry and year % 100 == ry % 100:
        problems.append("the century is wrong for a two-digit year")
    if (month, day) == (rd, rm) and rm != rd:
        problems.append("month and day are swapped")
    if len(second) != 2 or len(third) != 2:
        problems.append("month and day should always have two digits")
    if not problems:
        problems.append("the date is wrong")
    return 0.0, "; ".join(problems)
