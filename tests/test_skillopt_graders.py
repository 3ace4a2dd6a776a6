"""Graders: scores, and feedback that never reveals a pattern or a hidden reference."""

from __future__ import annotations

from pathlib import Path

import pytest

from mimo_tui.skillopt.graders import GraderError, check_grader_spec, grade, parse_judge_reply


async def test_exact_and_normalised() -> None:
    assert (await grade({"type": "exact", "reference": "Paris"}, " Paris\n", "q")).passed
    wrong = await grade({"type": "exact", "reference": "Paris"}, "paris", "q")
    assert not wrong.passed and "letter case" in wrong.feedback and "Paris" not in wrong.feedback
    assert (await grade({"type": "normalised_exact", "reference": "Paris"}, "paris.", "q")).passed


async def test_contains_regex_numeric() -> None:
    contains = await grade({"type": "contains", "reference": ["alpha", "gamma"]}, "alpha beta", "q")
    assert contains.score == 0.5 and "gamma" not in contains.feedback
    regex = await grade({"type": "regex", "pattern": r"^\d{4}-\d{2}$"}, "2024/05", "q")
    assert not regex.passed and r"\d{4}" not in regex.feedback and "required form" in regex.feedback
    assert (await grade({"type": "regex", "pattern": r"^\d{4}-\d{2}$"}, "2024-05", "q")).passed
    close = await grade({"type": "numeric", "reference": 3.14159, "tolerance": 0.01}, "about 3.14", "q")
    assert close.passed
    far = await grade({"type": "numeric", "reference": 42, "tolerance": 0.5}, "the answer is 50", "q")
    assert not far.passed and far.feedback == "the final number is too high" and "42" not in far.feedback
    assert (await grade({"type": "numeric", "reference": 1}, "none", "q")).feedback == "no number found in the answer"


async def test_json_field_match() -> None:
    spec = {"type": "json_field", "fields": {"city": "Oslo", "geo.lat": 59.9}}
    assert (await grade(spec, '```json\n{"city": "Oslo", "geo": {"lat": 59.9}}\n```', "q")).passed
    half = await grade(spec, '{"city": "Bergen", "geo": {}}', "q")
    assert half.score == 0.0 and "field city has the wrong value" in half.feedback and "Oslo" not in half.feedback
    assert (await grade(spec, "not json", "q")).feedback.startswith("the answer is not valid JSON: ")


async def test_python_grader_from_the_dataset_folder_is_redacted(tmp_path: Path) -> None:
    (tmp_path / "checks.py").write_text(
        "def check(output, task):\n    return (1.0, 'ok') if output == task['reference'] else (0.0, 'expected ' + task['reference'])\n"
    )
    spec = {"type": "python", "function": "checks:check", "reference": "secret-answer"}
    assert (await grade(spec, "secret-answer", "q", tmp_path)).passed
    wrong = await grade(spec, "nope", "q", tmp_path)
    assert wrong.feedback == "expected [hidden]"
    with pytest.raises(GraderError, match="not found"):
        await grade({"type": "python", "function": "checks:missing"}, "x", "q", tmp_path)


async def test_llm_judge_uses_the_judge_and_hides_the_rubric() -> None:
    seen: list[str] = []

    async def judge(rubric: str, task_input: str, output: str) -> str:
        seen.append(rubric)
        return "SCORE: 0.3\nFEEDBACK: misses the point that must mention the refund policy"

    spec = {"type": "llm_judge", "rubric": "must mention the refund policy"}
    result = await grade(spec, "hello", "q", judge=judge)
    assert seen == ["must mention the refund policy"]
    assert result.score == 0.3 and not result.passed and "refund policy" not in result.feedback
    with pytest.raises(GraderError):
        parse_judge_reply("I like it", 0.5)


def test_specs_are_checked() -> None:
    with pytest.raises(GraderError, match="unknown grader type"):
        check_grader_spec({"type": "vibes"})
    with pytest.raises(GraderError, match="needs 'pattern'"):
        check_grader_spec({"type": "regex"})
    with pytest.raises(GraderError, match="does not compile"):
        check_grader_spec({"type": "regex", "pattern": "("})
