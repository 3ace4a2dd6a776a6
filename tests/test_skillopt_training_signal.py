"""What the optimizer is shown: the training signal of each grader on training items, nothing on held-out items."""

from __future__ import annotations

from pathlib import Path

from mimo_tui.skillopt.graders import grade, hidden_strings


async def test_exact_grader_says_what_was_expected_on_training_items_only() -> None:
    spec = {"type": "exact", "reference": "2027-04-07"}
    shown = await grade(spec, "2027-4-7", "Published 7 April 2027.", training=True)
    assert not shown.passed and shown.feedback == "expected '2027-04-07', got '2027-4-7'"
    held_out = await grade(spec, "2027-4-7", "Published 7 April 2027.")
    assert "2027-04-07" not in held_out.feedback and "expected one" in held_out.feedback
    chatty = await grade({"type": "normalised", "reference": "Oslo"}, "The capital is Oslo. " * 20, "q", training=True)
    assert chatty.feedback.startswith("expected 'Oslo', got 'The capital is Oslo.")
    assert len(chatty.feedback) < 260 and "..." in chatty.feedback and "other text around it" in chatty.feedback
    empty = await grade(spec, "  ", "q", training=True)
    assert empty.feedback == "expected '2027-04-07', got an empty answer"


async def test_other_graders_say_which_part_failed_without_showing_a_pattern() -> None:
    contains = await grade({"type": "contains", "reference": ["Total:", "EUR"]}, "Total: 12", "q", training=True)
    assert "lacks 1 of 2" in contains.feedback and "'EUR'" in contains.feedback
    assert "EUR" not in (await grade({"type": "contains", "reference": ["Total:", "EUR"]}, "Total: 12", "q")).feedback
    pattern = r"^\d{4}-\d{2}-\d{2}$"
    for output, words in (("The date is 2024-01-02.", "other text before or after"),
                          ("2024-01-02\nDone", "other text before or after")):
        regex = await grade({"type": "regex", "pattern": pattern}, output, "q", training=True)
        assert words in regex.feedback and pattern not in regex.feedback and r"\d" not in regex.feedback
    upper = await grade({"type": "regex", "pattern": r"^[a-z]+-\d+$"}, "ABC-12", "q", training=True)
    assert "letter case" in upper.feedback
    numeric = await grade({"type": "numeric", "reference": 42, "tolerance": 0.5}, "first 3 then 50", "q", training=True)
    assert numeric.feedback == "expected 42 (within 0.5), got 50: too high (the last number in the answer is read: 50)"
    fields = {"type": "json_field", "fields": {"city": "Oslo", "geo.lat": 59.9}}
    wrong = await grade(fields, '{"city": "Bergen"}', "q", training=True)
    assert 'field city: expected "Oslo", got "Bergen"' in wrong.feedback and "geo.lat is missing (expected 59.9)" in wrong.feedback
    broken = await grade(fields, 'Here: {"city": "Oslo"', "q", training=True)
    assert broken.feedback.startswith("the answer is not valid JSON: ") and "column" in broken.feedback


async def test_python_grader_fields_are_secret_by_default_unless_declared_public(tmp_path: Path) -> None:
    (tmp_path / "checks.py").write_text(
        "def check(output, task):\n"
        "    ok = output == task['gold_label']\n"
        "    return (1.0 if ok else 0.0), f\"want {task['gold_label']} ({task['hint']})\"\n"
    )
    spec = {"type": "python", "function": "checks:check", "gold_label": "ZEBRA-7", "hint": "a code word", "public": ["hint"]}
    assert hidden_strings(spec) == ["ZEBRA-7"] and hidden_strings(spec, training=True) == ["ZEBRA-7"]
    for training in (True, False):
        result = await grade(spec, "LION-2", "q", tmp_path, training=training)
        assert result.feedback == "want [hidden] (a code word)"
    assert hidden_strings({"type": "exact", "reference": "2024-01-02"}, training=True) == []
    assert hidden_strings({"type": "regex", "pattern": r"^\d+$"}, training=True) == [r"^\d+$"]
