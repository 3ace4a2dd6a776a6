"""Branch a run: a new run that starts where another was right after step N, with changed settings, sharing its
history (versions, step records, events up to that step) and its call cache (no repeated call for work it did)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from mimo_tui.skillopt.config import TrainConfig
from mimo_tui.skillopt.run_folder import RunFolder, read_events, skill_version_path, state_after_step
from mimo_tui.skillopt.staging import BASELINE, StagingError

BRANCHABLE = ("epochs", "edit_budget", "edit_budget_end", "samples", "target", "optimizer", "judge", "max_calls", "max_usd",
              "batch", "seed", "alpha", "margin")


def branch_run(parent_dir: Path, step: int, overrides: dict[str, Any]) -> Path:
    """Create the branch's run folder, ready to resume; returns its path."""
    snapshot = parent_dir / state_after_step(step)
    if not snapshot.is_file():
        steps = sorted(int(p.stem.rsplit("_", 1)[1]) for p in (parent_dir / "states").glob("after_step_*.json"))
        known = f"steps {steps[0]}-{steps[-1]}" if steps else "none (the run is older than branching, or never scored its baseline)"
        raise StagingError(f"run {parent_dir.name} kept no state after step {step}; branchable: {known}")
    state = json.loads(snapshot.read_text(encoding="utf-8"))
    config = TrainConfig.from_dict(json.loads((parent_dir / "config.json").read_text(encoding="utf-8")))
    for key, value in overrides.items():
        if value is not None:
            if key not in BRANCHABLE:
                raise StagingError(f"a branch cannot change {key}")
            setattr(config, key, value)
    if config.edit_budget_end > config.edit_budget:
        config.edit_budget_end = config.edit_budget
    problems = config.check()
    if problems:
        raise StagingError("; ".join(problems))
    config.parent_run, config.parent_step = parent_dir.name, step
    config.cache_dir = config.cache_dir or str(parent_dir / "cache")
    run = RunFolder.create(parent_dir.parent, f"{config.skill}-branch")
    run.write_json("config.json", config.to_dict())
    for number in range(1, int(state.get("version", 1)) + 1):
        if skill_version_path(parent_dir, number).exists():
            run.write_skill_version(number, RunFolder(parent_dir).read_skill_version(number))
    for number in range(1, step + 1):
        folder = parent_dir / "steps" / f"step_{number:04d}"
        if folder.is_dir():
            shutil.copytree(folder, run.path / "steps" / folder.name)
    if (parent_dir / BASELINE).exists():
        shutil.copy2(parent_dir / BASELINE, run.path / BASELINE)
    _copy_events(parent_dir, run, step)
    # The branch pays its own way: its spend starts at zero (the parent's spend stays the parent's).
    state.update(spent_calls=0, spent_usd=0.0, spent_prompt_tokens=0, spent_completion_tokens=0, stop_reason=None,
                 elapsed_s=0.0)
    run.write_json("runtime_state.json", state)
    run.write_json(state_after_step(step), state)
    return run.path


def _copy_events(parent_dir: Path, run: RunFolder, step: int) -> None:
    """The parent's events up to the end of step N, so the branch's dashboard shows the history it starts from."""
    lines = []
    for event in read_events(parent_dir):
        kind = event.get("type")
        if kind == "step_started" and int(event.get("step", 0)) > step:
            break
        if kind in ("run_finished", "test_scored", "epoch_finished", "slow_update", "credit_scored"):
            continue
        lines.append(json.dumps(event, ensure_ascii=False, default=str) + "\n")
        if kind == "step_finished" and int(event.get("step", 0)) == step:
            break
    (run.path / "events.jsonl").write_text("".join(lines), encoding="utf-8")
