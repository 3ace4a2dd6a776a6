"""Set-up as people have it: reference field names, train+val only, SKILL.md without front matter; a readable run
(optimizer prompts kept, why a step made no edit) and a cost estimate that counts cached answers."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from mimo_tui.cli import main
from mimo_tui.llm import OfflineReply, register_offline_model
from mimo_tui.skillopt.budget import CostEstimate
from mimo_tui.skillopt.dataset import DatasetError, load_splits, reference_fields
from mimo_tui.skillopt.session import price_with, resume_run
from mimo_tui.skills import app_skills_dir
from tests.fixtures.skillopt_project import TrainerProject

SKILL = (app_skills_dir() / "date-normalizer" / "SKILL.md").read_text()


@pytest.mark.parametrize("field", ["expected", "answer", "output", "target"])
def test_the_reference_may_be_under_any_usual_name(tmp_path: Path, field: str) -> None:
    for split in ("train", "val"):
        (tmp_path / f"{split}.jsonl").write_text(json.dumps({"id": split, "input": f"q {split}", field: "42"}) + "\n")
    splits = load_splits(tmp_path)
    assert splits.train[0].grader == {"type": "exact", "reference": "42"} and splits.test == []


def test_a_reference_field_named_in_config(tmp_path: Path) -> None:
    for split in ("train", "val"):
        (tmp_path / f"{split}.jsonl").write_text(json.dumps({"input": f"q {split}", "gold": "7", "output": "x"}) + "\n")
    assert load_splits(tmp_path, fields=reference_fields("gold")).val[0].grader["reference"] == "7"
    (tmp_path / "val.jsonl").write_text(json.dumps({"input": "q"}) + "\n")
    with pytest.raises(DatasetError, match=r"val.jsonl:1: .*'expected', 'answer', 'output', 'target'.*reference_field"):
        load_splits(tmp_path)


def _project_skill(root: Path, name: str, text: str, splits: tuple[str, ...] = ("train", "val"), field: str = "answer") -> Path:
    folder = root / ".mimo" / "skills" / name
    (folder / "eval").mkdir(parents=True)
    (folder / "SKILL.md").write_text(text)
    source = app_skills_dir() / "date-normalizer" / "eval"
    for split in splits:
        rows = [json.loads(line) for line in (source / f"{split}.jsonl").read_text().splitlines() if line.strip()][:12]
        (folder / "eval" / f"{split}.jsonl").write_text(
            "".join(json.dumps({"id": r["id"], "input": r["input"], field: r["grader"]["reference"]}) + "\n" for r in rows))
    return folder


def test_train_and_val_are_enough_and_the_report_says_there_is_no_test(project_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _project_skill(project_dir, "dates", SKILL.replace("name: date-normalizer", "name: dates"))
    assert main(["skill", "train", "dates", "--epochs", "1", "--batch", "6"]) == 0
    out = capsys.readouterr()
    assert "test:       no test split (eval/test.jsonl): the scores above are on validation only" in out.out
    assert re.search(r"validation: baseline \d+\.\d%, best \d+\.\d%", out.out)
    summary = json.loads(next((project_dir / ".mimo" / "runs").glob("*/summary.json")).read_text())
    assert summary["test"]["final"]["note"] == "no test split: validation only"
    assert main(["skill", "runs"]) == 0 and "(no test split)" in capsys.readouterr().out


def test_a_skill_without_front_matter_says_what_to_add_or_init_adds_it(project_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    body = SKILL.split("---\n", 2)[2]
    folder = _project_skill(project_dir, "bare-dates", body)
    assert main(["skill", "train", "bare-dates", "--epochs", "1"]) == 2
    err = capsys.readouterr().err
    assert "has no front matter. Add these lines at the very top" in err
    assert "---\nname: bare-dates\ndescription: <what the skill does and when to use it>\n---" in err
    assert "mimo skill train bare-dates --init" in err and "Traceback" not in err
    assert main(["skill", "train", "bare-dates", "--init", "--epochs", "1", "--batch", "6"]) == 0
    text = (folder / "SKILL.md").read_text()
    assert text.startswith('---\nname: bare-dates\ndescription: "Texts from invoices') and '# Date normalizer\n\nTexts from invoices' in text
    assert "added front matter to" in capsys.readouterr().err
    log = main(["memory", "log"])
    assert log == 0 and "add front matter to skills/bare-dates/SKILL.md" in capsys.readouterr().out


def test_the_progress_says_why_a_step_made_no_edit(project_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def silent(messages: list[dict], tools: object, params: dict) -> OfflineReply:
        if "[skillopt:slow-update]" in messages[0]["content"]:
            return OfflineReply(text=json.dumps({"guidance": "Keep going."}))
        return OfflineReply(text='{"edits": []}')

    register_offline_model("silent-optimizer", silent)
    _project_skill(project_dir, "dates", SKILL.replace("name: date-normalizer", "name: dates"))
    assert main(["skill", "train", "dates", "--epochs", "1", "--batch", "6", "--optimizer", "offline/silent-optimizer"]) == 0
    err = capsys.readouterr().err
    assert re.search(r"no edit this step: nothing proposed: the optimizer suggested no edit for \d+ failing rollout", err)
    run = next((project_dir / ".mimo" / "runs").glob("*dates"))
    exchanges = [json.loads(line) for line in (run / "steps" / "step_0001" / "optimizer_prompts.jsonl").read_text().splitlines()]
    record = json.loads((run / "steps" / "step_0001" / "record.json").read_text())
    assert len(exchanges) == record["tokens"]["reflect"]["calls"] >= 1
    assert all(e["reply"] == '{"edits": []}' and e["messages"][1]["content"].startswith("CURRENT SKILL") for e in exchanges)
    assert (run / "slow_updates" / "epoch_0001" / "optimizer_prompts.jsonl").exists()
    # once the skill states every convention, the batches pass: nothing to fix
    good = SKILL.replace("name: date-normalizer", "name: solved").replace(
        "are read month first, as is common in the United States.", "give the day first, then the month.") + (
        "\nAlways write the month and the day with two digits. A two-digit year means a year in the 2000s: add 2000."
        "\nDates written with dots are numeric dates like those with slashes. Answer with the date only and nothing else.\n")
    _project_skill(project_dir, "solved", good)
    assert main(["skill", "train", "solved", "--epochs", "1", "--batch", "6"]) == 0
    assert "no edit this step: nothing to fix: all 6 training rollouts passed" in capsys.readouterr().err


def _fresh_skill(tp: TrainerProject) -> None:
    """Start again from the seed skill (the trainer edits the project's copy)."""
    if tp.project.store.read("skills/date-normalizer/SKILL.md").exists:
        tp.project.store.delete("skills/date-normalizer/SKILL.md", message="test: back to the seed skill")


async def _spent(tp: TrainerProject, **config: object) -> tuple[CostEstimate, int]:
    prepared = tp.start(tp.config(**config))
    estimate = prepared.trainer.estimate(price_with(prepared.trainer.gateway))
    summary = await prepared.trainer.run(estimate)
    return estimate, summary["spent"]["calls"]


async def test_the_estimate_is_within_a_quarter_of_a_fresh_run_and_counts_cached_answers(trainer_project: TrainerProject) -> None:
    for config in ({"epochs": 1}, {"epochs": 2}, {"epochs": 2, "samples": 2}):
        _fresh_skill(trainer_project)
        estimate, calls = await _spent(trainer_project, **config)
        assert abs(estimate.calls - calls) <= 0.25 * calls, (config, estimate.calls, calls)
        assert estimate.calls_max >= calls and estimate.cached == 0
    # warm cache: a run stopped by its call cap resumes; the estimate counts what is cached and what is done
    _fresh_skill(trainer_project)
    first = trainer_project.start(trainer_project.config(epochs=2, max_calls=80))
    stopped = await first.trainer.run(CostEstimate(0, 0, 0, 0.0, True))
    assert not stopped["completed"]
    resumed = resume_run(first.run.path, trainer_project.project.store, {}, trainer_project.gateway_factory(),
                         overrides={"max_calls": 100_000})
    estimate = resumed.trainer.estimate(price_with(resumed.trainer.gateway))
    summary = await resumed.trainer.run(estimate, resumed=True)
    segment = summary["spent"]["calls"] - stopped["spent"]["calls"]
    assert estimate.cached > 0 and abs(estimate.calls - segment) <= 0.25 * segment, (estimate, segment)
