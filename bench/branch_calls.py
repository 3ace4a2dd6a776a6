"""Calls saved by branching a run instead of training again from scratch (offline demo models, real run folders).

A parent run of the shipped demo (2 epochs) is branched from each of its steps with a changed edit budget (and once
with the parent's own settings); each branch is set beside a fresh run with the branch's settings. Printed: provider
calls of the parent, of each branch, of the fresh run, and the share the branch saved. Offline models answer at once,
so calls, not seconds, are the figure. Run from the repository root: `python bench/branch_calls.py`.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mimo_tui.llm import Gateway, ResponseCache  # noqa: E402
from mimo_tui.project import Project  # noqa: E402
from mimo_tui.skillopt.branching import branch_run  # noqa: E402
from mimo_tui.skillopt.budget import CostEstimate  # noqa: E402
from mimo_tui.skillopt.catalogue import find_skills  # noqa: E402
from mimo_tui.skillopt.config import TrainConfig  # noqa: E402
from mimo_tui.skillopt.session import new_run, resume_run  # noqa: E402

NO_ESTIMATE = CostEstimate(0, 0, 0, 0.0, True)


def gateway(cache: ResponseCache) -> Gateway:
    return Gateway(max_concurrency=8, max_retries=1, timeout_s=30, cache=cache)


async def main() -> None:
    with tempfile.TemporaryDirectory(prefix="mimo-branch-bench-") as scratch:
        root = Path(scratch) / "proj"
        root.mkdir()
        project = Project.open(root)
        entry = next(e for e in find_skills(root, project.workspace.mimo_dir) if e.name == "date-normalizer")
        runs = project.workspace.runs_dir

        async def fresh(**settings: object) -> int:
            prepared = new_run(TrainConfig(skill="date-normalizer", epochs=2, **settings), project.store, runs, entry, {}, gateway)
            return int((await prepared.trainer.run(NO_ESTIMATE))["spent"]["calls"])

        parent = new_run(TrainConfig(skill="date-normalizer", epochs=2), project.store, runs, entry, {}, gateway)
        summary = await parent.trainer.run(NO_ESTIMATE)
        steps = int(summary["steps"])
        scratch_calls = {"same": int(summary["spent"]["calls"]), "edit_budget 1": await fresh(edit_budget=1)}
        print(f"parent: {summary['spent']['calls']} calls, {steps} steps (2 epochs)")
        print(f"{'from step':>9} {'settings':<14} {'branch calls':>12} {'fresh run':>9} {'saved':>6}")
        for step in sorted({0, 1, steps // 2, steps}):
            for label, settings in (("same", {}), ("edit_budget 1", {"edit_budget": 1})):
                # each branch beside a pristine copy of the parent, so one branch's answers do not help the next
                copy = runs / f"{parent.run.run_id}-copy-{step}-{len(settings)}"
                shutil.copytree(parent.run.path, copy)
                branch = resume_run(branch_run(copy, step, settings), project.store, {}, gateway)
                calls = int((await branch.trainer.run(NO_ESTIMATE, resumed=True))["spent"]["calls"])
                base = scratch_calls[label]
                print(f"{step:>9} {label:<14} {calls:>12} {base:>9} {1 - calls / base:>6.0%}")

if __name__ == "__main__":
    asyncio.run(main())
