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


# -- whole runs on an exact-graded copy of the demo -------------------------------------------------------------
import json  # noqa: E402

from mimo_tui.skillopt.budget import CostEstimate  # noqa: E402
from mimo_tui.skillopt.offline_models import compare_answers, propose_edits, simulate_target  # noqa: E402
from mimo_tui.skillopt.prompts import Trajectory, reflection_messages  # noqa: E402
from tests.fixtures.skillopt_project import TrainerProject  # noqa: E402

PLANTED = [{"id": f"plant-{n}", "input": f"Ledger entry {n}: paid on March {n}, 2027.", "expected": f"ZQ-PLANT-2027030{n}"}
           for n in range(1, 4)]


def exact_graded(tp: TrainerProject, planted: bool = True) -> dict[str, list[dict]]:
    """Rewrite the fixture's dataset as plain {id, input, expected} records (graded by exact match)."""
    rows: dict[str, list[dict]] = {}
    for split in ("train", "val", "test"):
        path = tp.entry.folder / "eval" / f"{split}.jsonl"
        items = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        rows[split] = [{"id": r["id"], "input": r["input"], "expected": r["grader"]["reference"]} for r in items]
        if split == "train" and planted:
            rows[split] += PLANTED
        path.write_text("".join(json.dumps(r) + "\n" for r in rows[split]))
    return rows


def optimizer_texts(run_dir) -> str:
    """Everything kept in the run folder as sent to or received from the optimizer."""
    parts = []
    for path in sorted(run_dir.rglob("*")):
        rel = path.relative_to(run_dir).as_posix()
        if path.is_file() and ("prompt" in rel or "optimizer" in rel):
            parts.append(path.read_text())
    return "\n".join(parts)


async def test_an_exact_graded_skill_learns_from_what_its_training_items_expected(trainer_project: TrainerProject) -> None:
    rows = exact_graded(trainer_project)
    prepared = trainer_project.start(trainer_project.config(epochs=2))
    summary = await prepared.trainer.run(CostEstimate(0, 0, 0, 0.0, True))
    assert summary["completed"] and summary["accepted_steps"]
    assert summary["val"]["best"]["score"] > summary["val"]["baseline"]["score"] + 0.5
    assert summary["test"]["final"]["score"] > summary["test"]["baseline"]["score"] + 0.5
    sent = optimizer_texts(prepared.run.path)
    assert (prepared.run.path / "steps" / "step_0001" / "optimizer_prompts.jsonl").exists()
    assert "ZQ-PLANT-2027030" in sent  # a planted answer no target writes reaches the optimizer only as feedback
    for item in rows["val"] + rows["test"]:
        assert item["input"] not in sent, item
    held_out_answers = {i["expected"] for i in rows["val"] + rows["test"]} - {i["expected"] for i in rows["train"]}
    assert not [a for a in held_out_answers if f"'{a}'" in sent]  # never quoted as an expected or given answer
    final = prepared.run.read_skill_version(summary["test"]["final"]["version"])
    assert "ZQ-PLANT" not in final and not any(i["input"] in final for i in rows["train"])


def test_the_offline_optimizer_infers_conventions_from_expected_and_given() -> None:
    assert compare_answers("Paid on 4/09/2017.", "2017-09-04", "2017-4-9") == {"day_first", "pad"}
    assert compare_answers("Order placed 3/1/24.", "2024-01-03", "The date is 1924-3-1.") == {"century", "day_first", "pad", "only_date"}
    assert compare_answers("Published 7 April 2027.", "2027-04-07", "4/7/2027") == {"iso"}
    assert compare_answers("Met on 12.03.2024.", "2024-03-12", "12.03.2024") == {"dots"}
    assert compare_answers("Ledger entry 1: paid on March 1, 2027.", "ZQ-PLANT-20270301", "2027-03-01") == set()
    skill = "---\nname: d\ndescription: d\n---\nNumeric dates are read month first.\nWrite YYYY-MM-DD.\n"
    group = [Trajectory("a", "Paid on 4/09/2017.", "2017-4-9", 0.0, False, "expected '2017-09-04', got '2017-4-9'"),
             Trajectory("b", "Due 5/11/2019.", "2019-5-11", 0.0, False, "expected '2019-11-05', got '2019-5-11'"),
             Trajectory("c", "Ledger: March 1, 2027.", "2027-3-1", 0.0, False, "expected 'ZQ-PLANT-20270301', got '2027-3-1'")]
    edits = propose_edits(reflection_messages(skill, group, [])[1]["content"])
    by_text = {e["text"]: e for e in edits}
    assert len(edits) == 2 and all(e["rationale"].startswith("2 failed tasks") for e in edits)
    swap = next(e for e in edits if "day first" in e["text"])
    assert swap["op"] == "replace" and swap["target"] == "Numeric dates are read month first."
    for text in by_text:  # general rules: no value of any task
        assert not any(value in text for value in ("2017", "2019", "ZQ-PLANT", "4/09", "5/11"))


def test_the_simulated_target_does_what_the_skill_says() -> None:
    bare = "---\nname: d\ndescription: d\n---\nFind the date.\n"
    assert simulate_target(bare, "Paid on 4/09/2017.") == "4/9/2017"
    iso = bare + "Write it as YYYY-MM-DD.\n"
    assert simulate_target(iso, "Paid on 4/09/2017.") == "2017-4-9"
    full = iso + "Slashes give the day first. Always two digits for month and day.\n"
    assert simulate_target(full, "Paid on 4/09/2017.") == "2017-09-04"
    assert simulate_target(full, "When was it paid? On 4/09/2017.") == "The date is 2017-09-04."
