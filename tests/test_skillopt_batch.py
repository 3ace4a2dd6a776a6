"""An epoch on a small training split has several steps: the batch is capped at half the training split (one step
an epoch learned too little on bench/skill_learning.py), and an explicit smaller batch is kept."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mimo_tui.cli import main
from mimo_tui.skills import app_skills_dir

SOURCE = app_skills_dir() / "date-normalizer"


@pytest.fixture
def skill_project(project_dir: Path) -> Path:
    root = project_dir
    folder = root / ".mimo" / "skills" / "dates"
    (folder / "eval").mkdir(parents=True)
    (folder / "SKILL.md").write_text((SOURCE / "SKILL.md").read_text().replace("name: date-normalizer", "name: dates"))
    for split, count in (("train", 21), ("val", 12)):
        rows = [json.loads(line) for line in (SOURCE / "eval" / f"{split}.jsonl").read_text().splitlines() if line.strip()]
        assert len(rows) >= count
        (folder / "eval" / f"{split}.jsonl").write_text("".join(
            json.dumps({"id": r["id"], "input": r["input"], "answer": r["grader"]["reference"]}) + "\n" for r in rows[:count]))
    return root


def _steps(root: Path) -> int:
    (run,) = [p for p in (root / ".mimo" / "runs").iterdir() if p.is_dir()]
    return len([p for p in (run / "steps").iterdir() if p.name.startswith("step_")])


def test_the_default_batch_gives_a_small_training_split_several_steps_an_epoch(skill_project: Path) -> None:
    assert main(["skill", "train", "dates", "--epochs", "1"]) == 0
    assert _steps(skill_project) == 3  # 21 items: batches of 10, 10 and 1, not one step of 21


def test_an_explicit_smaller_batch_is_kept(skill_project: Path) -> None:
    assert main(["skill", "train", "dates", "--epochs", "1", "--batch", "4"]) == 0
    assert _steps(skill_project) == 6
