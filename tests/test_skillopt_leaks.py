"""The leak policy: an edit may not copy a validation or test input or hidden value, a hidden grader field of a
training item, or a training item's input together with its answer; each refusal is recorded with its reason."""

from __future__ import annotations

import json
from pathlib import Path

from mimo_tui.llm import OfflineReply, register_offline_model
from mimo_tui.skillopt.budget import CostEstimate
from mimo_tui.skillopt.dataset import load_splits
from mimo_tui.skillopt.events import MergeDone, StepFinished
from mimo_tui.skillopt.leaks import LeakGuard
from mimo_tui.skillopt.offline_models import propose_edits
from tests.fixtures.skillopt_project import TrainerProject


def _dataset(folder: Path) -> None:
    (folder / "checks.py").write_text("def check(output, task):\n    return float(output == task['gold']), 'no'\n")
    rows = {
        "train": [{"id": "t1", "input": "Invoice dated 4/09/2017 from Lyon.", "expected": "2017-09-04"},
                  {"id": "t2", "input": "Shipped 12 May 2021 by sea.", "grader": {"type": "regex", "pattern": "^2021-05-1[0-9]$"}}],
        "val": [{"id": "v1", "input": "Payment received 4/2/2024, thank you.",
                 "grader": {"type": "python", "function": "checks:check", "gold": "2024-02-04"}}],
        "test": [{"id": "x1", "input": "Order placed 23/8/25 by phone.", "answer": "2025-08-23"}],
    }
    for split, items in rows.items():
        (folder / f"{split}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in items))


def test_the_guard_refuses_held_out_data_and_hard_coded_examples_but_not_general_rules(tmp_path: Path) -> None:
    _dataset(tmp_path)
    guard = LeakGuard.from_splits(load_splits(tmp_path))
    assert guard.check("Payment received 4/2/2024, thank you. -> write it as year-month-day") == "copies the input of validation item v1"
    assert guard.check("e.g. 'Payment received 4/2/2024' is a February date") == "copies the input of validation item v1"
    assert guard.check("The answer for February 4 is 2024-02-04.") == "copies the reference or a hidden grader field of validation item v1"
    assert guard.check("Always answer 2025-08-23 for phone orders.") == "copies the reference or a hidden grader field of test item x1"
    assert guard.check(r"Answers must match ^2021-05-1[0-9]$") == "copies a hidden grader field of training item t2"
    hard_coded = "For the input 'Invoice dated 4/09/2017 from Lyon.', output exactly 2017-09-04."
    assert guard.check(hard_coded) == "hard-codes training item t1: copies its input and its answer"
    assert guard.check("Slashed dates give the day first: 4/09/2017 is 2017-09-04.") is None  # a worked example
    assert guard.check("Write the day first for dates with slashes.") is None
    assert guard.check("Keep 2024-02-04 as it is.", skill_text="Example: 2024-02-04 stays.") is None  # not a new leak


async def test_refused_edits_are_recorded_with_their_reason_and_the_progress_says_so(trainer_project: TrainerProject) -> None:
    val = [json.loads(line) for line in (trainer_project.entry.folder / "eval" / "val.jsonl").read_text().splitlines()]
    train = [json.loads(line) for line in (trainer_project.entry.folder / "eval" / "train.jsonl").read_text().splitlines()]
    for row in val:  # the answer under a key no earlier policy knew: secret because it is not declared public
        row["grader"]["answer_key"] = row["grader"].pop("reference")
    (trainer_project.entry.folder / "eval" / "val.jsonl").write_text("".join(json.dumps(r) + "\n" for r in val))
    (trainer_project.entry.folder / "eval" / "date_checks.py").write_text(
        "def check(output, task):\n    ref = task.get('reference') or task['answer_key']\n"
        "    return (1.0, 'correct') if output.strip() == ref else (0.0, 'the date is wrong')\n")

    def leaky(messages: list[dict], tools: object, params: dict) -> OfflineReply:
        if "[skillopt:slow-update]" in messages[0]["content"]:
            return OfflineReply(text=json.dumps({"guidance": "Keep going."}))
        edits = [
            {"op": "append", "text": f"Remember: {val[0]['grader']['answer_key']} is a common answer."},
            {"op": "append", "text": f"Like {val[1]['input']}"},
            {"op": "append", "text": f"For the input {train[0]['input']} output exactly {train[0]['grader']['reference']}."},
        ]
        return OfflineReply(text=json.dumps({"edits": edits}))

    register_offline_model("leaky-optimizer", leaky)
    seen: list[object] = []
    prepared = trainer_project.start(trainer_project.config(optimizer="offline/leaky-optimizer"), seen.append)
    await prepared.trainer.run(CostEstimate(0, 0, 0, 0.0, True))
    merges = [e for e in seen if isinstance(e, MergeDone)]
    reasons = {r["reason"] for m in merges for r in m.refused}
    assert f"copies the reference or a hidden grader field of validation item {val[0]['id']}" in reasons
    assert f"copies the input of validation item {val[1]['id']}" in reasons
    # the demo's training items are graded by Python code: their reference is never shown, so never copied
    assert f"copies a hidden grader field of training item {train[0]['id']}" in reasons
    first = next(e for e in seen if isinstance(e, StepFinished))
    assert first.action == "no_edits" and first.record["refused_leaks"] == 3
    assert first.record["no_edit_reason"].startswith("all 3 distinct proposed edit(s) refused; top reason: ")
    events = (prepared.run.path / "events.jsonl").read_text()
    assert f"copies the input of validation item {val[1]['id']}" in events  # recorded in the run, not only shown
    final = prepared.run.read_skill_version(prepared.trainer.state.incumbent_version)
    assert val[0]["grader"]["answer_key"] not in final and train[0]["input"] not in final


def test_the_offline_optimizer_never_proposes_a_value_it_was_shown() -> None:
    prompt = ("CURRENT SKILL:\n<skill>\nRead numeric dates month first. Write YYYY-MM-DD.\n</skill>\nTRAJECTORIES:\n"
              "--- 1 (FAILED, score 0.00)\nINPUT: Due 5/11/2019.\nOUTPUT: 2019-5-11\nFEEDBACK: expected '2019-11-05', got '2019-5-11'")
    edits = propose_edits(prompt)
    assert edits and not any(v in json.dumps(edits) for v in ("2019", "5/11", "11-05"))
