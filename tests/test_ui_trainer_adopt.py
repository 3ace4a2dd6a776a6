"""Adopt and discard from the trainer dashboard (issue 17): a key shows what adopting would change, y commits it
as skillopt; discarding leaves the live skill as it was."""

from __future__ import annotations

import subprocess
from pathlib import Path

from mimo_tui.project import Project
from mimo_tui.ui.trainer.confirm_run_action import ConfirmRunAction
from mimo_tui.ui.trainer_pane import TrainerPane
from tests.fixtures.trainer_runs import install_run
from tests.fixtures.ui import make_app, wait_until

SIZE = (120, 40)


def _memory_log(root: Path) -> list[str]:
    mimo = root / ".mimo"
    out = subprocess.run(["git", f"--git-dir={mimo / '.git'}", f"--work-tree={mimo}", "log", "--format=%an|%s"],
                         capture_output=True, text=True, check=True).stdout
    return out.splitlines()


async def test_adopt_from_the_dashboard_is_one_skillopt_commit_and_discard_changes_nothing(
        git_project: Path, demo_run: Path) -> None:
    run_dir = install_run(git_project, demo_run)
    live = Project.open(git_project).workspace.mimo_dir / "skills" / "date-normalizer" / "SKILL.md"
    before = _memory_log(git_project)
    app = make_app(git_project)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.project is not None)
        await pilot.press("f4")
        await wait_until(pilot, lambda: bool(app.query(TrainerPane)))
        pane = app.query_one(TrainerPane)
        await wait_until(pilot, lambda: pane.view is not None and pane.view.finished)
        pane.focus()
        await pilot.press("D")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmRunAction))
        await pilot.press("y")
        await wait_until(pilot, lambda: any("proposal discarded" in str(n.message) for n in app._notifications))
        assert _memory_log(git_project) == before and not live.exists()
        await pilot.press("a")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmRunAction))
        assert "Adopt v0002 (best)" in app.screen.question and "+" in app.screen.detail
        await pilot.press("n")
        await wait_until(pilot, lambda: not isinstance(app.screen, ConfirmRunAction))
        assert _memory_log(git_project) == before
        await pilot.press("a")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmRunAction))
        await pilot.press("y")
        await wait_until(pilot, lambda: any("skillopt: adopt run" in str(n.message) for n in app._notifications))
        log = _memory_log(git_project)
        assert len(log) == len(before) + 1 and log[0].startswith(f"skillopt|skillopt: adopt run {run_dir.name} v0002 (best")
        assert live.read_text() == (run_dir / "skills" / "skill_v0002.md").read_text()
