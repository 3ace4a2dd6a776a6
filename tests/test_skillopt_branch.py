"""Branching a run from a step: a new run that starts from the parent's state there and shares its call cache."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mimo_tui.cli import main
from mimo_tui.skillopt.branching import branch_run
from mimo_tui.skillopt.budget import CostEstimate
from mimo_tui.skillopt.run_folder import read_events
from mimo_tui.skillopt.staging import StagingError, load_proposal
from tests.fixtures.skillopt_project import TrainerProject

NO_ESTIMATE = CostEstimate(0, 0, 0, 0.0, True)


def _cached_answers(cache: Path) -> int:
    return sum(1 for _ in cache.rglob("*.json"))


async def test_a_branch_makes_no_call_for_work_its_parent_did(trainer_project: TrainerProject) -> None:
    parent = trainer_project.start(trainer_project.config(epochs=2))
    done = await parent.trainer.run(NO_ESTIMATE)
    assert done["completed"] and done["spent"]["calls"] > 100
    # The same settings from step 1: every answer is in the parent's cache, so the branch asks nothing.
    same = trainer_project.resume(branch_run(parent.run.path, 1, {}))
    summary = await same.trainer.run(NO_ESTIMATE, resumed=True)
    assert summary["completed"] and summary["spent"]["calls"] == 0
    assert summary["history"] == done["history"] and summary["test"] == done["test"]
    config = json.loads((same.run.path / "config.json").read_text())
    assert config["parent_run"] == parent.run.run_id and config["parent_step"] == 1
    assert load_proposal(same.run.path)["parent"] == {"run": parent.run.run_id, "step": 1}
    events = read_events(same.run.path)
    assert [e["step"] for e in events if e["type"] == "step_finished"][:1] == [1]  # the parent's history comes along
    # Changed settings: only new work is asked for, and each answer is added to the shared cache once.
    before = _cached_answers(parent.run.path / "cache")
    other = trainer_project.resume(branch_run(parent.run.path, 1, {"edit_budget": 1, "epochs": 3}))
    changed = await other.trainer.run(NO_ESTIMATE, resumed=True)
    assert changed["completed"] and 0 < changed["spent"]["calls"] < done["spent"]["calls"]
    assert _cached_answers(parent.run.path / "cache") - before == changed["spent"]["calls"]
    assert not (other.run.path / "cache").exists()


async def test_branching_from_a_step_the_run_never_reached_is_refused(trainer_project: TrainerProject) -> None:
    parent = trainer_project.start(trainer_project.config())
    await parent.trainer.run(NO_ESTIMATE)
    with pytest.raises(StagingError, match=r"kept no state after step 9; branchable: steps 0-3"):
        branch_run(parent.run.path, 9, {})
    with pytest.raises(StagingError, match="a branch cannot change dataset"):
        branch_run(parent.run.path, 1, {"dataset": "/elsewhere"})


def test_mimo_skill_branch_from_the_shell(project_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["skill", "train", "date-normalizer", "--epochs", "1"]) == 0
    parent = next((project_dir / ".mimo" / "runs").iterdir()).name
    capsys.readouterr()
    assert main(["skill", "branch", parent, "--from-step", "1", "--edit-budget", "2"]) == 0
    captured = capsys.readouterr()
    assert f"of {parent} from step 1" in captured.err and "(resumed)" in captured.err
    assert main(["skill", "branch", parent, "--from-step", "7"]) == 2
    assert "kept no state after step 7" in capsys.readouterr().err
